package sla

import (
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync"
)

// The states of a promise whose work is over: it can no longer be kept,
// only have been.
const (
	Met    State = "met"    // kept by its deadline
	Missed State = "missed" // kept after its deadline
)

// OnSiteStates lists every state a visit's on-site promise can be in.
var OnSiteStates = []State{OK, AtRisk, Breached, Met, Missed}

// ParseOnSiteState returns EInvalid for a state no visit's on-site
// promise takes.
func ParseOnSiteState(s string) (State, error) {
	for _, st := range OnSiteStates {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fieldsync.Errorf(fieldsync.EInvalid, "unknown SLA state %q (want ok, at_risk, breached, met or missed)", s)
}

// Verdict is where a visit's on-site promise stands.
type Verdict struct {
	State State
	// Minutes is, when State is Met, how many whole minutes the arrival
	// came before the deadline (rounded down: 0 for an arrival in the
	// deadline's last minute), and when Missed, how many minutes after it
	// (rounded up: a miss by a second is a miss by 1 minute). 0 otherwise.
	Minutes int
}

// VisitState judges a visit's on-site promise at now. The promise is kept by
// the technician's arrival (ArrivedAt) by Due: the seeds' "服务到位".
//
//   - A cancelled visit's promise is void: OK, whatever the clock says.
//   - A visit whose work is over (completed or needs_second_visit) settled
//     its promise when it arrived: Met when it arrived by Due, Missed
//     when after, with the minutes early or late.
//   - Any other visit stands as Policy.State says: OK, AtRisk or Breached,
//     arrived or not.
func (p Policy) VisitState(v *fieldsync.Visit, now time.Time) Verdict {
	switch {
	case v.Status == fieldsync.VisitCancelled:
		return Verdict{State: OK}
	case v.Status.Terminal() && v.ArrivedAt != nil && !v.Due.IsZero():
		if late := v.ArrivedAt.Sub(v.Due); late > 0 {
			return Verdict{State: Missed, Minutes: int((late + time.Minute - 1) / time.Minute)}
		}
		return Verdict{State: Met, Minutes: int(v.Due.Sub(*v.ArrivedAt) / time.Minute)}
	}
	return Verdict{State: p.State(v.Due, v.ArrivedAt, now)}
}

// WindowEndsAfterDue is the warning code of a booked window that ends
// after the visit's on-site deadline: a technician arriving late in the
// window misses the promise.
const WindowEndsAfterDue = "window_ends_after_due"

// WarningCodes lists every code Warnings gives.
var WarningCodes = []string{WindowEndsAfterDue}

// Warning is something a dispatcher should fix before it breaks a
// promise, with the minutes at stake.
type Warning struct {
	Code    string `json:"code"`
	Minutes int    `json:"minutes"`
	Detail  string `json:"detail"`
}

// Warnings lists what threatens a visit's on-site promise in its booking:
// WindowEndsAfterDue, with the minutes (rounded up) by which the window's
// end passes Due. Only a visit still to arrive is warned: once the
// technician is on site or the visit ended, the arrival (VisitState) tells
// the truth and the window no longer matters. Never nil.
func Warnings(v *fieldsync.Visit) []Warning {
	out := []Warning{}
	if v.ArrivedAt != nil || v.Status.Terminal() || v.Due.IsZero() {
		return out
	}
	if over := v.WindowEnd.Sub(v.Due); over > 0 {
		m := int((over + time.Minute - 1) / time.Minute)
		out = append(out, Warning{Code: WindowEndsAfterDue, Minutes: m,
			Detail: fmt.Sprintf("the visit window ends %d minutes after the on-site deadline %s", m, v.Due.UTC().Format(time.RFC3339))})
	}
	return out
}

// ParseWarningCode returns EInvalid for a code Warnings never gives.
func ParseWarningCode(s string) (string, error) {
	for _, c := range WarningCodes {
		if c == s {
			return c, nil
		}
	}
	return "", fieldsync.Errorf(fieldsync.EInvalid, "unknown SLA warning %q (want %s)", s, WindowEndsAfterDue)
}
