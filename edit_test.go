package fieldsync

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func patchOf(t *testing.T, s string) Patch {
	t.Helper()
	var p Patch
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEditsAreStrict(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, patch string
		edit        func(Patch) error
		code, names string // names: what the detail must name
	}{
		{"customer name", `{"name":"王先生"}`, func(p Patch) error { c := Customer{Name: "a", Phone: "1"}; return c.Edit(p) }, "", ""},
		{"customer unknown field", `{"nickname":"x"}`, func(p Patch) error { c := Customer{Name: "a", Phone: "1"}; return c.Edit(p) }, EInvalid, "nickname"},
		{"customer immutable id", `{"id":"x"}`, func(p Patch) error { c := Customer{Name: "a", Phone: "1"}; return c.Edit(p) }, EInvalid, "id: cannot be changed"},
		{"customer cleared name", `{"name":null}`, func(p Patch) error { c := Customer{Name: "a", Phone: "1"}; return c.Edit(p) }, EInvalid, "name"},
		{"customer phone of the wrong type", `{"phone":5}`, func(p Patch) error { c := Customer{Name: "a", Phone: "1"}; return c.Edit(p) }, EInvalid, "phone"},
		{"empty patch", `{}`, func(p Patch) error { c := Customer{Name: "a", Phone: "1"}; return c.Edit(p) }, EInvalid, "changes nothing"},
		{"site zone", `{"zone":"township"}`, func(p Patch) error { s := Site{CustomerID: "c", Address: "a", Zone: ZoneCity}; return s.Edit(p) }, "", ""},
		{"site unknown zone", `{"zone":"moon"}`, func(p Patch) error { s := Site{CustomerID: "c", Address: "a", Zone: ZoneCity}; return s.Edit(p) }, EInvalid, "moon"},
		{"site customer", `{"customer_id":"c2"}`, func(p Patch) error { s := Site{CustomerID: "c", Address: "a", Zone: ZoneCity}; return s.Edit(p) }, EInvalid, "customer_id"},
		{"asset seller cleared", `{"seller":null,"serial":"SN9"}`, func(p Patch) error {
			a := Asset{CustomerID: "c", Category: CategoryTV, Model: "m", Serial: "s", Seller: "x"}
			if err := a.Edit(p); err != nil || a.Seller != "" || a.Serial != "SN9" {
				return Errorf(EInternal, "%+v %v", a, err)
			}
			return nil
		}, "", ""},
		{"asset bad date", `{"invoice_date":"2026-13-01"}`, func(p Patch) error {
			a := Asset{CustomerID: "c", Category: CategoryTV, Model: "m", Serial: "s"}
			return a.Edit(p)
		}, EInvalid, "invoice_date"},
		{"asset category", `{"category":"phone"}`, func(p Patch) error {
			a := Asset{CustomerID: "c", Category: CategoryTV, Model: "m", Serial: "s"}
			return a.Edit(p)
		}, EInvalid, "category"},
		{"closed ticket", `{"description":"x"}`, func(p Patch) error {
			tk := Ticket{Status: TicketClosed}
			return tk.Edit(p, now, nil)
		}, EConflict, "closed"},
		{"ticket intake in the future", `{"created_at":"2026-03-11T00:00:00Z"}`, func(p Patch) error {
			tk := Ticket{CustomerID: "c", SiteID: "s", AssetID: "a", Channel: ChannelWeb, Kind: KindRepair, Description: "d", Status: TicketOpen, CreatedAt: now.Add(-time.Hour)}
			return tk.Edit(p, now, nil)
		}, EInvalid, "created_at"},
		{"ticket status", `{"status":"closed"}`, func(p Patch) error {
			tk := Ticket{Status: TicketOpen}
			return tk.Edit(p, now, nil)
		}, EInvalid, "status: cannot be changed"},
		{"completed visit's window", `{"window_end":"2026-03-10T12:00:00Z"}`, func(p Patch) error {
			v := Visit{Status: VisitCompleted, WindowStart: now, WindowEnd: now.Add(time.Hour)}
			return v.Edit(p, now)
		}, EConflict, "completed"},
		{"completed visit's notes", `{"notes":"gate code 1234"}`, func(p Patch) error {
			v := Visit{Status: VisitCompleted, WindowStart: now, WindowEnd: now.Add(time.Hour)}
			return v.Edit(p, now)
		}, "", ""},
		{"visit window too long", `{"window_end":"2026-03-11T09:00:00Z"}`, func(p Patch) error {
			v := Visit{Status: VisitScheduled, WindowStart: now, WindowEnd: now.Add(time.Hour)}
			return v.Edit(p, now)
		}, EInvalid, "at most"},
		{"visit status", `{"status":"completed"}`, func(p Patch) error {
			v := Visit{Status: VisitScheduled}
			return v.Edit(p, now)
		}, EInvalid, "status"},
	} {
		err := c.edit(patchOf(t, c.patch))
		if ErrorCode(err) != c.code || !strings.Contains(ErrorDetail(err), c.names) {
			t.Errorf("%s: %v, want code %q naming %q", c.name, err, c.code, c.names)
		}
	}
}

type onSitePromises struct{ due time.Time }

func (f onSitePromises) OnSiteDue(Zone, time.Time) (time.Time, string, error) { return f.due, "", nil }
func (f onSitePromises) SecondVisitDue(time.Time) (time.Time, string, error)  { return f.due, "", nil }

func TestReplanOnSite(t *testing.T) {
	old, due := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 13, 9, 0, 0, 0, time.UTC)
	visits := []Visit{
		{ID: "done", Status: VisitCompleted, Due: old},
		{ID: "second", Status: VisitScheduled, PreviousVisitID: "x", Due: old},
		{ID: "onsite", Status: VisitOnSite, Due: old},
		{ID: "open", Status: VisitScheduled, Due: old},
	}
	changed, moves, err := ReplanOnSite(&Ticket{}, ZoneTownship, visits, false, old, onSitePromises{due})
	if err != nil || len(changed) != 1 || changed[0].ID != "open" || !changed[0].Due.Equal(due) ||
		len(moves) != 1 || moves[0] != (DueChange{VisitID: "open", DueBefore: old, DueAfter: due}) {
		t.Fatalf("replan: %+v %+v %v", changed, moves, err)
	}
	if changed, _, _ := ReplanOnSite(&Ticket{}, ZoneTownship, visits, true, old, onSitePromises{due}); len(changed) != 0 {
		t.Fatalf("a collection's deadline was recounted: %+v", changed)
	}
}
