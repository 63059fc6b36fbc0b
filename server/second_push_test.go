package server

import (
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
)

// Each visit action reads only its own fields: need_second_visit its
// parts and note, complete its end reason; depart and arrive none.
func TestPushVisitActionsReadTheirOwnFields(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	v := w.visit(t, w.intake(t, w.custAUser, fieldsync.ZoneCity).ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-1")
	if res := tab.push(t, tab.mutation("visit", v.ID, "action", "depart", map[string]any{"note": "x"}))[0]; res.Status != "rejected" || res.Code != fieldsync.EInvalid || !strings.Contains(res.Detail, "depart and arrive take no fields") {
		t.Fatalf("a depart with fields: %+v", res)
	}
	if res := tab.push(t, tab.mutation("visit", v.ID, "action", "need_second_visit", map[string]any{"end_reason": fieldsync.EndQuoteDeclined}))[0]; res.Status != "rejected" || !strings.Contains(res.Detail, `not "end_reason"`) {
		t.Fatalf("a second visit with a completion's field: %+v", res)
	}
	need := map[string]any{"parts": []map[string]any{{"code": "tv-mainboard", "qty": 1}}, "note": "带主板"}
	for _, res := range tab.push(t,
		tab.mutation("visit", v.ID, "action", "depart", nil),
		tab.mutation("visit", v.ID, "action", "arrive", nil),
		tab.mutation("visit", v.ID, "action", "need_second_visit", need),
	) {
		if res.Status != "applied" {
			t.Fatalf("push: %+v", res)
		}
	}
	var got fieldsync.Visit
	w.call(t, w.disp, "GET", "/v1/visits/"+v.ID, nil, 200, &got)
	if got.Status != fieldsync.VisitNeedsSecondVisit || got.SecondVisit == nil || got.SecondVisit.Note != "带主板" ||
		len(got.SecondVisit.Parts) != 1 || got.SecondVisit.Parts[0] != (fieldsync.PartNeed{Code: "tv-mainboard", Qty: 1}) {
		t.Fatalf("the visit: %+v", got)
	}
}
