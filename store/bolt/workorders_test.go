package bolt_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// A completion whose report records work makes one work order and a
// certificate per repaired part in its push, even when the report is
// written in the same batch; written again it makes no more. The
// certificates reach the technician of the visit and, through the feed,
// of a later visit on the asset.
func TestCompletionMakesWorkOrderAndCertificates(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.onSite(t, "v-rep")
	w.onSite(t, "v-none")
	done := time.Date(2026, 8, 31, 18, 0, 0, 0, cst)
	actor := fieldsync.Actor{UserID: "tech-a", DeviceID: "tab"}
	report := func(id, visit string, work []fieldsync.WorkLine) func(syncproto.Txn) error {
		return func(tx syncproto.Txn) error {
			v, err := tx.Visit(visit)
			if err != nil {
				return err
			}
			r := &fieldsync.Report{ID: id, VisitID: visit, TemplateID: "tpl", SlipNo: "K7QM-2026-000007", Status: fieldsync.ReportDraft, Work: work, CreatedAt: done,
				Warranty: &fieldsync.ReportWarranty{Question: json.RawMessage(`{"failed_part":"major","checks":{}}`), VisitDate: "2026-08-31", Decision: json.RawMessage(`{"outcome":"free_repair","options":["free_repair","paid_repair"],"explanation":[{}]}`)}}
			_, err = tx.PutReport(r, true, v, nil, actor, "report.create", done)
			return err
		}
	}
	lines := []fieldsync.WorkLine{{Part: "major", Code: "PNL-55", Qty: 1, Note: "屏幕"}, {Part: "cable", Qty: 2}}
	must(t, w.db.Push(ctx, func(tx syncproto.Txn) error {
		if err := report("r-rep", "v-rep", lines)(tx); err != nil {
			return err
		}
		return finish("v-rep", fieldsync.ActionComplete, done)(tx)
	}))
	must(t, w.db.Push(ctx, report("r-none", "v-none", nil)))
	must(t, w.db.Push(ctx, finish("v-none", fieldsync.ActionComplete, done)))
	// The completion written again, as a retried push does.
	must(t, w.db.Push(ctx, func(tx syncproto.Txn) error {
		v, err := tx.Visit("v-rep")
		if err != nil {
			return err
		}
		_, err = tx.PutVisit(v, nil, actor, "visit.complete", done)
		return err
	}))

	orders, next, err := w.db.WorkOrders(ctx, fieldsync.WorkOrderFilter{TicketID: w.ticket})
	must(t, err)
	if len(orders) != 1 || next != "" {
		t.Fatalf("%d work orders (next %q), want 1: the visit without work has none", len(orders), next)
	}
	o := orders[0]
	if o.VisitID != "v-rep" || o.ReportID != "r-rep" || o.AssetID != "a1" || o.CustomerID != w.cus || o.Outcome != "free_repair" || o.SlipNo != "K7QM-2026-000007" || len(o.Work) != 2 || !o.CompletedAt.Equal(done) {
		t.Fatalf("work order %+v", o)
	}
	if got, err := w.db.WorkOrder(ctx, o.ID); err != nil || got.ID != o.ID {
		t.Fatalf("WorkOrder: %+v, %v", got, err)
	}
	if byAsset, _, _ := w.db.WorkOrders(ctx, fieldsync.WorkOrderFilter{AssetID: "a2"}); len(byAsset) != 0 {
		t.Fatalf("work orders of another asset: %+v", byAsset)
	}
	certs, err := w.db.Certificates(ctx, "a1")
	must(t, err)
	if len(certs) != 2 {
		t.Fatalf("%d certificates, want one per repaired part", len(certs))
	}
	// 18:00 China time on 31 August: six months end on 28 February.
	c := certs[1] // by work order, then part
	if c.Part != "major" || c.RepairedOn != "2026-08-31" || c.ExpiresOn != "2027-02-28" || !c.UnderWarranty || c.WorkOrderID != o.ID || c.Period != (fieldsync.Period{Amount: 6, Unit: "months"}) {
		t.Fatalf("certificate %+v", c)
	}
	entries, _, err := w.db.Audit(ctx, fieldsync.AuditFilter{Entity: fieldsync.EntityWorkOrder, ID: o.ID})
	must(t, err)
	if len(entries) != 1 || entries[0].Action != "workorder.create" {
		t.Fatalf("audit of the work order: %+v", entries)
	}

	gotA, _ := w.pull(t, w.techA, "")
	if gotA["certificate/"+c.ID] != "upsert" {
		t.Fatalf("the repairing technician's feed lacks the certificate: %v", gotA)
	}
	gotB, _ := w.pull(t, w.techB, "")
	if _, ok := gotB["certificate/"+c.ID]; ok {
		t.Fatalf("another technician sees the certificate: %v", gotB)
	}
	must(t, bookVisit(ctx, w.db, &fieldsync.Visit{ID: "v-later", TicketID: w.ticket, TechnicianID: w.techB, Status: fieldsync.VisitScheduled, CreatedAt: w.now}, fieldsync.Actor{UserID: "admin"}))
	gotB, _ = w.pull(t, w.techB, "")
	if gotB["certificate/"+c.ID] != "upsert" || gotB["certificate/"+certs[0].ID] != "upsert" {
		t.Fatalf("the technician of a later visit on the asset lacks its certificates: %v", gotB)
	}
}
