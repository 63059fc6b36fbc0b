package bolt

import (
	"time"

	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/sla"
)

// clocks are the SLA policy and business calendar the store counts the
// deadlines it sets on its own (a follow-up's due time) by.
type clocks struct {
	policy sla.Policy
	cal    *calendar.Calendar
}

// SetPolicy gives the store the SLA policy and calendar its deadlines
// count on: the server's, so a deadline the store sets agrees with those
// the server computes and tablets are sent. Until it is called, or for a
// zero policy or nil calendar, the shipped defaults count.
func (s *DB) SetPolicy(p sla.Policy, cal *calendar.Calendar) {
	if p.OnSite == nil {
		p = sla.DefaultPolicy()
	}
	if cal == nil {
		cal = calendar.Default()
	}
	s.clocks.Store(&clocks{policy: p, cal: cal})
}

// slaClocks are the policy and calendar the store counts on (SetPolicy),
// the shipped ones until it is called.
func (s *DB) slaClocks() clocks {
	if c := s.clocks.Load(); c != nil {
		return *c
	}
	return clocks{policy: sla.DefaultPolicy(), cal: calendar.Default()}
}

// calendar is the business calendar the store counts on.
func (s *DB) calendar() *calendar.Calendar { return s.slaClocks().cal }

// followUpDue is the follow-up deadline of a visit completed at done.
func (s *DB) followUpDue(done time.Time) (calendar.Deadline, error) {
	c := s.slaClocks()
	return c.policy.FollowUpDue(c.cal, done)
}
