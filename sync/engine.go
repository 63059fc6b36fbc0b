package syncproto

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	pricing "github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/warranty"
)

// Codes of refused mutations, beside the domain's own (invalid_transition,
// report_sealed, report_incomplete, unknown_field, not_found, forbidden,
// invalid, a quote's quote_mismatch, and a sign action's seal_hash_mismatch and
// bad_device_signature, which are rejections: the signature itself is
// wrong, and sending it again cannot change that).
const (
	CodeSeqGap          = "seq_gap"
	CodeUnknownEntity   = "unknown_entity"
	CodeUnknownOp       = "unknown_op"
	CodeVisitReassigned = "visit_reassigned"
	CodeBadHLC          = "bad_hlc"
	CodeBatchTooLarge   = "batch_too_large"
	CodeTooLarge        = "mutation_too_large"
)

// MaxSkew is how far ahead of the server's clock a device's stamp may be.
const MaxSkew = fieldsync.MaxClockSkew

// Bounds of the refused work the store keeps per device. Past them the
// oldest refusals are pruned, as are refusals older than MaxRefusedAge: a
// refused mutation is always answered, but kept only within these bounds.
// A mutation refused as mutation_too_large is kept without its fields.
const (
	MaxRefusedPerDevice      = 1000
	MaxRefusedBytesPerDevice = 8 << 20
	MaxRefusedAge            = 90 * 24 * time.Hour
)

// Refusal is a mutation the server did not apply, kept for dispatchers
// (within the bounds above), so work a technician really did is not
// silently dropped.
type Refusal struct {
	DeviceID string    `json:"device_id"`
	Install  string    `json:"install_id,omitempty"` // whose seqs Mutation.Seq counts in
	UserID   string    `json:"user_id"`
	Mutation Mutation  `json:"mutation"`
	Status   string    `json:"status"` // conflict or rejected
	Code     string    `json:"code"`
	Detail   string    `json:"detail"`
	VisitID  string    `json:"visit_id,omitempty"` // the visit the work belongs to, when known
	At       time.Time `json:"at"`
}

// Txn is what the engine needs of the store inside one push transaction.
// Reads return nil, nil for a missing record. Seqs and refusals are kept
// per install (Principal.Install).
type Txn interface {
	// DeviceSeq returns the highest seq applied from an install; started
	// is false while it has pushed nothing.
	DeviceSeq(install string) (last int64, started bool, err error)
	SetDeviceSeq(install string, seq int64) error
	Visit(id string) (*fieldsync.Visit, error)
	Report(id string) (*fieldsync.Report, error)
	// Ticket, Asset and Device read what a sign action is checked
	// against: the records its canonical document is rebuilt from, and
	// the pushing device (of user) with its registered keys.
	Ticket(id string) (*fieldsync.Ticket, error)
	Asset(id string) (*fieldsync.Asset, error)
	Device(userID, deviceID string) (*fieldsync.Device, error)
	// PutVisit and PutReport store the record, audit the change and
	// publish it to the partitions that see it (staff, and the technician
	// of the visit); they return its new revision. changes names what the
	// push changed, so the store need not diff the whole record.
	PutVisit(v *fieldsync.Visit, changes map[string]json.RawMessage, actor fieldsync.Actor, action string, now time.Time) (int64, error)
	PutReport(r *fieldsync.Report, created bool, visit *fieldsync.Visit, changes map[string]json.RawMessage, actor fieldsync.Actor, action string, now time.Time) (int64, error)
	DeleteReport(r *fieldsync.Report, actor fieldsync.Actor, now time.Time) (int64, error)
	Rev(entity fieldsync.Entity, id string) (int64, error)
	// Refuse keeps a refusal, within the bounds of MaxRefusedPerDevice,
	// MaxRefusedBytesPerDevice and MaxRefusedAge (pruning the device's
	// oldest refusals to stay within them).
	Refuse(r Refusal) error
	// Refusal returns the refusal of an install's seq, or nil.
	Refusal(install string, seq int64) (*Refusal, error)
	// RefusedRecord returns the visit of a record some earlier mutation of
	// the install about it was refused for, or "".
	RefusedRecord(install string, entity fieldsync.Entity, id string) (string, error)
	// WasAssigned reports whether the visit was ever assigned to the
	// technician, now or before.
	WasAssigned(visitID, technician string) (bool, error)
	// Install returns an install (with its slip prefix), or nil;
	// SlipReport the id of the report holding a slip number, or "".
	Install(id string) (*fieldsync.Install, error)
	SlipReport(no string) (string, error)
	// TicketReports returns the reports of a ticket's visits, as the push
	// has left them so far.
	TicketReports(ticketID string) ([]*fieldsync.Report, error)
	// Certificates returns the warranty certificates of an asset's
	// repaired parts, which the warranty decision counts as earlier
	// repairs.
	Certificates(assetID string) ([]fieldsync.Certificate, error)
}

// Store runs fn in one read-write transaction (one fsync): if fn fails,
// nothing of the batch is written. Concurrent pushes may share the
// transaction, and fn may then run more than once (when another push in
// it fails): it must start afresh each time, keeping nothing from a run
// before.
type Store interface {
	Push(ctx context.Context, fn func(Txn) error) error
}

// Principal is who pushes: a user's device, and the install of the app on
// it that the access token was issued to.
type Principal struct {
	UserID  string
	Role    fieldsync.Role
	Device  string
	Install string
}

// Engine applies pushes.
type Engine struct {
	Store     Store
	Templates func(id string) (fieldsync.Template, bool)
	Now       func() time.Time
	// Warranty and Calendar decide again the warranty decision an edit
	// of a report carries (warranty.Recheck): the zero Warranty is
	// warranty.DefaultPolicy(), a nil Calendar calendar.Default().
	Warranty warranty.Policy
	Calendar *calendar.Calendar
	// Prices is the price list a report's quote (recheckQuote) and a
	// pick-up slip's deductions (recheckPickup) are priced again on; the
	// zero value is quote.Default().
	Prices pricing.PriceList
}

// priceList is Prices, or the shipped list when none is set.
func (e *Engine) priceList() pricing.PriceList {
	if e.Prices.Version == "" {
		return pricing.Default()
	}
	return e.Prices
}

// Push applies a batch in order, in one transaction, and answers each
// mutation. A batch-level error (EInvalid, EForbidden) means nothing was
// applied.
func (e *Engine) Push(ctx context.Context, p Principal, req PushRequest) (*PushResponse, error) {
	if req.DeviceID != p.Device {
		return nil, fieldsync.Errorf(fieldsync.EForbidden, "device_id %q is not the device of this token", req.DeviceID)
	}
	if req.InstallID == "" {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "install_id is required: send the install_id the login answered")
	}
	if req.InstallID != p.Install {
		return nil, fieldsync.Errorf(fieldsync.EForbidden, "install_id %q is not the install of this token: sign in again on this database", req.InstallID)
	}
	if len(req.Mutations) > MaxPushMutations {
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "a push holds at most %d mutations", MaxPushMutations)
	}
	now := e.Now().UTC()
	actor := fieldsync.Actor{UserID: p.UserID, DeviceID: p.Device}
	var resp PushResponse
	err := e.Store.Push(ctx, func(tx Txn) error {
		resp.Results = make([]Result, 0, len(req.Mutations))
		last, started, err := tx.DeviceSeq(p.Install)
		if err != nil {
			return err
		}
		if !started && len(req.Mutations) > 0 {
			// A new install's seqs begin where its first push begins: nothing
			// was applied from it, so no seq can be a duplicate, and a
			// database whose install the server issued anew (another user
			// signed in, the server restored) goes on with its outbox.
			last = max(req.Mutations[0].Seq-1, 0)
		}
		gap := false
		for i, m := range req.Mutations {
			switch {
			case i >= MaxBatch:
				// Over the batch size: answered one by one and not consumed,
				// so the device sends them again in its next batch.
				resp.Results = append(resp.Results, Result{Seq: m.Seq, Status: Rejected, Code: CodeBatchTooLarge,
					Detail: "a push applies at most " + itoa(MaxBatch) + " mutations; send the rest again"})
				continue
			case m.Seq <= last:
				// Seen before. A refusal is answered again, so a device whose
				// first answer was lost still learns of it; nothing changes.
				prior, err := tx.Refusal(p.Install, m.Seq)
				if err != nil {
					return err
				}
				if prior != nil {
					resp.Results = append(resp.Results, Result{Seq: m.Seq, Status: prior.Status, Code: prior.Code, Detail: prior.Detail})
					continue
				}
				rev, err := tx.Rev(m.Entity, m.ID)
				if err != nil {
					return err
				}
				resp.Results = append(resp.Results, Result{Seq: m.Seq, Status: Duplicate, Rev: rev})
				continue
			case gap || m.Seq != last+1:
				// Not consumed: the device must send the missing seq first.
				gap = true
				resp.Results = append(resp.Results, Result{Seq: m.Seq, Status: Rejected, Code: CodeSeqGap,
					Detail: "expected seq " + itoa(last+1)})
				continue
			}
			res, err := e.apply(tx, p, actor, m, now)
			if err != nil {
				return err
			}
			if res.Status == Conflict || res.Status == Rejected {
				visitID, err := e.refusedVisit(tx, p, m)
				if err != nil {
					return err
				}
				kept := m
				if res.Code == CodeTooLarge {
					kept.Fields = nil
				}
				if err := tx.Refuse(Refusal{DeviceID: p.Device, Install: p.Install, UserID: p.UserID, Mutation: kept, Status: res.Status, Code: res.Code, Detail: res.Detail, VisitID: visitID, At: now}); err != nil {
					return err
				}
			}
			resp.Results = append(resp.Results, res)
			last = m.Seq
		}
		if !started && len(req.Mutations) == 0 {
			return nil // an empty push starts nothing
		}
		return tx.SetDeviceSeq(p.Install, last)
	})
	if err != nil {
		return nil, err
	}
	return &resp, nil
}

// refusedVisit returns the visit a refused mutation's work belongs to, ""
// when none is known or when the pusher may not see it: a refusal is
// shown on a visit only if the visit exists and is, or was, the pushing
// technician's (or the pusher is staff), so nobody can hang junk on
// another technician's visit.
func (e *Engine) refusedVisit(tx Txn, p Principal, m Mutation) (string, error) {
	var visitID string
	switch m.Entity {
	case fieldsync.EntityVisit:
		visitID = m.ID
	case fieldsync.EntityReport:
		r, err := tx.Report(m.ID)
		switch {
		case err != nil:
			return "", err
		case r != nil:
			visitID = r.VisitID
		case m.Fields["visit_id"] != nil:
			// A visit_id that is no string leaves the refusal without a
			// visit; the refusal itself says what was wrong.
			_ = json.Unmarshal(m.Fields["visit_id"], &visitID)
		default:
			if visitID, err = tx.RefusedRecord(p.Install, m.Entity, m.ID); err != nil {
				return "", err
			}
		}
	}
	if visitID == "" {
		return "", nil
	}
	v, err := tx.Visit(visitID)
	if err != nil || v == nil {
		return "", err
	}
	if hidden, err := e.hidden(tx, p, v); err != nil || hidden {
		return "", err
	}
	return visitID, nil
}

// apply answers one in-order mutation. Its error is a store fault; the
// mutation's own faults are results.
func (e *Engine) apply(tx Txn, p Principal, actor fieldsync.Actor, m Mutation, now time.Time) (Result, error) {
	refuse := func(status, code, detail string) (Result, error) {
		return Result{Seq: m.Seq, Status: status, Code: code, Detail: detail}, nil
	}
	stamp, err := ParseHLC(m.HLC)
	if err != nil {
		return refuse(Rejected, CodeBadHLC, err.Error())
	}
	// The device's own time of the step; the domain bounds it (StepTime).
	// It is kept beside the step when far off, so it must encode in JSON.
	deviceAt := time.UnixMilli(min(stamp.Wall, maxWall)).UTC().Truncate(time.Second)
	stamp = stamp.Clamp(now, MaxSkew)
	if !validID(m.ID) {
		return refuse(Rejected, fieldsync.EInvalid, "id is required: at most 128 letters, digits, '-', '_' or '.'")
	}
	size := 0
	for k, v := range m.Fields {
		size += len(k) + len(v)
	}
	if size > MaxFieldsBytes {
		return refuse(Rejected, CodeTooLarge, "a mutation's fields may hold at most "+itoa(MaxFieldsBytes)+" bytes")
	}
	var res Result
	switch m.Entity {
	case fieldsync.EntityVisit:
		res, err = e.applyVisit(tx, p, actor, m, deviceAt, now)
	case fieldsync.EntityReport:
		res, err = e.applyReport(tx, p, actor, m, stamp, deviceAt, now)
	default:
		return refuse(Rejected, CodeUnknownEntity, "unknown entity "+quote(string(m.Entity)))
	}
	res.Seq = m.Seq
	return res, err
}

// outcome turns a domain error into a result: state refusals are
// conflicts, anything else about the input is a rejection.
func outcome(err error) Result {
	code := fieldsync.ErrorCode(err)
	status := Rejected
	switch code {
	case fieldsync.EInvalidTransition, fieldsync.EReportSealed, fieldsync.EConflict, CodeVisitReassigned:
		status = Conflict
	}
	return Result{Status: status, Code: code, Detail: fieldsync.ErrorDetail(err)}
}

func (e *Engine) applyVisit(tx Txn, p Principal, actor fieldsync.Actor, m Mutation, deviceAt, now time.Time) (Result, error) {
	if m.Op != OpAction {
		return Result{Status: Rejected, Code: CodeUnknownOp, Detail: "visits take only actions"}, nil
	}
	action := fieldsync.VisitAction(m.Action)
	switch action {
	case fieldsync.ActionDepart, fieldsync.ActionArrive, fieldsync.ActionComplete, fieldsync.ActionNeedSecondVisit:
	default:
		return Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "unknown visit action " + quote(m.Action)}, nil
	}
	v, err := tx.Visit(m.ID)
	if err != nil {
		return Result{}, err
	}
	if v == nil {
		return noVisit(m.ID), nil
	}
	if res, err := e.mayWorkOn(tx, p, v); res != nil || err != nil {
		return *res, err
	}
	// The step happened when the device says, not when it synced, so an
	// arrival logged offline counts for the SLA at its real time; the
	// domain keeps it after the visit's earlier steps.
	end, res, err := e.endReason(tx, v, m)
	if res != nil || err != nil {
		return *res, err
	}
	var need *fieldsync.SecondVisit
	if action == fieldsync.ActionNeedSecondVisit {
		if need, err = fieldsync.ParseSecondVisit(m.Fields, e.priceList().HasPart); err != nil {
			return outcome(err), nil
		}
	}
	if err := v.ApplyAt(action, deviceAt, now, ""); err != nil {
		return outcome(err), nil
	}
	v.UpdatedAt = now
	changes := map[string]json.RawMessage{"status": rawJSON(v.Status), "received": rawJSON(v.Received)}
	if end != "" {
		v.EndReason, changes["end_reason"] = end, rawJSON(end)
	}
	if need != nil {
		v.SecondVisit = need
		changes["second_visit"] = rawJSON(need)
	}
	switch v.Status {
	case fieldsync.VisitEnRoute:
		changes["departed_at"] = rawJSON(v.DepartedAt)
	case fieldsync.VisitOnSite:
		changes["arrived_at"] = rawJSON(v.ArrivedAt)
	default:
		changes["finished_at"] = rawJSON(v.FinishedAt)
	}
	if len(v.ClockSkew) > 0 {
		changes["clock_skew"] = rawJSON(v.ClockSkew)
	}
	rev, err := tx.PutVisit(v, changes, actor, "visit."+m.Action, now)
	return Result{Status: Applied, Rev: rev}, err
}

// endReason reads why a complete action ends the visit without its work:
// fields {"end_reason": "quote_declined", "report_id"} when the customer
// declined the quote of the named report of the visit (checked against
// the server's copy of that report), none for a visit that ends with its
// work. need_second_visit's fields are its needs (ParseSecondVisit reads
// them); any other field of a visit action is refused. Its error is a
// store fault.
func (e *Engine) endReason(tx Txn, v *fieldsync.Visit, m Mutation) (string, *Result, error) {
	if len(m.Fields) == 0 || fieldsync.VisitAction(m.Action) == fieldsync.ActionNeedSecondVisit {
		return "", nil, nil
	}
	var f struct {
		EndReason string `json:"end_reason"`
		ReportID  string `json:"report_id"`
	}
	raw, _ := json.Marshal(m.Fields) // fields of a decoded mutation always encode
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if fieldsync.VisitAction(m.Action) != fieldsync.ActionComplete || dec.Decode(&f) != nil || f.EndReason != fieldsync.EndQuoteDeclined {
		res := Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "a visit action takes no fields but complete's {\"end_reason\": \"" + fieldsync.EndQuoteDeclined + "\", \"report_id\"}"}
		return "", &res, nil
	}
	r, err := tx.Report(f.ReportID)
	if err != nil {
		return "", &Result{}, err
	}
	if err := fieldsync.CheckQuoteEnd(r, v); err != nil {
		res := outcome(err)
		return "", &res, nil
	}
	return f.EndReason, nil, nil
}

// mayWorkOn returns nil when the pusher may work on the visit: staff, or
// the technician it is assigned to. Otherwise the refusal: a visit that
// was the technician's and went to another is a conflict
// (visit_reassigned), kept for dispatchers; one that never was theirs is
// answered exactly as a visit that does not exist (not_found), so pushes
// cannot probe ids. Its error is a store fault.
func (e *Engine) mayWorkOn(tx Txn, p Principal, v *fieldsync.Visit) (*Result, error) {
	if p.Role != fieldsync.RoleTechnician || v.TechnicianID == p.UserID {
		return nil, nil
	}
	hidden, err := e.hidden(tx, p, v)
	if err != nil {
		return &Result{}, err
	}
	if hidden {
		res := noVisit(v.ID)
		return &res, nil
	}
	res := outcome(fieldsync.Errorf(CodeVisitReassigned, "visit %s is assigned to another technician now; your work is kept for the dispatcher", v.ID))
	return &res, nil
}

// hidden reports whether a visit is one the pusher never could see: a
// technician's who was never assigned it.
func (e *Engine) hidden(tx Txn, p Principal, v *fieldsync.Visit) (bool, error) {
	if p.Role != fieldsync.RoleTechnician || v.TechnicianID == p.UserID {
		return false, nil
	}
	was, err := tx.WasAssigned(v.ID, p.UserID)
	return !was, err
}

// noVisit is the answer about a visit id that does not exist, or that
// the pusher never could see: the two are told apart by nothing.
func noVisit(id string) Result {
	return Result{Status: Rejected, Code: fieldsync.ENotFound, Detail: "no visit " + quote(id)}
}

func (e *Engine) applyReport(tx Txn, p Principal, actor fieldsync.Actor, m Mutation, stamp HLC, deviceAt, now time.Time) (Result, error) {
	before, err := tx.Report(m.ID)
	if err != nil {
		return Result{}, err
	}
	// A report of a visit the pusher never could see is answered as one
	// that does not exist.
	taken := false
	if before != nil {
		v, err := tx.Visit(before.VisitID)
		if err != nil {
			return Result{}, err
		}
		if v != nil {
			if taken, err = e.hidden(tx, p, v); err != nil {
				return Result{}, err
			}
		}
		if taken {
			before = nil
		}
	}
	if before == nil && m.Fields["visit_id"] == nil {
		// Not on the server: if its creation was refused, so is every later
		// edit, for the same reason, and it is kept with the same visit.
		visitID, err := tx.RefusedRecord(p.Install, fieldsync.EntityReport, m.ID)
		if err != nil {
			return Result{}, err
		}
		if visitID != "" {
			v, err := tx.Visit(visitID)
			if err != nil {
				return Result{}, err
			}
			if v != nil {
				if res, err := e.mayWorkOn(tx, p, v); res != nil || err != nil {
					return *res, err
				}
			}
			return Result{Status: Conflict, Code: fieldsync.EConflict, Detail: "the creation of report " + quote(m.ID) + " was refused; this edit is kept with it"}, nil
		}
	}
	if before == nil && m.Op != OpUpsert {
		return Result{Status: Rejected, Code: fieldsync.ENotFound, Detail: "no report " + quote(m.ID)}, nil
	}
	var r fieldsync.Report
	if before != nil {
		r = before.Clone()
	}
	visitID := r.VisitID
	if before == nil {
		if err := jsonField(m.Fields, "visit_id", &visitID); err != nil || visitID == "" {
			return Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "a new report needs visit_id"}, nil
		}
	}
	v, err := tx.Visit(visitID)
	if err != nil {
		return Result{}, err
	}
	if v == nil {
		return noVisit(visitID), nil
	}
	if res, err := e.mayWorkOn(tx, p, v); res != nil || err != nil {
		return *res, err
	}
	if taken {
		// The id is another's report: not to be overwritten. Report ids
		// are UUIDs made on devices, so this happens only to a guess.
		return Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "report id " + quote(m.ID) + " is taken; make a new id"}, nil
	}
	if before != nil {
		if err := r.Editable(); err != nil {
			return outcome(err), nil
		}
	}
	switch m.Op {
	case OpUpsert:
		if before == nil {
			r = fieldsync.NewReport(m.ID, v, deviceAt, now)
			if err := jsonField(m.Fields, "template_id", &r.TemplateID); err != nil || r.TemplateID == "" {
				return Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "a new report needs template_id"}, nil
			}
		}
		tpl, ok := e.Templates(r.TemplateID)
		if !ok {
			return Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "unknown template " + quote(r.TemplateID)}, nil
		}
		if before == nil {
			r.RequiredSlots = tpl.RequiredSlots()
			if res, err := e.checkCorrects(tx, p, &r, m.Fields); res != nil || err != nil {
				return *res, err
			}
			if res, err := checkSlipNo(tx, p, &r, m.Fields); res != nil || err != nil {
				return *res, err
			}
		}
		changes, err := mergeReport(&r, m.Fields, stamp, tpl)
		if err != nil {
			return outcome(err), nil
		}
		if _, ok := changes["quote"]; ok {
			if err := e.recheckQuote(&r, changes); err != nil {
				return outcome(err), nil
			}
		}
		if _, ok := changes["warranty"]; ok {
			if err := e.recheckWarranty(tx, &r, v, changes); err != nil {
				return Result{}, err
			}
		}
		if _, ok := changes["pickup"]; ok {
			res, err := e.recheckPickup(tx, &r, v)
			if err != nil || res != nil {
				return deref(res), err
			}
		}
		r.UpdatedAt = now
		action := "report.update"
		if before == nil {
			action = "report.create"
			changes["visit_id"], changes["template_id"] = rawJSON(r.VisitID), rawJSON(r.TemplateID)
			changes["created_at"], changes["received"] = rawJSON(r.CreatedAt), rawJSON(r.Received)
			if r.Corrects != "" {
				changes["corrects"] = rawJSON(r.Corrects)
			}
			if r.SlipNo != "" {
				changes["slip_no"] = rawJSON(r.SlipNo)
			}
			if len(r.ClockSkew) > 0 {
				changes["clock_skew"] = rawJSON(r.ClockSkew)
			}
		}
		rev, err := tx.PutReport(&r, before == nil, v, changes, actor, action, now)
		return Result{Status: Applied, Rev: rev}, err
	case OpAction:
		if m.Action != "sign" {
			return Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "unknown report action " + quote(m.Action)}, nil
		}
		tpl, ok := e.Templates(r.TemplateID)
		if !ok {
			return Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "unknown template " + quote(r.TemplateID)}, nil
		}
		a, err := fieldsync.ParseSignAction(m.Fields, tpl, p.Device)
		if err != nil {
			return outcome(err), nil
		}
		if err := r.CheckSignable(tpl); err != nil {
			return outcome(err), nil
		}
		if err := fieldsync.CheckEvidence(tpl, a.Photos, a.Signature.Unphotographed); err != nil {
			return outcome(err), nil
		}
		if err := e.checkSignature(tx, p, &r, v, &a, now); err != nil {
			if fieldsync.ErrorCode(err) == fieldsync.EInternal {
				return Result{}, err
			}
			return outcome(err), nil
		}
		if err := r.SignAt(deviceAt, now, v); err != nil {
			return outcome(err), nil
		}
		photos := a.Photos
		r.SignedBy, r.SignedPhotos, r.Signature, r.UpdatedAt = p.UserID, photos, &a.Signature, now
		changes := map[string]json.RawMessage{"status": rawJSON(r.Status), "signed_at": rawJSON(r.SignedAt), "signed_by": rawJSON(r.SignedBy), "received": rawJSON(r.Received), "signature": rawJSON(r.Signature)}
		if len(photos) > 0 {
			changes["signed_photos"] = rawJSON(photos)
		}
		if len(r.ClockSkew) > 0 {
			changes["clock_skew"] = rawJSON(r.ClockSkew)
		}
		rev, err := tx.PutReport(&r, false, v, changes, actor, "report.sign", now)
		return Result{Status: Applied, Rev: rev}, err
	case OpDelete:
		rev, err := tx.DeleteReport(&r, actor, now)
		return Result{Status: Applied, Rev: rev}, err
	}
	return Result{Status: Rejected, Code: CodeUnknownOp, Detail: "unknown op " + quote(m.Op)}, nil
}

// checkCorrects sets the corrects of r, a report being made, from the
// creation's fields and checks it (fieldsync.Report.CheckCorrects): a
// report of a visit the pusher never could see is one that does not
// exist. It returns the refusal, or nil when r may be made.
func (e *Engine) checkCorrects(tx Txn, p Principal, r *fieldsync.Report, fields map[string]json.RawMessage) (*Result, error) {
	if _, ok := fields["corrects"]; !ok {
		return nil, nil
	}
	if err := jsonField(fields, "corrects", &r.Corrects); err != nil || r.Corrects == "" {
		return &Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "corrects must be the id of the report this one corrects"}, nil
	}
	orig, err := tx.Report(r.Corrects)
	if err != nil {
		return nil, err
	}
	if orig != nil {
		v, err := tx.Visit(orig.VisitID)
		if err != nil {
			return nil, err
		}
		if v == nil {
			orig = nil
		} else if hidden, err := e.hidden(tx, p, v); err != nil {
			return nil, err
		} else if hidden {
			orig = nil
		}
	}
	if err := r.CheckCorrects(orig); err != nil {
		res := outcome(err)
		return &res, nil
	}
	return nil, nil
}

// checkSlipNo sets the slip number of r, a report being made, from the
// creation's fields and checks it: issued by the pushing install (its
// prefix, fieldsync.CheckSlipIssuer) and held by no other report
// (fieldsync.ESlipTaken). A report made without a number (by an install
// that has no prefix yet, or an older app) has none. It returns the
// refusal, or nil when r may be made.
func checkSlipNo(tx Txn, p Principal, r *fieldsync.Report, fields map[string]json.RawMessage) (*Result, error) {
	if _, ok := fields["slip_no"]; !ok {
		return nil, nil
	}
	if err := jsonField(fields, "slip_no", &r.SlipNo); err != nil {
		return &Result{Status: Rejected, Code: fieldsync.EInvalid, Detail: "slip_no must be a string"}, nil
	}
	ins, err := tx.Install(p.Install)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if ins != nil {
		prefix = ins.SlipPrefix
	}
	if err := fieldsync.CheckSlipIssuer(r.SlipNo, prefix); err != nil {
		res := outcome(err)
		return &res, nil
	}
	holder, err := tx.SlipReport(r.SlipNo)
	if err != nil {
		return nil, err
	}
	if holder != "" && holder != r.ID {
		return &Result{Status: Rejected, Code: fieldsync.ESlipTaken, Detail: "slip_no " + r.SlipNo + " is held by another report"}, nil
	}
	return nil, nil
}

// checkSignature checks what a sign action signed against the server's
// records: the canonical document rebuilt from them must have the hash
// the device signed (ESealHashMismatch), and the signature must verify
// with the pushing device's registered key, valid when the server
// received it (EBadDeviceSignature). A fieldsync.Error is the refusal;
// any other error is a store fault.
func (e *Engine) checkSignature(tx Txn, p Principal, r *fieldsync.Report, v *fieldsync.Visit, a *fieldsync.SignAction, now time.Time) error {
	sig := &a.Signature
	t, err := tx.Ticket(v.TicketID)
	if err != nil {
		return err
	}
	if t == nil {
		return fieldsync.Errorf(fieldsync.EInvalid, "visit %s has no ticket %s on the server; the report cannot be signed", v.ID, v.TicketID)
	}
	asset, err := tx.Asset(t.AssetID)
	if err != nil {
		return err
	}
	if asset == nil {
		return fieldsync.Errorf(fieldsync.EInvalid, "ticket %s has no asset %s on the server; the report cannot be signed", t.ID, t.AssetID)
	}
	signing, err := canon.SigningOf(sig, a.Photos)
	if err != nil {
		return err
	}
	doc, err := canon.Build(r, v, t, asset, signing)
	if err != nil {
		return err
	}
	hash, err := doc.Hash()
	if err != nil {
		return err
	}
	if hash != sig.Hash {
		return fieldsync.Errorf(fieldsync.ESealHashMismatch, "the device signed a document of hash %s, but the report on the server makes a document of hash %s: the report on the device differs from the server's (pull, review and sign again)", sig.Hash, hash)
	}
	d, err := tx.Device(p.UserID, p.Device)
	if err != nil {
		return err
	}
	switch {
	case d == nil:
		return fieldsync.Errorf(fieldsync.EBadDeviceSignature, "device %s is not registered", quote(p.Device))
	case d.Key(sig.KeyID) == nil:
		return fieldsync.Errorf(fieldsync.EBadDeviceSignature, "device %s has no key %s: sign in again so that it registers its key", quote(p.Device), quote(sig.KeyID))
	case d.RevokedAt != nil && !now.Before(*d.RevokedAt):
		return fieldsync.Errorf(fieldsync.EBadDeviceSignature, "device %s was revoked at %s; its keys sign nothing after", quote(p.Device), d.RevokedAt.UTC().Format(time.RFC3339))
	case !d.KeyValidAt(sig.KeyID, now):
		k := d.Key(sig.KeyID)
		if k.RetiredAt != nil {
			return fieldsync.Errorf(fieldsync.EBadDeviceSignature, "device key %s was retired at %s; sign with the device's current key", quote(sig.KeyID), k.RetiredAt.UTC().Format(time.RFC3339))
		}
		return fieldsync.Errorf(fieldsync.EBadDeviceSignature, "device key %s was registered at %s, after the server received this signature", quote(sig.KeyID), k.AddedAt.UTC().Format(time.RFC3339))
	}
	return sig.VerifyWith(d.Key(sig.KeyID))
}

// recheckWarranty decides again, with the server's policy, the warranty
// decision an edit just set in r, and records the outcome in r and
// changes: when the server's decision recommends another outcome or
// other options (its policy changed while the device was offline), or
// the server cannot decide, the device's decision stays as sent (the
// customer signs it) and the server's goes beside it, flagged
// warranty_disputed for the dispatcher; when they agree, neither is
// there.
func (e *Engine) recheckWarranty(tx Txn, r *fieldsync.Report, v *fieldsync.Visit, changes map[string]json.RawMessage) error {
	check, err := e.warrantyCheck(tx, r, v)
	if err != nil {
		return err
	}
	r.WarrantyServer, r.WarrantyDisputed = check, check != nil
	changes["warranty_server"], changes["warranty_disputed"] = rawJSON(r.WarrantyServer), rawJSON(r.WarrantyDisputed)
	return nil
}

// recheckQuote prices again, on the server's price list, the quote an
// edit just set in r. A quote priced on the list in force must match it
// line by line: EQuoteMismatch names the first line (or the total) that
// differs. A quote priced on another version (the list changed while the
// device was offline) is kept as the customer agreed to it, and r gains
// quote_stale naming the server's version for the dispatcher; a quote on
// the list in force clears it.
func (e *Engine) recheckQuote(r *fieldsync.Report, changes map[string]json.RawMessage) error {
	l := e.priceList()
	stale := ""
	if r.Quote.PriceListVersion != l.Version {
		stale = l.Version
	} else if err := pricing.Validate(pricing.FromReport(*r.Quote), l); err != nil {
		return fieldsync.Errorf(fieldsync.EQuoteMismatch, "%s; price the quote again on the price list in force", fieldsync.ErrorDetail(err))
	}
	if stale != r.QuoteStale {
		r.QuoteStale = stale
		changes["quote_stale"] = rawJSON(stale)
	}
	return nil
}

// warrantyCheck returns the server's decision for r when it differs from
// the device's, why the server cannot decide, or nil when they agree.
func (e *Engine) warrantyCheck(tx Txn, r *fieldsync.Report, v *fieldsync.Visit) (*fieldsync.WarrantyCheck, error) {
	t, err := tx.Ticket(v.TicketID)
	if err != nil {
		return nil, err
	}
	var a *fieldsync.Asset
	if t != nil {
		if a, err = tx.Asset(t.AssetID); err != nil {
			return nil, err
		}
	}
	if a == nil {
		return &fieldsync.WarrantyCheck{Error: "the server has no asset for visit " + v.ID}, nil
	}
	p := e.Warranty
	if p.Categories == nil {
		p = warranty.DefaultPolicy()
	}
	certs, err := tx.Certificates(a.ID)
	if err != nil {
		return nil, err
	}
	d, err := warranty.Recheck(p, e.Calendar, r, a, certs)
	if err != nil {
		if fieldsync.ErrorCode(err) == fieldsync.EInternal {
			return nil, err
		}
		return &fieldsync.WarrantyCheck{Error: fieldsync.ErrorDetail(err)}, nil
	}
	raw := rawJSON(d)
	if fieldsync.SameWarrantyDecision(raw, r.Warranty.Decision) {
		return nil, nil
	}
	return &fieldsync.WarrantyCheck{Decision: raw}, nil
}

// mergeReport lays fields over r (fieldsync.Report.SetFields), field by
// field: a field changes only if the mutation's stamp is newer than the
// stamp of its current value in r.Clocks, so edits from two tablets merge
// and the later edit of one field wins. It returns what it changed, by
// field, and stamps each with the mutation's clock.
func mergeReport(r *fieldsync.Report, fields map[string]json.RawMessage, stamp HLC, tpl fieldsync.Template) (map[string]json.RawMessage, error) {
	changed, err := r.SetFields(fields, &tpl, func(field string) bool {
		old, err := ParseHLC(r.Clocks[field])
		return err != nil || stamp.Compare(old) > 0 // no clock: never edited
	})
	if err != nil {
		return nil, err
	}
	if r.Clocks == nil && len(changed) > 0 {
		r.Clocks = make(map[string]string, len(changed))
	}
	clock := stamp.String()
	for field := range changed {
		r.Clocks[field] = clock
	}
	return changed, nil
}

func jsonField(fields map[string]json.RawMessage, name string, v any) error {
	raw, ok := fields[name]
	if !ok {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}

// maxWall is the last millisecond of year 9999, the last a JSON time can
// hold.
const maxWall = 253402300799999

// rawJSON encodes the values the engine records: strings, records of
// strings, and times from 1970 to year 9999 (device times are capped at
// maxWall), which always encode.
func rawJSON(v any) json.RawMessage {
	raw, _ := json.Marshal(v) // cannot fail for these values
	return raw
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// validID accepts the ids devices make (UUIDs) and nothing that could
// split a composite key.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
