package clientsdk

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// Visits returns the technician's visits as they stand on the device, with
// pending work laid over, in window order: their own only, not the visits
// before their second visits (PreviousVisit).
func (c *Client) Visits() ([]fieldsync.Visit, error) {
	var out []fieldsync.Visit
	err := c.view(func(rd *reader) error {
		if err := rd.loadAll(); err != nil {
			return err
		}
		mine, err := rd.mine()
		if err != nil {
			return err
		}
		return eachRecord(rd.tx, fieldsync.EntityVisit, func(id string, s *stored) error {
			v, err := overlayVisit(s, rd.all[string(recordKey(fieldsync.EntityVisit, id))])
			if err != nil {
				return err
			}
			if !mine(v) {
				return nil
			}
			out = append(out, *v)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b fieldsync.Visit) int {
		return cmp.Or(a.WindowStart.Compare(b.WindowStart), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Bundle returns a visit with its ticket, customer, site, asset and
// reports (pending work laid over; reports created on the device appear at
// once; photos attached on the device are listed in each report's
// Extra[LocalPhotosKey]). ENotFound when the device has no such visit. A
// part the server has not delivered yet is left as its zero value.
func (c *Client) Bundle(visitID string) (*fieldsync.VisitBundle, error) {
	var b fieldsync.VisitBundle
	err := c.view(func(rd *reader) error {
		v, err := rd.visit(visitID)
		if err != nil {
			return err
		}
		b.Visit = *v
		t, _, err := get[fieldsync.Ticket](rd.tx, fieldsync.EntityTicket, v.TicketID)
		if err != nil {
			return err
		}
		b.Ticket = t
		if b.Customer, _, err = get[fieldsync.Customer](rd.tx, fieldsync.EntityCustomer, t.CustomerID); err != nil {
			return err
		}
		if b.Site, _, err = get[fieldsync.Site](rd.tx, fieldsync.EntitySite, t.SiteID); err != nil {
			return err
		}
		if b.Asset, _, err = get[fieldsync.Asset](rd.tx, fieldsync.EntityAsset, t.AssetID); err != nil {
			return err
		}
		b.Reports, err = rd.reportsOf(visitID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// reportsOf returns a visit's reports with their photos, in creation
// order.
func (rd *reader) reportsOf(visitID string) ([]fieldsync.Report, error) {
	all, err := rd.reports()
	if err != nil {
		return nil, err
	}
	out := []fieldsync.Report{}
	for _, r := range all {
		if r.VisitID == visitID {
			if err := layPhotos(rd.tx, &r); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y fieldsync.Report) int {
		return cmp.Or(x.CreatedAt.Compare(y.CreatedAt), strings.Compare(x.ID, y.ID))
	})
	return out, nil
}

// Report returns one report with pending work laid over, or ENotFound.
// The photos attached on the device are listed in
// Extra[LocalPhotosKey] (see AttachPhoto).
func (c *Client) Report(reportID string) (*fieldsync.Report, error) {
	var r *fieldsync.Report
	err := c.view(func(rd *reader) (err error) {
		if r, err = rd.report(reportID); err != nil {
			return err
		}
		return layPhotos(rd.tx, r)
	})
	return r, err
}

// Templates returns the report templates pulled from the server, by id.
func (c *Client) Templates() ([]fieldsync.Template, error) {
	var out []fieldsync.Template
	err := c.view(func(rd *reader) error {
		return eachRecord(rd.tx, fieldsync.EntityTemplate, func(_ string, s *stored) error {
			var t fieldsync.Template
			if err := json.Unmarshal(s.Data, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// Depart, Arrive and Complete (and NeedSecondVisit) record a step of the visit.
// The step is checked against the visit as the device sees it: an
// EInvalidTransition error when the state machine forbids it, ENotFound
// for a visit the device does not have. The time of the step is now, on
// the device, whenever it reaches the server.
func (c *Client) Depart(visitID string) error { return c.visitStep(visitID, fieldsync.ActionDepart) }

// Arrive: see Depart.
func (c *Client) Arrive(visitID string) error { return c.visitStep(visitID, fieldsync.ActionArrive) }

// Complete: see Depart.
func (c *Client) Complete(visitID string) error {
	return c.visitStep(visitID, fieldsync.ActionComplete)
}

func (c *Client) visitStep(id string, action fieldsync.VisitAction) error {
	return c.visitAction(id, action, nil)
}

func (c *Client) visitAction(id string, action fieldsync.VisitAction, fields map[string]json.RawMessage) error {
	return c.write(fieldsync.EntityVisit, id, syncproto.OpAction, string(action), fields, func(rd *reader) error {
		v, err := rd.visit(id)
		if err != nil {
			return err
		}
		_, err = fieldsync.NextVisitStatus(v.Status, action)
		return err
	})
}

// CreateReport starts a draft report of the visit on the template and
// returns its id, made on the device (UUIDv7). The report takes the
// device's next appraisal slip number (Report.SlipNo), issued offline in
// the write that makes the report; a device that has not signed in since
// the server gives slip prefixes makes it without one. ENotFound for a
// visit the device does not have, or a template it has pulled none of by
// that id while it holds others.
func (c *Client) CreateReport(visitID, templateID string) (string, error) {
	if templateID == "" {
		return "", fieldsync.Errorf(fieldsync.EInvalid, "template_id is required")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	fields := map[string]json.RawMessage{"visit_id": jsonString(visitID), "template_id": jsonString(templateID)}
	err = c.write(fieldsync.EntityReport, id.String(), syncproto.OpUpsert, "", fields, func(rd *reader) error {
		if _, err := rd.visit(visitID); err != nil {
			return err
		}
		t, err := rd.template(templateID)
		if err != nil {
			return err
		}
		if t != nil {
			return c.issueSlipNo(rd.tx, fields)
		}
		some, err := anyRecord(rd.tx, fieldsync.EntityTemplate)
		if err != nil {
			return err
		}
		if some {
			return fieldsync.Errorf(fieldsync.ENotFound, "no template %q on this device", templateID)
		}
		// No templates pulled yet: the server checks the template.
		return c.issueSlipNo(rd.tx, fields)
	})
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// SetAnswer answers one checklist item of a draft report; value is
// anything that encodes to JSON (a json.RawMessage is taken as is; nil
// clears the answer). It is checked against the template when the device
// has it: EInvalid names the item and what it takes. EReportSealed for a
// signed report.
func (c *Client) SetAnswer(reportID, itemID string, value any) error {
	if itemID == "" {
		return fieldsync.Errorf(fieldsync.EInvalid, "item id is required")
	}
	raw, ok := value.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(value); err != nil {
			return fieldsync.Errorf(fieldsync.EInvalid, "answer to %s does not encode to JSON: %v", itemID, err)
		}
	} else if !json.Valid(raw) {
		return fieldsync.Errorf(fieldsync.EInvalid, "answer to %s is not JSON", itemID)
	}
	answers, err := json.Marshal(map[string]json.RawMessage{itemID: raw})
	if err != nil {
		return err
	}
	return c.write(fieldsync.EntityReport, reportID, syncproto.OpUpsert, "", map[string]json.RawMessage{"answers": answers}, func(rd *reader) error {
		_, t, err := c.draft(rd, reportID)
		if err != nil || t == nil {
			return err
		}
		return t.CheckAnswer(itemID, raw)
	})
}

// ReportFields are the free fields of a report; nil means unchanged.
type ReportFields struct {
	Findings       *string
	Cause          *string
	Responsibility *fieldsync.Responsibility
}

// SetReport changes the fields that are set in f. EInvalid for text that
// is too long or not UTF-8, or a responsibility that does not exist;
// EReportSealed for a signed report.
func (c *Client) SetReport(reportID string, f ReportFields) error {
	fields := map[string]json.RawMessage{}
	for name, text := range map[string]*string{"findings": f.Findings, "cause": f.Cause} {
		if text == nil {
			continue
		}
		// Checked before encoding, which would mend bytes that are not UTF-8.
		if err := fieldsync.CheckReportText(name, *text); err != nil {
			return err
		}
		fields[name] = jsonString(*text)
	}
	if f.Responsibility != nil {
		raw := jsonString(string(*f.Responsibility))
		if err := fieldsync.CheckReportField("responsibility", raw, nil); err != nil {
			return err
		}
		fields["responsibility"] = raw
	}
	if len(fields) == 0 {
		return nil
	}
	return c.write(fieldsync.EntityReport, reportID, syncproto.OpUpsert, "", fields, func(rd *reader) error {
		_, _, err := c.draft(rd, reportID)
		return err
	})
}

// draft returns a report the device may edit (EReportSealed for a signed
// one) with its template, nil when the device has not pulled it.
func (c *Client) draft(rd *reader, reportID string) (*fieldsync.Report, *fieldsync.Template, error) {
	r, err := rd.report(reportID)
	if err != nil {
		return nil, nil, err
	}
	if err := r.Editable(); err != nil {
		return nil, nil, err
	}
	t, err := rd.template(r.TemplateID)
	return r, t, err
}

// Conflicts lists the work the server refused (conflicts and rejections),
// oldest first, with the server's code and detail.
func (c *Client) Conflicts() ([]Refusal, error) {
	var out []Refusal
	err := c.view(func(rd *reader) error {
		return eachJSON(rd.tx, bucketRefused, nil, func(_ []byte, r *Refusal) error {
			out = append(out, *r)
			return nil
		})
	})
	return out, err
}

// DismissConflict removes a refusal from the device once the technician
// has seen it; the server keeps its own copy for dispatchers.
func (c *Client) DismissConflict(seq int64) error {
	if c.isClosed() {
		return ErrClosed
	}
	return c.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketRefused).Delete(seqKey(seq))
	})
}

// Refusal is a mutation the server did not apply: Status is
// syncproto.Conflict (the server's state refuses it) or syncproto.Rejected
// (the mutation itself is wrong), Code the server's stable code.
type Refusal struct {
	Mutation syncproto.Mutation `json:"mutation"`
	Status   string             `json:"status"`
	Code     string             `json:"code"`
	Detail   string             `json:"detail,omitempty"`
	At       time.Time          `json:"at"` // when the device learnt of it
}

// write records one local change: check runs against the overlaid state,
// and the change's outbox entry commits in the same transaction, so a
// crash never leaves one without the other.
func (c *Client) write(entity fieldsync.Entity, id, op, action string, fields map[string]json.RawMessage, check func(rd *reader) error) error {
	if c.isClosed() {
		return ErrClosed
	}
	err := c.db.Update(func(tx *bbolt.Tx) error {
		// Another's visit is refused before its state is judged.
		rd := &reader{tx: tx, refs: &c.refs}
		if err := rd.ownWork(entity, id, fields); err != nil {
			return err
		}
		// check may add to fields what only the transaction knows.
		if err := check(rd); err != nil {
			return err
		}
		return c.enqueue(tx, entity, id, op, action, fields)
	})
	if err != nil {
		return err
	}
	c.poke(c.changed)
	return nil
}

// enqueue puts one change in the outbox within tx, with the device's next
// seq and HLC stamp.
func (c *Client) enqueue(tx *bbolt.Tx, entity fieldsync.Entity, id, op, action string, fields map[string]json.RawMessage) error {
	if err := (&reader{tx: tx, refs: &c.refs}).ownWork(entity, id, fields); err != nil {
		return err
	}
	if len(fields) == 0 {
		fields = nil
	} else if raw, err := json.Marshal(fields); err != nil {
		return err
	} else if len(raw) > syncproto.MaxFieldsBytes {
		return fieldsync.Errorf(fieldsync.ETooLarge, "the change is %d bytes; at most %d", len(raw), syncproto.MaxFieldsBytes)
	}
	meta := tx.Bucket(bucketMeta)
	seq := int64(getU64(meta, keyNextSeq))
	if seq < 1 {
		return fmt.Errorf("corrupt seq counter")
	}
	stamp := c.clock.Now()
	m := syncproto.Mutation{Seq: seq, Entity: entity, ID: id, Op: op, Action: action, Fields: fields, HLC: stamp.String()}
	if err := queue(tx, m); err != nil {
		return err
	}
	if err := meta.Put(keyNextSeq, u64(uint64(seq+1))); err != nil {
		return err
	}
	return meta.Put(keyLastHLC, []byte(stamp.String()))
}

func (c *Client) view(fn func(rd *reader) error) error {
	if c.isClosed() {
		return ErrClosed
	}
	return c.db.View(func(tx *bbolt.Tx) error { return fn(&reader{tx: tx, refs: &c.refs}) })
}

func anyRecord(tx *bbolt.Tx, entity fieldsync.Entity) (bool, error) {
	found := false
	err := eachRecord(tx, entity, func(string, *stored) error {
		found = true
		return errStopScan
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return found, err
}

var errStopScan = errors.New("stop scan")

func jsonString(s string) json.RawMessage {
	raw, _ := json.Marshal(s) // a string always encodes
	return raw
}
