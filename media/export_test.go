package media

// OpenLocks counts the per-upload lock entries the service holds.
func (s *Service) OpenLocks() int { return s.locks.held() }

// LockWaiters counts who holds or waits for the upload's lock.
func (s *Service) LockWaiters(id string) int {
	s.locks.mu.Lock()
	defer s.locks.mu.Unlock()
	if e := s.locks.m[id]; e != nil {
		return e.refs
	}
	return 0
}
