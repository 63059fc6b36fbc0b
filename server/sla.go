package server

import (
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/sla"
)

// slaView is a promise's deadline and where it stands now.
type slaView struct {
	Due     time.Time `json:"due"`
	State   sla.State `json:"state"`
	Warning string    `json:"warning,omitempty"`
}

func (s *Server) visitSLA(v *fieldsync.Visit) slaView {
	met := v.ArrivedAt
	if v.Status == fieldsync.VisitCancelled {
		met = v.FinishedAt // a cancelled visit's promise is void, not broken
		if met == nil || met.After(v.Due) {
			met = &v.Due
		}
	}
	return slaView{Due: v.Due, State: s.deps.Policy.State(v.Due, met, s.deps.Now()), Warning: v.DueWarning}
}

func (s *Server) ticketSLA(t *fieldsync.Ticket) slaView {
	return slaView{Due: t.FirstResponseDue, State: s.deps.Policy.State(t.FirstResponseDue, t.FirstContactAt, s.deps.Now()), Warning: t.DueWarning}
}

// promises holds the server's SLA policy to its business calendar.
func (s *Server) promises() promises {
	return promises{s.deps.Policy, s.deps.Calendar}
}

type promises struct {
	policy sla.Policy
	cal    *calendar.Calendar
}

func (p promises) OnSiteDue(zone fieldsync.Zone, intake time.Time) (time.Time, string, error) {
	d, err := p.policy.OnSiteDue(p.cal, zone, intake)
	return d.Due, d.Warning, err
}

func (p promises) SecondVisitDue(asked time.Time) (time.Time, string, error) {
	d, err := p.policy.SecondVisitDue(p.cal, asked)
	return d.Due, d.Warning, err
}

func (p promises) ComplaintDue(opened time.Time) (contact, resolution time.Time, warning string, err error) {
	c, r, err := p.policy.ComplaintDue(p.cal, opened)
	if warning = c.Warning; warning == "" {
		warning = r.Warning
	}
	return c.Due, r.Due, warning, err
}

func (p promises) FirstContactDue(intake time.Time) (time.Time, string, error) {
	d, err := p.policy.FirstContactDue(p.cal, intake)
	return d.Due, d.Warning, err
}
