package clientsdk

import (
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// The first technician ends the visit needing a second one, with a report
// and the parts; the dispatcher books the second visit for another
// technician, whose tablet then reads the first visit offline: its
// findings and the parts. It lists only its own visit, refuses to work on
// the first, and holds nothing of another ticket.
func TestE2ESecondVisitTabletReadsTheFirstVisit(t *testing.T) {
	w := newE2EWorld(t)
	must(t, w.store.PublishReference(t.Context(), []bolt.Reference{{Entity: fieldsync.EntityPriceList, ID: quote.ListID, Data: quote.DefaultSource()}}))
	other := w.newVisit(w.intake(), w.techA)
	first := w.visit
	tabA := w.tablet(t, "tab-a")
	tabA.login(t, e2eTechA)
	tabA.sync(t)
	must(t, tabA.c.Depart(first))
	must(t, tabA.c.Arrive(first))
	report, err := tabA.c.CreateReport(first, "tv-v1")
	must(t, err)
	findings, cause := "电源板烧毁", "雷击"
	must(t, tabA.c.SetReport(report, ReportFields{Findings: &findings, Cause: &cause}))
	need := fieldsync.SecondVisit{Parts: []fieldsync.PartNeed{{Code: "tv-psu", Qty: 1}}, Note: "带电源板"}
	must(t, tabA.c.NeedSecondVisit(first, need))
	if rep := tabA.sync(t); rep.Refused != 0 {
		c, _ := tabA.c.Conflicts()
		t.Fatalf("A's sync: %+v %+v", rep, c)
	}

	second := w.newVisit(w.ticket, w.techB)
	tabB := w.tablet(t, "tab-b")
	tabB.login(t, e2eTechB)
	tabB.sync(t)
	tabB.offline(true)
	prev, err := tabB.c.PreviousVisit(second)
	must(t, err)
	if prev.Visit.ID != first || prev.Visit.Status != fieldsync.VisitNeedsSecondVisit || prev.SecondVisit == nil ||
		len(prev.SecondVisit.Parts) != 1 || prev.SecondVisit.Parts[0] != need.Parts[0] || prev.SecondVisit.Note != need.Note {
		t.Fatalf("the previous visit: %+v", prev)
	}
	if len(prev.Reports) != 1 || prev.Reports[0].ID != report || prev.Reports[0].Findings != findings || prev.Reports[0].Cause != cause {
		t.Fatalf("the previous visit's reports: %+v", prev.Reports)
	}
	if vs, err := tabB.c.Visits(); err != nil || len(vs) != 1 || vs[0].ID != second {
		t.Fatalf("B's visits: %v, %v; want only %s", vs, err, second)
	}
	if !tabA.lists(t, first) {
		t.Fatal("A's tablet does not list A's own visit")
	}
	// The first visit is context: nothing is recorded on it.
	for name, try := range map[string]func() error{
		"depart":        func() error { return tabB.c.Depart(first) },
		"create report": func() error { _, err := tabB.c.CreateReport(first, "tv-v1"); return err },
		"edit report":   func() error { return tabB.c.SetReport(report, ReportFields{Findings: &cause}) },
	} {
		if err := try(); fieldsync.ErrorCode(err) != fieldsync.EForbidden {
			t.Fatalf("B's %s on the first visit: %v", name, err)
		}
	}
	if _, err := tabB.c.PreviousVisit(first); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("the previous visit of a visit that names none: %v", err)
	}
	if _, err := tabB.c.Bundle(other); fieldsync.ErrorCode(err) != fieldsync.ENotFound {
		t.Fatalf("B holds another ticket's visit: %v", err)
	}
	// B's own visit is work as usual.
	must(t, tabB.c.Depart(second))
}
