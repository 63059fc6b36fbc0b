package auth

import (
	"sync"
	"time"
)

// Throttle slows password guessing. It counts failed logins per login
// name and per client address, and treats the two differently:
//
//   - A login past LoginLimit failures within the window gets a delay: the
//     next attempt, from anywhere, must wait LoginDelay after the last
//     failure, doubling with each further failure up to MaxLoginDelay. An
//     attempt within the delay is refused, the right password included, so
//     a guesser cannot learn whether a guess was right; an attempt after it
//     is checked, so the owner of the login, who knows the password, gets
//     in after at most MaxLoginDelay however many guesses others made.
//   - An address past AddrLimit failures is locked for BaseLock, doubling
//     per further failure up to MaxLock: one address guessing at many
//     logins is an attacker, and the lock stops only that address.
//
// Guessing at one login is thus bounded to one try per MaxLoginDelay, and
// at all logins to AddrLimit tries per address and window.
//
// State is in memory: a restart forgets it, which costs an attacker a
// restart of our server, not of theirs.
type Throttle struct {
	LoginLimit    int           // failures per login before the delay
	AddrLimit     int           // failures per client address before locking
	Window        time.Duration // failures older than this are forgotten
	LoginDelay    time.Duration // first delay of a login; doubles per further failure
	MaxLoginDelay time.Duration
	BaseLock      time.Duration // first lock of an address; doubles per further failure
	MaxLock       time.Duration
	MaxKeys       int // bound on tracked keys; expired ones are pruned first

	mu   sync.Mutex
	keys map[string]*strikes
}

type strikes struct {
	failures    int
	first       time.Time
	lockedUntil time.Time
}

// NewThrottle returns a throttle with defaults: past 5 failures of a login
// within 15 minutes, a delay from 1 second to 30 seconds; past 20 failures
// from an address, a lock from 1 minute to 1 hour.
func NewThrottle() *Throttle {
	return &Throttle{
		LoginLimit: 5, AddrLimit: 20, Window: 15 * time.Minute,
		LoginDelay: time.Second, MaxLoginDelay: 30 * time.Second,
		BaseLock: time.Minute, MaxLock: time.Hour, MaxKeys: 100_000,
	}
}

func loginKey(login string) string { return "l\x00" + login }
func addrKey(addr string) string   { return "a\x00" + addr }

// Wait returns how long login from addr must wait before trying again, or
// zero when it may try now.
func (t *Throttle) Wait(login, addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range []string{loginKey(login), addrKey(addr)} {
		if s := t.keys[k]; s != nil && now.Before(s.lockedUntil) {
			wait = max(wait, s.lockedUntil.Sub(now))
		}
	}
	return wait
}

// Fail records a failed attempt.
func (t *Throttle) Fail(login, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		t.keys = map[string]*strikes{}
	}
	if len(t.keys) >= t.MaxKeys {
		t.prune(now)
	}
	t.strike(loginKey(login), t.LoginLimit, t.LoginDelay, t.MaxLoginDelay, now)
	t.strike(addrKey(addr), t.AddrLimit, t.BaseLock, t.MaxLock, now)
}

func (t *Throttle) strike(key string, limit int, base, most time.Duration, now time.Time) {
	s := t.keys[key]
	if s == nil || (now.Sub(s.first) > t.Window && !now.Before(s.lockedUntil)) {
		s = &strikes{first: now}
		t.keys[key] = s
	}
	s.failures++
	if over := s.failures - limit; over >= 0 {
		lock := base << min(over, 20)
		if lock > most || lock <= 0 {
			lock = most
		}
		s.lockedUntil = now.Add(lock)
	}
}

// Succeed forgets the failures of login after a correct password. The
// address keeps its count: one good account must not launder guesses at
// others from the same address.
func (t *Throttle) Succeed(login string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, loginKey(login))
}

// prune forgets expired keys. If the map is still full, it then forgets
// unlocked keys (mere counts) and, only as a last resort, locked ones, down
// to 7/8 of MaxKeys, so that a flood of fresh keys (one per address) can
// neither grow the map without bound nor lift a lock.
func (t *Throttle) prune(now time.Time) {
	for k, s := range t.keys {
		if now.Sub(s.first) > t.Window && !now.Before(s.lockedUntil) {
			delete(t.keys, k)
		}
	}
	if t.MaxKeys <= 0 {
		return
	}
	target := t.MaxKeys - t.MaxKeys/8 - 2 // room for the two keys Fail adds
	for _, evictLocked := range []bool{false, true} {
		for k, s := range t.keys {
			if len(t.keys) <= target {
				return
			}
			if evictLocked || !now.Before(s.lockedUntil) {
				delete(t.keys, k)
			}
		}
	}
}
