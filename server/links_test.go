package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/signature"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/seal"
	"github.com/fieldsync/fieldsync/sync/translog"
)

type linkJSON struct {
	ID        string    `json:"id"`
	ReportID  string    `json:"report_id"`
	URL       string    `json:"url"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

type sharedJSON struct {
	Report struct {
		reportJSON
		CustomerSignOff *fieldsync.SignOff `json:"customer_sign_off"`
	} `json:"report"`
	Status       string          `json:"status"`
	Seal         json.RawMessage `json:"seal"`
	SignURL      string          `json:"sign_url"`
	SignatureURL string          `json:"signature_url"`
	BundleURL    string          `json:"bundle_url"`
}

// signedCase is a customer's report, completed and signed from technician
// A's tablet with its device key, and sealed; it returns the canonical
// hash the device signed.
func (w *mediaWorld) signedCase(t *testing.T, user, report string, seed int64) (customerCase, string) {
	t.Helper()
	cc := w.customerCase(t, user, report, seed)
	tab := w.device(t, "tech.a", "tab-s"+report[len(report)-2:])
	answers := map[string]any{}
	for _, it := range w.template(t, "tv-v1").Items {
		if it.Required {
			answers[it.ID] = sampleAnswer(it)
		}
	}
	if rs := tab.push(t, tab.mutation("report", report, "upsert", "", map[string]any{"answers": answers})); rs[0].Status != syncproto.Applied {
		t.Fatalf("complete: %s", statuses(rs))
	}
	if rs := tab.push(t, tab.sign(t, report, signing{})); rs[0].Status != syncproto.Applied {
		t.Fatalf("sign: %s", statuses(rs))
	}
	r, err := w.store.Report(t.Context(), report)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != fieldsync.ReportSealed || r.Signature == nil {
		t.Fatalf("the signed report is %s", r.Status)
	}
	return cc, r.Signature.Hash
}

func (w *mediaWorld) link(t *testing.T, token, report string, body any) linkJSON {
	t.Helper()
	var l linkJSON
	w.call(t, token, "POST", "/v1/reports/"+report+"/links", body, 201, &l)
	if l.ReportID != report || len(l.Token) != 43 || l.URL != "/v1/shared/"+l.Token {
		t.Fatalf("link: %+v", l)
	}
	return l
}

func (w *mediaWorld) logSize(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := w.store.ViewLog(t.Context(), func(r translog.Reader) (err error) { n, err = r.Size(); return err }); err != nil {
		t.Fatal(err)
	}
	return n
}

// Share links are made by staff and the report's technician; through one,
// anyone reads the report as its customer does, and its photos, without
// an account, until it is revoked or expires.
func TestShareLinks(t *testing.T) {
	w := newMediaWorld(t, "s3")
	a := w.customerCase(t, w.custAUser, "0190f000-0000-7000-8000-0000000000a1", 21)
	b := w.customerCase(t, w.custBUser, "0190f000-0000-7000-8000-0000000000b1", 22)
	now := w.clock.Now().UTC()

	// Who may make one.
	l := w.link(t, w.techA, a.report, nil)
	if !l.ExpiresAt.Equal(now.AddDate(0, 0, 30)) {
		t.Errorf("default expiry %s, want 30 days after %s", l.ExpiresAt, now)
	}
	if week := w.link(t, w.admin, a.report, map[string]any{"expires_in_days": 7}); !week.ExpiresAt.Equal(now.AddDate(0, 0, 7)) {
		t.Errorf("7-day expiry %s", week.ExpiresAt)
	}
	w.link(t, w.disp, a.report, nil)
	res, body := w.do(t, "POST", "/v1/reports/"+a.report+"/links", w.techB, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	res, body = w.do(t, "POST", "/v1/reports/"+a.report+"/links", w.custA, nil)
	wantProblem(t, res, body, 403, fieldsync.EForbidden)
	res, body = w.do(t, "POST", "/v1/reports/"+a.report+"/links", w.disp, map[string]any{"expires_in_days": 366})
	wantProblem(t, res, body, 400, fieldsync.EInvalid)

	// Staff list them, never with their tokens.
	res, body = w.do(t, "GET", "/v1/reports/"+a.report+"/links", w.disp, nil)
	if res.StatusCode != 200 || bytes.Contains(body, []byte(l.Token)) || bytes.Contains(body, []byte(`"token"`)) {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	var list page[linkJSON]
	json.Unmarshal(body, &list)
	if len(list.Items) != 3 || list.Items[0].ID != l.ID {
		t.Fatalf("links: %+v", list.Items)
	}

	// The report through the link, with no Authorization.
	var sh sharedJSON
	w.call(t, "", "GET", l.URL, nil, 200, &sh)
	if sh.Report.ID != a.report || sh.Status != "draft" || sh.Report.Clocks != nil || sh.BundleURL != "" || sh.SignURL != l.URL+"/sign" {
		t.Fatalf("shared: %+v", sh)
	}
	if len(sh.Report.Photos) != 1 || sh.Report.Photos[0].URL != l.URL+"/media/"+a.sha {
		t.Fatalf("shared photos: %+v", sh.Report.Photos)
	}
	res, body = w.do(t, "GET", sh.Report.Photos[0].URL, "", nil)
	if res.StatusCode != 200 || hexSHA(body) != a.sha || res.Header.Get("Cache-Control") != "private, max-age=31536000, immutable" {
		t.Fatalf("photo through the link: %d %v", res.StatusCode, res.Header)
	}
	res, _ = w.do(t, "HEAD", sh.Report.Photos[0].URL, "", nil)
	if res.StatusCode != 200 || res.Header.Get("ETag") != `"`+a.sha+`"` {
		t.Fatalf("HEAD through the link: %d %v", res.StatusCode, res.Header)
	}
	// Another report's photo is not the link's to show.
	res, body = w.do(t, "GET", l.URL+"/media/"+b.sha, "", nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	if res, _ := w.do(t, "HEAD", l.URL+"/media/"+b.sha, "", nil); res.StatusCode != 404 {
		t.Fatalf("HEAD of another report's photo: %d", res.StatusCode)
	}

	// Unknown tokens, of any form, are 404; the log never holds a token.
	for _, tok := range []string{strings.Repeat("A", 43), "x", strings.Repeat("z", 500)} {
		res, body := w.do(t, "GET", "/v1/shared/"+tok, "", nil)
		wantProblem(t, res, body, 404, fieldsync.ENotFound)
	}
	if strings.Contains(w.logs.String(), l.Token) {
		t.Fatalf("the log holds a link token")
	}

	// Revoked: 410, for the report and its photos, and audited.
	var revoked fieldsync.ShareLink
	w.call(t, w.techA, "DELETE", "/v1/reports/"+a.report+"/links/"+l.ID, nil, 200, &revoked)
	if revoked.RevokedAt == nil {
		t.Fatalf("revoke: %+v", revoked)
	}
	res, body = w.do(t, "GET", l.URL, "", nil)
	wantProblem(t, res, body, 410, fieldsync.ELinkRevoked)
	res, body = w.do(t, "GET", l.URL+"/media/"+a.sha, "", nil)
	wantProblem(t, res, body, 410, fieldsync.ELinkRevoked)
	res, body = w.do(t, "DELETE", "/v1/reports/"+b.report+"/links/"+l.ID, w.disp, nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
	var audit page[fieldsync.AuditEntry]
	w.call(t, w.admin, "GET", "/v1/audit?entity=link&id="+l.ID, nil, 200, &audit)
	if len(audit.Items) != 2 || audit.Items[0].Action != "link.create" || audit.Items[1].Action != "link.revoke" {
		t.Fatalf("audit: %+v", audit.Items)
	}

	// Expired: 410 from its expiry on.
	day := w.link(t, w.disp, a.report, map[string]any{"expires_in_days": 1})
	w.call(t, "", "GET", day.URL, nil, 200, nil)
	w.clock.Advance(24 * time.Hour)
	res, body = w.do(t, "GET", day.URL, "", nil)
	wantProblem(t, res, body, 410, fieldsync.ELinkExpired)
}

// The customer signs the version they reviewed through the link, once;
// the sign-off is sealed with the server key and is the log's record at
// its index. A refusal is kept and shown to dispatchers.
func TestRemoteSignOff(t *testing.T) {
	w := newMediaWorld(t, "s3")
	draft := w.customerCase(t, w.custAUser, "0190f000-0000-7000-8000-0000000000d1", 31)
	dl := w.link(t, w.disp, draft.report, nil)
	strokes := signature.Builtin()
	res, body := w.do(t, "POST", dl.URL+"/sign", "", map[string]any{"customer_name": "王芳", "strokes": strokes, "hash": strings.Repeat("0", 64)})
	if p := wantProblem(t, res, body, 409, fieldsync.EInvalidTransition); !strings.Contains(p.Detail, "draft") {
		t.Errorf("detail %q does not say the report is a draft", p.Detail)
	}

	a, hash := w.signedCase(t, w.custAUser, "0190f000-0000-7000-8000-0000000000a1", 32)
	l := w.link(t, w.techA, a.report, nil)
	var sh sharedJSON
	w.call(t, "", "GET", l.URL, nil, 200, &sh)
	if sh.Status != "sealed" || sh.BundleURL != l.URL+"/bundle" {
		t.Fatalf("shared status %q, bundle %q", sh.Status, sh.BundleURL)
	}

	// A hash other than the report's: it changed since the page showed it.
	res, body = w.do(t, "POST", l.URL+"/sign", "", map[string]any{"customer_name": "王芳", "strokes": strokes, "hash": strings.Repeat("ab", 32)})
	wantProblem(t, res, body, 409, fieldsync.EReportChanged)
	res, body = w.do(t, "POST", l.URL+"/sign", "", map[string]any{"customer_name": "王芳", "hash": hash})
	wantProblem(t, res, body, 400, fieldsync.EInvalid)

	before := w.logSize(t)
	var so fieldsync.SignOff
	if res, body := w.do(t, "POST", l.URL+"/sign", "", map[string]any{"customer_name": " 王芳 ", "strokes": strokes, "hash": hash}); res.StatusCode != 201 {
		t.Fatalf("%s %s", body, w.logs.String())
	} else {
		json.Unmarshal(body, &so)
	}
	if so.Decision != fieldsync.SignOffSigned || so.CustomerName != "王芳" || so.Hash != hash || so.LinkID != l.ID || so.LogIndex != before || so.KeyID != w.keys.Signing().Kid {
		t.Fatalf("sign-off: %+v", so)
	}
	if n := w.logSize(t); n != before+1 {
		t.Fatalf("log size %d after the sign-off, want %d", n, before+1)
	}
	if err := seal.VerifySignOff(so, w.keys.Signing().Public()); err != nil {
		t.Fatal(err)
	}
	stmt, err := seal.SignOffStatement(so)
	if err != nil {
		t.Fatal(err)
	}
	var record []byte
	if err := w.store.ViewLog(t.Context(), func(r translog.Reader) (err error) { record, err = translog.ReadRecord(r, so.LogIndex); return err }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(record, stmt) || !bytes.Contains(record, []byte(`"version":"fieldsync-signoff/1"`)) {
		t.Fatalf("log record %s, want the statement %s", record, stmt)
	}

	// The drawn signature, through the link.
	w.call(t, "", "GET", l.URL, nil, 200, &sh)
	if sh.Report.CustomerSignOff == nil || sh.SignatureURL != l.URL+"/media/"+so.SignatureSHA256 {
		t.Fatalf("shared after the sign-off: %+v", sh)
	}
	res, body = w.do(t, "GET", sh.SignatureURL, "", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || hexSHA(body) != so.SignatureSHA256 {
		t.Fatalf("signature: %d %v", res.StatusCode, res.Header)
	}
	if img, err := png.Decode(bytes.NewReader(body)); err != nil || img.Bounds().Dx() != 600 || img.Bounds().Dy() != 200 {
		t.Fatalf("signature PNG: %v", err)
	}

	// Staff and the customer see it on the report.
	for _, tok := range []string{w.disp, w.custA} {
		var r struct {
			CustomerSignOff *fieldsync.SignOff `json:"customer_sign_off"`
		}
		w.call(t, tok, "GET", "/v1/reports/"+a.report, nil, 200, &r)
		if r.CustomerSignOff == nil || r.CustomerSignOff.LogIndex != so.LogIndex || r.CustomerSignOff.Decision != fieldsync.SignOffSigned {
			t.Fatalf("report's sign-off: %+v", r.CustomerSignOff)
		}
	}

	// Once per report.
	res, body = w.do(t, "POST", l.URL+"/sign", "", map[string]any{"refuse": true, "reason": "changed my mind", "hash": hash})
	if p := wantProblem(t, res, body, 409, fieldsync.EConflict); !strings.Contains(p.Detail, fmt.Sprintf("log index %d", so.LogIndex)) {
		t.Errorf("detail %q does not name the first sign-off", p.Detail)
	}

	// A refusal, with its reason, for the dispatcher and in the audit.
	b, _ := w.signedCase(t, w.custBUser, "0190f000-0000-7000-8000-0000000000b1", 33)
	lb := w.link(t, w.disp, b.report, nil)
	before = w.logSize(t)
	res, body = w.do(t, "POST", lb.URL+"/sign", "", map[string]any{"refuse": true})
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
	var refusal fieldsync.SignOff
	w.call(t, "", "POST", lb.URL+"/sign", map[string]any{"refuse": true, "reason": "屏幕仍有竖线"}, 201, &refusal)
	if refusal.Decision != fieldsync.SignOffRefused || refusal.SignatureSHA256 != "" || refusal.LogIndex != before {
		t.Fatalf("refusal: %+v", refusal)
	}
	var r struct {
		CustomerSignOff *fieldsync.SignOff `json:"customer_sign_off"`
	}
	w.call(t, w.disp, "GET", "/v1/reports/"+b.report, nil, 200, &r)
	if r.CustomerSignOff == nil || r.CustomerSignOff.Decision != fieldsync.SignOffRefused || r.CustomerSignOff.Reason != "屏幕仍有竖线" {
		t.Fatalf("the dispatcher's report: %+v", r.CustomerSignOff)
	}
	var audit page[fieldsync.AuditEntry]
	w.call(t, w.admin, "GET", "/v1/audit?entity=signoff&id="+b.report, nil, 200, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Action != "signoff.refused" || audit.Items[0].UserID != "link:"+lb.ID {
		t.Fatalf("audit: %+v", audit.Items)
	}
	if err := w.store.ViewLog(context.Background(), translog.Audit); err != nil {
		t.Fatal(err)
	}
}

// A customer lists the reports of all their tickets without naming one,
// a page at a time, and sees no other customer's; staff still name one.
func TestCustomerListsOwnReports(t *testing.T) {
	w := newMediaWorld(t, "local")
	a1 := w.customerCase(t, w.custAUser, "0190f000-0000-7000-8000-0000000000a1", 41)
	a2 := w.customerCase(t, w.custAUser, "0190f000-0000-7000-8000-0000000000a2", 42)
	b := w.customerCase(t, w.custBUser, "0190f000-0000-7000-8000-0000000000b1", 43)

	var all page[reportJSON]
	w.call(t, w.custA, "GET", "/v1/reports", nil, 200, &all)
	if len(all.Items) != 2 || all.Items[0].ID != a1.report || all.Items[1].ID != a2.report || all.NextCursor == nil || *all.NextCursor != "" {
		t.Fatalf("customer A's reports: %+v", all)
	}
	var first, second page[reportJSON]
	w.call(t, w.custA, "GET", "/v1/reports?limit=1", nil, 200, &first)
	if len(first.Items) != 1 || first.Items[0].ID != a1.report || *first.NextCursor == "" {
		t.Fatalf("first page: %+v", first)
	}
	w.call(t, w.custA, "GET", "/v1/reports?limit=1&cursor="+*first.NextCursor, nil, 200, &second)
	if len(second.Items) != 1 || second.Items[0].ID != a2.report {
		t.Fatalf("second page: %+v", second)
	}
	var bs page[reportJSON]
	w.call(t, w.custB, "GET", "/v1/reports", nil, 200, &bs)
	if len(bs.Items) != 1 || bs.Items[0].ID != b.report {
		t.Fatalf("customer B's reports: %+v", bs)
	}
	res, body := w.do(t, "GET", "/v1/reports", w.disp, nil)
	wantProblem(t, res, body, 400, fieldsync.EInvalid)
}

// Each peer makes at most SharedPerMinute requests of the public routes a
// minute, whatever their tokens.
func TestSharedRateLimit(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	for range SharedPerMinute {
		res, body := w.do(t, "GET", "/v1/shared/"+strings.Repeat("A", 43), "", nil)
		wantProblem(t, res, body, 404, fieldsync.ENotFound)
	}
	res, body := w.do(t, "GET", "/v1/shared/"+strings.Repeat("B", 43), "", nil)
	wantProblem(t, res, body, 429, fieldsync.ETooMany)
	if res.Header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	w.clock.Advance(time.Minute)
	res, body = w.do(t, "GET", "/v1/shared/"+strings.Repeat("B", 43), "", nil)
	wantProblem(t, res, body, 404, fieldsync.ENotFound)
}
