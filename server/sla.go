package server

import (
	"slices"
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

// visitSLAView is a visit's on-site promise: where it stands, by how
// much it was met or missed once settled, and what threatens it.
type visitSLAView struct {
	slaView
	EarlyMinutes *int          `json:"early_minutes,omitempty"`
	LateMinutes  *int          `json:"late_minutes,omitempty"`
	Warnings     []sla.Warning `json:"warnings"`
}

func (s *Server) visitSLA(v *fieldsync.Visit) visitSLAView {
	verdict := s.deps.Policy.VisitState(v, s.deps.Now())
	out := visitSLAView{slaView: slaView{Due: v.Due, State: verdict.State, Warning: v.DueWarning}, Warnings: sla.Warnings(v)}
	switch m := verdict.Minutes; verdict.State {
	case sla.Met:
		out.EarlyMinutes = &m
	case sla.Missed:
		out.LateMinutes = &m
	}
	return out
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

// visitSLAMatch selects visits by ?sla= (a state, sla.OnSiteStates) and
// ?sla_warning= (a code, sla.WarningCodes); nil when neither is given.
func (s *Server) visitSLAMatch(state, warning string) (func(*fieldsync.Visit) bool, error) {
	if state == "" && warning == "" {
		return nil, nil
	}
	var want sla.State
	var err error
	if state != "" {
		if want, err = sla.ParseOnSiteState(state); err != nil {
			return nil, fieldsync.Errorf(fieldsync.EInvalid, "sla must be ok, at_risk, breached, met or missed, not %q", state)
		}
	}
	if warning != "" {
		if warning, err = sla.ParseWarningCode(warning); err != nil {
			return nil, err
		}
	}
	return func(v *fieldsync.Visit) bool {
		if want != "" && s.deps.Policy.VisitState(v, s.deps.Now()).State != want {
			return false
		}
		return warning == "" || slices.ContainsFunc(sla.Warnings(v), func(w sla.Warning) bool { return w.Code == warning })
	}, nil
}

func (p promises) FirstContactDue(intake time.Time) (time.Time, string, error) {
	d, err := p.policy.FirstContactDue(p.cal, intake)
	return d.Due, d.Warning, err
}
