package server

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// slipDevice signs a tablet in on a fresh database and returns it with
// the slip prefix its login answered.
func (w *dispatchWorld) slipDevice(t *testing.T, login, id string) (*device, string) {
	t.Helper()
	key := newDeviceKey(t)
	s := w.loginWithKey(t, login, id, key.Public().(ed25519.PublicKey))
	return &device{w: w, id: id, token: s.AccessToken, install: s.InstallID, clock: syncproto.NewClock(id, w.clock.Now), key: key}, s.SlipPrefix
}

// Each install's login answers its own slip prefix, the same at every
// later login of that install; a fresh database on the same tablet gets
// another.
func TestLoginAnswersTheInstallsSlipPrefix(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	one, p1 := w.slipDevice(t, "tech.a", "tab-1")
	two, p2 := w.slipDevice(t, "tech.a", "tab-2")
	for _, p := range []string{p1, p2} {
		if !fieldsync.ValidSlipPrefix(p) {
			t.Fatalf("slip prefix %q", p)
		}
	}
	if p1 == p2 {
		t.Fatalf("two tablets got one slip prefix %s", p1)
	}
	if again := w.loginWith(t, "tech.a", "tab-1", map[string]string{"install_id": one.install}); again.InstallID != one.install || again.SlipPrefix != p1 {
		t.Errorf("a later login of tab-1's install: %s %s, want %s %s", again.InstallID, again.SlipPrefix, one.install, p1)
	}
	if fresh := w.loginWith(t, "tech.a", "tab-2", nil); fresh.InstallID == two.install || fresh.SlipPrefix == p2 || fresh.SlipPrefix == p1 || fresh.SlipPrefix == "" {
		t.Errorf("a fresh database on tab-2: install %s, prefix %q (tab-1 %s, tab-2 %s)", fresh.InstallID, fresh.SlipPrefix, p1, p2)
	}
}

// A report's slip number is the pushing install's to issue and the
// report's alone: another install's prefix and a number another report
// holds are refused, the number never changes, and it is printed on the
// report and covered by its signature.
func TestPushChecksSlipNumbers(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	v := w.visit(t, w.intake(t, w.custAUser, fieldsync.ZoneCity).ticket, w.techAID)
	one, p1 := w.slipDevice(t, "tech.a", "tab-1")
	two, p2 := w.slipDevice(t, "tech.a", "tab-2")
	create := func(d *device, id, slip string) syncproto.Result {
		t.Helper()
		fields := map[string]any{"visit_id": v.ID, "template_id": "tv-v1"}
		if slip != "" {
			fields["slip_no"] = slip
		}
		return d.push(t, d.mutation("report", id, "upsert", "", fields))[0]
	}
	want := func(t *testing.T, res syncproto.Result, status, code, detail string) {
		t.Helper()
		if res.Status != status || res.Code != code || !strings.Contains(res.Detail, detail) {
			t.Fatalf("got %s %s %q, want %s %s naming %q", res.Status, res.Code, res.Detail, status, code, detail)
		}
	}
	const (
		r1 = "0190f000-0000-7000-8000-0000000005a1"
		r2 = "0190f000-0000-7000-8000-0000000005a2"
		r3 = "0190f000-0000-7000-8000-0000000005a3"
		r4 = "0190f000-0000-7000-8000-0000000005a4"
		r5 = "0190f000-0000-7000-8000-0000000005a5"
	)
	s1, s2 := p1+"-2026-000001", p2+"-2026-000001"
	want(t, create(one, r1, s1), "applied", "", "")
	want(t, create(two, r2, s1), "rejected", fieldsync.ESlipPrefix, "this install's slip prefix is "+p2)
	want(t, create(two, r2, s2), "applied", "", "")
	want(t, create(one, r3, s1), "rejected", fieldsync.ESlipTaken, s1)
	want(t, create(one, r4, p1+"-2026-1"), "rejected", fieldsync.EInvalid, "PREFIX-YYYY-NNNNNN")
	want(t, create(one, r5, ""), "applied", "", "") // an older app numbers nothing
	edit := func(d *device, id, slip string) syncproto.Result {
		return d.push(t, d.mutation("report", id, "upsert", "", map[string]any{"slip_no": slip}))[0]
	}
	want(t, edit(one, r1, p1+"-2026-000002"), "rejected", fieldsync.EInvalid, "slip_no is issued when a report is made")
	want(t, edit(one, r5, p1+"-2026-000003"), "rejected", fieldsync.EInvalid, "slip_no is issued when a report is made")

	var got struct {
		SlipNo string `json:"slip_no"`
	}
	w.call(t, w.disp, "GET", "/v1/reports/"+r1, nil, 200, &got)
	if got.SlipNo != s1 {
		t.Errorf("the dispatcher reads slip_no %q, want %s", got.SlipNo, s1)
	}
	w.call(t, w.custA, "GET", "/v1/reports/"+r2, nil, 200, &got)
	if got.SlipNo != s2 {
		t.Errorf("the customer reads slip_no %q, want %s", got.SlipNo, s2)
	}

	// The number is part of the signed document: a signature over another
	// number does not hold.
	answers := map[string]any{}
	for _, it := range w.template(t, "tv-v1").Items {
		if it.Required {
			answers[it.ID] = sampleAnswer(it)
		}
	}
	want(t, one.push(t, one.mutation("report", r1, "upsert", "", map[string]any{"answers": answers}))[0], "applied", "", "")
	stored, err := w.store.Report(t.Context(), r1)
	noErr(t, err)
	forged := stored.Clone()
	forged.SlipNo = p1 + "-2026-000099"
	want(t, one.push(t, one.sign(t, r1, signing{report: &forged}))[0], "rejected", fieldsync.ESealHashMismatch, "")
	want(t, one.push(t, one.sign(t, r1, signing{}))[0], "applied", "", "")
}
