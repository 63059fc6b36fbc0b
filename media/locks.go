package media

import "sync"

// uploadLocks gives one writer at a time to each upload. An upload's
// entry lives while someone holds or waits for its lock, so ids that
// requests name (refused ones included) leave nothing behind.
type uploadLocks struct {
	mu sync.Mutex
	m  map[string]*uploadLock
}

type uploadLock struct {
	sync.Mutex
	refs int // holders and waiters; guarded by uploadLocks.mu
}

// lock takes the upload's lock and returns what releases it.
func (l *uploadLocks) lock(id string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*uploadLock{}
	}
	e := l.m[id]
	if e == nil {
		e = &uploadLock{}
		l.m[id] = e
	}
	e.refs++
	l.mu.Unlock()

	e.Lock()
	return func() {
		e.Unlock()
		l.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
}

// held counts the uploads with an entry.
func (l *uploadLocks) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
