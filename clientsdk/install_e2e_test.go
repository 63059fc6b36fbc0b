package clientsdk

import (
	"os"
	"testing"

	"github.com/fieldsync/fieldsync"
)

// A tablet wiped and set up again under the same device id starts a new
// install: its seqs count from 1 again, and its work is applied, not
// answered "duplicate" against the old install's seqs.
func TestE2EAReinstalledTabletsWorkIsApplied(t *testing.T) {
	w := newE2EWorld(t)
	second := w.newVisit(w.intake(), w.techA)

	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	tab.sync(t)
	must(t, tab.c.Depart(w.visit))
	must(t, tab.c.Arrive(w.visit))
	if rep := tab.sync(t); rep.Applied != 2 {
		t.Fatalf("first install: %+v, want 2 applied", rep)
	}

	// The app is reinstalled: a fresh file, the same device id.
	must(t, tab.c.Close())
	must(t, os.Remove(tab.path))
	tab.open(t)
	tab.login(t, e2eTechA)
	tab.sync(t)
	must(t, tab.c.Depart(second))
	rep := tab.sync(t)
	if rep.Applied != 1 || rep.Duplicates != 0 {
		t.Fatalf("the reinstalled tablet's push: %+v, want 1 applied and no duplicate", rep)
	}
	if got := w.dispatcherVisit(second); got.Status != fieldsync.VisitEnRoute {
		t.Fatalf("the reinstalled tablet's departure: visit is %s on the server", got.Status)
	}
	if got := w.dispatcherVisit(w.visit); got.Status != fieldsync.VisitOnSite {
		t.Fatalf("the first install's work: visit is %s on the server", got.Status)
	}
}
