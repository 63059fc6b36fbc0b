package clientsdk

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/canon"
)

// An addendum is made offline once the seal of the report it corrects is
// on the device, of the same visit and template, and signed like any
// report: the document it signs names the report it corrects.
func TestCreateAddendumOffline(t *testing.T) {
	w := newSignWorld(t)
	c, h := w.c, w.h

	_, err := c.CreateAddendum(w.report)
	wantCode(t, err, fieldsync.EInvalidTransition) // a draft is edited instead
	_, err = c.CreateAddendum("0190f000-0000-7000-8000-0000000000ff")
	wantCode(t, err, fieldsync.EInvalid)
	must(t, c.SignReport(w.report, noPhotos("tv-v1")))
	_, err = c.CreateAddendum(w.report)
	if fieldsync.ErrorCode(err) != fieldsync.EInvalidTransition || fieldsync.ErrorDetail(err) != "report "+w.report+" is signed, not sealed: wait for its seal" {
		t.Fatalf("an addendum of a report signed on the device: %v", err)
	}

	h.net.set(func(n *netSwitch) { n.down = false })
	h.sync(c)
	h.fake.seal(w.report)
	h.sync(c)
	h.net.set(func(n *netSwitch) { n.down = true })

	a, err := c.CreateAddendum(w.report)
	must(t, err)
	r, err := c.Report(a)
	must(t, err)
	if r.Corrects != w.report || r.VisitID != w.visit || r.TemplateID != "tv-v1" || r.Status != fieldsync.ReportDraft {
		t.Fatalf("the addendum on the device: %+v", r)
	}
	_, err = c.CreateAddendum(a)
	wantCode(t, err, fieldsync.EInvalid) // an addendum's report is corrected, not the addendum
	if ids, err := c.Addenda(w.report); err != nil || !slices.Equal(ids, []string{a}) {
		t.Fatalf("Addenda = %v, %v", ids, err)
	}
	answerRequired(t, c, a, "tv-v1")
	findings := "screen crack was there on delivery"
	must(t, c.SetReport(a, ReportFields{Findings: &findings}))
	must(t, c.SignReport(a, noPhotos("tv-v1")))
	m := signAction(t, c)
	var hash string
	must(t, json.Unmarshal(m.Fields["hash"], &hash))

	h.net.set(func(n *netSwitch) { n.down = false })
	if rep := h.sync(c); rep.Refused != 0 {
		rs, _ := c.Conflicts()
		t.Fatalf("the addendum was refused: %+v %+v", rep, rs)
	}
	sr, ok := h.fake.Report(a)
	if !ok || sr.Corrects != w.report {
		t.Fatalf("the server holds the addendum as %+v", sr)
	}
	v := record[fieldsync.Visit](h.fake, "visit", w.visit)
	tk := record[fieldsync.Ticket](h.fake, "ticket", v.TicketID)
	as := record[fieldsync.Asset](h.fake, "asset", tk.AssetID)
	signing, err := canon.SigningOf(sr.Signature, sr.SignedPhotos)
	must(t, err)
	doc, err := canon.Build(&sr, &v, &tk, &as, signing)
	must(t, err)
	if got, _ := doc.Hash(); got != hash || doc.Corrects != w.report {
		t.Fatalf("the device signed %s; the server's records (corrects %q) hash to %s", hash, doc.Corrects, got)
	}
}
