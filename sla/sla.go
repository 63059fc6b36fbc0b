package sla

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

// Unit is how a Rule's amount is counted.
type Unit string

const (
	// Hours are clock hours: time passes on every day, working or not
	// (calendar.AddHours).
	Hours Unit = "hours"
	// BusinessHours count only the time on working days, each working day
	// being 24 hours long; weekends and public holidays are skipped, and a
	// make-up working day counts (calendar.AddBusinessHours).
	BusinessHours Unit = "business_hours"
	// Workdays are whole working days after the start date; the deadline is
	// the end (24:00) of the last one (calendar.AddWorkdays).
	Workdays Unit = "workdays"
)

// Units lists every unit.
var Units = []Unit{Hours, BusinessHours, Workdays}

// Bounds on a rule's amount. A promise longer than a year is a typing
// mistake in a policy file, not a service level.
const (
	MaxHours    = 366 * 24 // largest amount in Hours or BusinessHours
	MaxWorkdays = 366      // largest amount in Workdays
)

// Bounds on Policy.AtRisk.
const (
	MinAtRisk = time.Minute
	MaxAtRisk = 7 * 24 * time.Hour
)

// Rule is one promise: an amount of a unit, e.g. {24, "business_hours"}.
type Rule struct {
	Amount int  `json:"amount"`
	Unit   Unit `json:"unit"`
}

// String returns e.g. "24 business_hours".
func (r Rule) String() string { return strconv.Itoa(r.Amount) + " " + string(r.Unit) }

// Validate returns EInvalid unless the unit is known and the amount lies in
// 1..MaxHours (hours, business hours) or 1..MaxWorkdays (working days).
func (r Rule) Validate() error {
	var max int
	switch r.Unit {
	case Hours, BusinessHours:
		max = MaxHours
	case Workdays:
		max = MaxWorkdays
	case "":
		return fieldsync.Errorf(fieldsync.EInvalid, "unit is missing (want hours, business_hours or workdays)")
	default:
		return fieldsync.Errorf(fieldsync.EInvalid, "unknown unit %q (want hours, business_hours or workdays)", r.Unit)
	}
	if r.Amount < 1 || r.Amount > max {
		return fieldsync.Errorf(fieldsync.EInvalid, "amount %d %s is outside 1..%d", r.Amount, r.Unit, max)
	}
	return nil
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string, e.g. "4h" or "90m" (time.ParseDuration). A bare number is
// refused: "4" could be hours or minutes, and the file should say which.
type Duration time.Duration

// String formats d as its JSON form: "4h", "90m", or time.Duration's form
// when d is not a whole number of minutes.
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td != 0 && td%time.Hour == 0:
		return strconv.FormatInt(int64(td/time.Hour), 10) + "h"
	case td != 0 && td%time.Minute == 0:
		return strconv.FormatInt(int64(td/time.Minute), 10) + "m"
	}
	return td.String()
}

// MarshalJSON writes d as a string such as "4h".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string such as "4h" or "30m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"4h\" or \"30m\", not %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("bad duration %q (want e.g. \"4h\" or \"30m\")", s)
	}
	*d = Duration(v)
	return nil
}

// Policy is the set of SLA promises.
type Policy struct {
	// FirstContact runs from a ticket's creation to the first call.
	FirstContact Rule `json:"first_contact"`
	// OnSite runs from a ticket's creation to the technician's arrival; it
	// depends on the zone of the site and must name every zone.
	OnSite map[fieldsync.Zone]Rule `json:"on_site"`
	// FollowUp runs from a visit's completion to the satisfaction call.
	FollowUp Rule `json:"follow_up"`
	// SecondVisit runs from the visit that ordered parts to the arrival of
	// the second visit.
	SecondVisit Rule `json:"second_visit"`
	// AtRisk is the margin: a promise not yet kept is at risk once less
	// than this remains. JSON: a duration string, e.g. "4h".
	AtRisk Duration `json:"at_risk"`
	// ComplaintContact runs from a complaint's opening to the first
	// contact with the complainant.
	ComplaintContact Rule `json:"complaint_contact"`
	// ComplaintResolution runs from a complaint's opening to the proposal
	// of a resolution.
	ComplaintResolution Rule `json:"complaint_resolution"`
	// PickupReturn and PickupExchange run from the visit that settled on a
	// return or an exchange to the collection of the item (the pick-up
	// slip); for an exchange the new unit comes with it.
	PickupReturn   Rule `json:"pickup_return"`
	PickupExchange Rule `json:"pickup_exchange"`
	// AppraisalSlip runs from the report that finds a screen cracked on
	// unboxing to its fully printed (system) appraisal slip: the sealed
	// report.
	AppraisalSlip Rule `json:"appraisal_slip"`
}

// defaultJSON is the shipped policy. Each clock is chosen deliberately:
//
//   - first_contact is 24 clock hours: the hotline and the call-back team
//     work every day, holidays included, and the seeds promise a call
//     "24小时内联络" without mention of working days.
//   - on_site is counted in business hours on the calendar (24 city, 48
//     suburb, 72 township): technicians do not visit homes on weekends and
//     public holidays, so a ticket opened on the Friday evening before a
//     holiday is due after it, and only time on working days counts. A
//     make-up working day (调休上班) counts like any working day.
//   - follow_up (3) and second_visit (5) are working days: the seeds state
//     them in 工作日 ("3个工作日内回访", "3-5个工作日完成器件申请…再联络二次
//     上门"); for the second visit we promise the upper end, 5.
//   - at_risk is 4 hours: half a technician's working afternoon, enough to
//     reroute a visit before the promise breaks.
//   - complaint_contact is 24 clock hours and complaint_resolution 3
//     working days, both from the complaint's opening: the call-back team
//     works every day, the people who decide a resolution work on working
//     days.
//   - pickup_return (3), pickup_exchange (13) and appraisal_slip (2) are
//     working days, the upper ends of the seeds' ranges as for second_visit:
//     "退机…等待1-3个工作日", "换机…3-13个工作日", and for a screen found
//     cracked on unboxing "需要1-2个工作日，开具全打印…的系统鉴定单".
//
//go:embed default.json
var defaultJSON []byte

// defaultPolicy is parsed once at init; TestDefaultPolicy checks the file,
// so mustParse cannot fail in a built binary.
var defaultPolicy = mustParse(defaultJSON)

func mustParse(data []byte) Policy {
	p, err := ParsePolicy(data)
	if err != nil {
		panic(err)
	}
	return p
}

// DefaultPolicy returns the shipped policy from the embedded default.json:
// first contact within 24 clock hours; on site within 24 / 48 / 72
// business hours for a city / suburb / township; follow-up within 3 and a
// second visit within 5 working days; at risk with less than 4 h left; a
// complaint contacted within 24 clock hours and a resolution proposed
// within 3 working days; an item collected within 3 working days for a
// return and 13 for an exchange; a cracked-on-unboxing appraisal slip
// printed within 2 working days.
// Each call returns a fresh copy, which the caller may modify.
func DefaultPolicy() Policy {
	p := defaultPolicy
	p.OnSite = maps.Clone(defaultPolicy.OnSite)
	return p
}

// DefaultSource returns the JSON of the shipped policy, default.json, for
// an operator to start a policy file from.
func DefaultSource() []byte { return bytes.Clone(defaultJSON) }

// ParsePolicy parses a policy in the JSON form of default.json:
//
//	{"first_contact": {"amount": 24, "unit": "hours"},
//	 "on_site": {"city": {"amount": 24, "unit": "business_hours"},
//	             "suburb": {...}, "township": {...}},
//	 "follow_up": {"amount": 3, "unit": "workdays"},
//	 "second_visit": {"amount": 5, "unit": "workdays"},
//	 "pickup_return": {"amount": 3, "unit": "workdays"},
//	 "pickup_exchange": {"amount": 13, "unit": "workdays"},
//	 "appraisal_slip": {"amount": 2, "unit": "workdays"},
//	 "at_risk": "4h",
//	 "complaint_contact": {"amount": 24, "unit": "hours"},
//	 "complaint_resolution": {"amount": 3, "unit": "workdays"}}
//
// It is strict, because a silently dropped field means wrong deadlines:
// unknown fields, trailing data, a missing or unknown zone, a missing rule,
// an unknown unit, an amount outside its bounds and an at_risk outside
// MinAtRisk..MaxAtRisk are all EInvalid errors.
func ParsePolicy(data []byte) (Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fieldsync.Errorf(fieldsync.EInvalid, "sla policy: decoding JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Policy{}, fieldsync.Errorf(fieldsync.EInvalid, "sla policy: decoding JSON: data after the policy object")
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// Validate returns EInvalid unless every rule is valid, every zone has an
// on-site rule and no unknown zone has one, and AtRisk lies within
// MinAtRisk..MaxAtRisk.
func (p Policy) Validate() error {
	invalid := func(what string, err error) error {
		return fieldsync.Errorf(fieldsync.EInvalid, "sla policy: %s: %s", what, fieldsync.ErrorDetail(err))
	}
	if err := p.FirstContact.Validate(); err != nil {
		return invalid("first_contact", err)
	}
	for _, z := range fieldsync.Zones {
		r, ok := p.OnSite[z]
		if !ok {
			return fieldsync.Errorf(fieldsync.EInvalid, "sla policy: on_site has no rule for zone %q", z)
		}
		if err := r.Validate(); err != nil {
			return invalid("on_site "+string(z), err)
		}
	}
	for z := range p.OnSite {
		if fieldsync.ValidateZone(z) != nil {
			return fieldsync.Errorf(fieldsync.EInvalid, "sla policy: on_site: unknown zone %q (want city, suburb or township)", z)
		}
	}
	if err := p.FollowUp.Validate(); err != nil {
		return invalid("follow_up", err)
	}
	if err := p.SecondVisit.Validate(); err != nil {
		return invalid("second_visit", err)
	}
	if a := time.Duration(p.AtRisk); a < MinAtRisk || a > MaxAtRisk {
		return fieldsync.Errorf(fieldsync.EInvalid, "sla policy: at_risk %s is missing or outside %s..%s", p.AtRisk, Duration(MinAtRisk), Duration(MaxAtRisk))
	}
	if err := p.ComplaintContact.Validate(); err != nil {
		return invalid("complaint_contact", err)
	}
	if err := p.ComplaintResolution.Validate(); err != nil {
		return invalid("complaint_resolution", err)
	}
	for _, r := range []struct {
		name string
		rule Rule
	}{{"pickup_return", p.PickupReturn}, {"pickup_exchange", p.PickupExchange}, {"appraisal_slip", p.AppraisalSlip}} {
		if err := r.rule.Validate(); err != nil {
			return invalid(r.name, err)
		}
	}
	return nil
}

// Deadline returns when rule r, started at start, runs out on cal (nil
// means calendar.Default()). Hours add clock time; business hours count
// only time on working days; working days end at 24:00 of the nth working
// day after start's date (see the calendar package for the exact rules).
// The deadline is in China time and carries the calendar's warning when it
// crosses a year without a loaded holiday schedule. EInvalid for an
// invalid rule or a zero start.
func (p Policy) Deadline(cal *calendar.Calendar, r Rule, start time.Time) (calendar.Deadline, error) {
	if err := r.Validate(); err != nil {
		return calendar.Deadline{}, err
	}
	if start.IsZero() {
		return calendar.Deadline{}, fieldsync.Errorf(fieldsync.EInvalid, "an SLA clock needs a start time")
	}
	if cal == nil {
		cal = calendar.Default()
	}
	var (
		d   calendar.Deadline
		err error
	)
	switch r.Unit {
	case Hours:
		d, err = cal.AddHours(start, r.Amount)
	case BusinessHours:
		d, err = cal.AddBusinessHours(start, r.Amount)
	case Workdays:
		d, err = cal.AddWorkdays(start, r.Amount)
	}
	if err != nil {
		return calendar.Deadline{}, fmt.Errorf("sla: %s from %s: %w", r, start.Format(time.RFC3339), err)
	}
	return d, nil
}

// FirstContactDue is when the first call to the customer is due for a
// ticket opened at openedAt.
func (p Policy) FirstContactDue(cal *calendar.Calendar, openedAt time.Time) (calendar.Deadline, error) {
	return p.Deadline(cal, p.FirstContact, openedAt)
}

// OnSiteDue is when a technician must be on site for a ticket opened at
// openedAt at a site in zone. EInvalid for an unknown zone or one the
// policy has no rule for.
func (p Policy) OnSiteDue(cal *calendar.Calendar, zone fieldsync.Zone, openedAt time.Time) (calendar.Deadline, error) {
	if err := fieldsync.ValidateZone(zone); err != nil {
		return calendar.Deadline{}, err
	}
	r, ok := p.OnSite[zone]
	if !ok {
		return calendar.Deadline{}, fieldsync.Errorf(fieldsync.EInvalid, "the SLA policy has no on-site rule for zone %q", zone)
	}
	return p.Deadline(cal, r, openedAt)
}

// FollowUpDue is when the satisfaction call is due for a visit completed
// at completedAt.
func (p Policy) FollowUpDue(cal *calendar.Calendar, completedAt time.Time) (calendar.Deadline, error) {
	return p.Deadline(cal, p.FollowUp, completedAt)
}

// SecondVisitDue is when the second visit must be on site, for a visit
// that asked for one (parts to order) at askedAt.
func (p Policy) SecondVisitDue(cal *calendar.Calendar, askedAt time.Time) (calendar.Deadline, error) {
	return p.Deadline(cal, p.SecondVisit, askedAt)
}

// PickupDue is when the item must be collected for a return or an
// exchange settled at a visit finished at finishedAt. EInvalid for
// another kind.
func (p Policy) PickupDue(cal *calendar.Calendar, kind fieldsync.PickupKind, finishedAt time.Time) (calendar.Deadline, error) {
	switch kind {
	case fieldsync.PickupReturn:
		return p.Deadline(cal, p.PickupReturn, finishedAt)
	case fieldsync.PickupExchange:
		return p.Deadline(cal, p.PickupExchange, finishedAt)
	}
	return calendar.Deadline{}, fieldsync.Errorf(fieldsync.EInvalid, "kind: %q is not return or exchange", kind)
}

// AppraisalSlipDue is when the printed appraisal slip is due for a screen
// found cracked on unboxing by a report made at reportedAt.
func (p Policy) AppraisalSlipDue(cal *calendar.Calendar, reportedAt time.Time) (calendar.Deadline, error) {
	return p.Deadline(cal, p.AppraisalSlip, reportedAt)
}

// ComplaintDue returns when a complaint opened at openedAt must have its
// first contact and its proposed resolution; warning is the calendar's,
// if either deadline has one.
func (p Policy) ComplaintDue(cal *calendar.Calendar, openedAt time.Time) (contact, resolution calendar.Deadline, err error) {
	if contact, err = p.Deadline(cal, p.ComplaintContact, openedAt); err != nil {
		return
	}
	resolution, err = p.Deadline(cal, p.ComplaintResolution, openedAt)
	return
}

// State is where a promise stands.
type State string

const (
	OK       State = "ok"       // kept, or not yet due with more than the margin left
	AtRisk   State = "at_risk"  // not kept, and less than Policy.AtRisk is left
	Breached State = "breached" // kept late, or not kept and overdue
)

// States lists every state.
var States = []State{OK, AtRisk, Breached}

// ParseState returns EInvalid for an unknown state.
func ParseState(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fieldsync.Errorf(fieldsync.EInvalid, "unknown SLA state %q (want ok, at_risk or breached)", s)
}

// State says where a promise due at due stands at now. met is when the
// promise was kept (the arrival, the call), nil while it is not.
//
// A kept promise is Breached if it was kept after due and OK otherwise,
// whatever now is. A promise not yet kept is Breached once now is after
// due, AtRisk from due-AtRisk up to and including due itself, and OK
// before. A zero due (no promise was made) is OK.
func (p Policy) State(due time.Time, met *time.Time, now time.Time) State {
	switch {
	case due.IsZero():
		return OK
	case met != nil:
		if met.After(due) {
			return Breached
		}
		return OK
	case now.After(due):
		return Breached
	case !now.Before(due.Add(-time.Duration(p.AtRisk))):
		return AtRisk
	}
	return OK
}
