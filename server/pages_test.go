package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/browsertest"
	"github.com/fieldsync/fieldsync/warranty"
	"github.com/fieldsync/fieldsync/web"
)

// A customer opens a sealed report's share link on a phone: the page
// shows its photos and the seal in the language the phone asks for, and
// switches language; a link past its expiry says so in a page of its own.
func TestCustomerReadsReportPageOnPhone(t *testing.T) {
	w := newMediaWorld(t, "local")
	cc, _ := w.signedCase(t, w.custAUser, "0190f000-0000-7000-8000-0000000000e1", 41)
	l := w.link(t, w.disp, cc.report, map[string]any{"expires_in_days": 1})
	page := w.URL + "/r/" + l.Token

	ctx := browsertest.New(t)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tab, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tab, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "zh-CN,zh;q=0.9"}})
			return err
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.RunResponse(ctx, chromedp.Navigate(page))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("the report page: %d", res.Status)
	}
	photosShown := `(() => { const imgs = [...document.querySelectorAll('#photos img')];
		return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](photosShown)); err != nil {
		t.Fatalf("the photos do not show: %v", err)
	}
	badge, err := chromedp.Run(ctx, chromedp.Text("#badge"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(badge, "已封存") || !strings.Contains(badge, "未被更改") {
		t.Fatalf("the badge in zh-CN: %q", badge)
	}
	if _, err := chromedp.Run(ctx, chromedp.Text("#verify")); err != nil {
		t.Fatalf("no bundle link: %v", err)
	}

	// The switch: English, kept for the next page by its cookie.
	if err := chromedp.Do(ctx, chromedp.Click("#lang-switch")); err != nil {
		t.Fatal(err)
	}
	if err := until(ctx, `document.documentElement.lang === "en" && document.readyState === "complete"`); err != nil {
		t.Fatalf("the page did not switch to English: %v", err)
	}
	badge, err = chromedp.Run(ctx, chromedp.Text("#badge"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(badge, "Sealed") || !strings.Contains(badge, "unchanged") {
		t.Fatalf("the badge in en: %q", badge)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](photosShown)); err != nil {
		t.Fatalf("the photos do not show in English: %v", err)
	}

	// Past its expiry, the link is a clear page, in the chosen language.
	w.clock.Advance(25 * time.Hour)
	res, err = chromedp.RunResponse(ctx, chromedp.Navigate(page))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusGone {
		t.Fatalf("an expired link: %d", res.Status)
	}
	gone, err := chromedp.Run(ctx, chromedp.Text("#gone"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(gone, "expired") {
		t.Fatalf("the expired page: %q", gone)
	}
}

// The page's HTTP answers: the security headers, the language from
// Accept-Language and the switch, pages for links that do not open, and
// no token in the log.
func TestReportPageHeaders(t *testing.T) {
	w := newMediaWorld(t, "local")
	cc := w.customerCase(t, w.custAUser, "0190f000-0000-7000-8000-0000000000e2", 42)
	l := w.link(t, w.disp, cc.report, nil)
	get := func(path, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", w.URL+path, nil)
		req.Header.Set("Accept-Language", accept)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(b)
	}
	res, body := get("/r/"+l.Token, "en-GB,en;q=0.8")
	h := res.Header
	if res.StatusCode != 200 || h.Get("Content-Security-Policy") != web.CSP || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Referrer-Policy") != "no-referrer" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %v", res.StatusCode, h)
	}
	if !strings.Contains(body, `lang="en"`) || !strings.Contains(body, "Service report") || strings.Contains(body, "<script") || strings.Contains(body, "style=") {
		t.Fatalf("page body: %s", body)
	}
	if !strings.Contains(body, "/v1/shared/"+l.Token+"/media/"+cc.sha) {
		t.Fatalf("the page does not show the photo: %s", body)
	}
	// The style sheet the page names is served, cached for good.
	i := strings.Index(body, web.StaticPrefix)
	css := body[i : i+strings.Index(body[i:], `"`)]
	res, _ = get(css, "")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("%s: %d %v", css, res.StatusCode, res.Header)
	}
	if res, _ := get(web.StaticPrefix+"app.css", ""); res.StatusCode != 404 {
		t.Fatalf("an unhashed asset name: %d", res.StatusCode)
	}

	res, body = get("/r/"+l.Token+"?lang=zh-CN", "en")
	if res.StatusCode != 200 || !strings.Contains(body, "服务报告") || !strings.Contains(res.Header.Get("Set-Cookie"), "lang=zh-CN") {
		t.Fatalf("the switch: %d %v", res.StatusCode, res.Header)
	}

	res, body = get("/r/"+strings.Repeat("A", 43), "zh-CN")
	if res.StatusCode != 404 || !strings.Contains(body, "找不到此报告") || res.Header.Get("Content-Security-Policy") != web.CSP {
		t.Fatalf("an unknown token: %d %s", res.StatusCode, body)
	}
	w.call(t, w.disp, "DELETE", "/v1/reports/"+cc.report+"/links/"+l.ID, nil, 200, nil)
	res, body = get("/r/"+l.Token, "zh-CN")
	if res.StatusCode != 410 || !strings.Contains(body, "此报告链接已被撤销") {
		t.Fatalf("a revoked link: %d %s", res.StatusCode, body)
	}
	if strings.Contains(w.logs.String(), l.Token) {
		t.Fatalf("the log holds a link token")
	}
}

// until waits for expr to hold on the tab, across the navigation a click
// starts (which ends the evaluations under way), until ctx ends.
func until(ctx context.Context, expr string) error {
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %v)", expr, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Every section of the report page renders in both languages: the
// warranty decision and its explanation, the quote in yuan, the pick-up
// slip and the customer's sign-off.
func TestReportPageSections(t *testing.T) {
	now := time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	r := fieldsync.Report{ID: "r1", Status: fieldsync.ReportSealed, Findings: "屏幕背光故障",
		Signature: &fieldsync.Signature{CustomerName: "刘女士", SignedAt: now},
		Quote: &fieldsync.ReportQuote{Currency: "CNY", Decision: fieldsync.QuoteAccepted, TotalFen: 123450,
			Lines: []fieldsync.QuoteLine{{Kind: "part", Name: fieldsync.QuoteNames{ZhCN: "背光灯条", En: "Backlight strip"}, Qty: 1, UnitFen: 123450, TotalFen: 123450}}},
		Pickup: &fieldsync.ReportPickup{Kind: fieldsync.PickupReturn, Accessories: []fieldsync.PickupCheck{{Accessory: "遥控器", Present: false}},
			Deductions: []fieldsync.PickupDeduction{{Accessory: "遥控器", Fen: 5000}}, TotalFen: 94900, CollectedAt: now},
	}
	p := reportPage{
		View: sharedView{Report: reportView{Report: r, CustomerSignOff: &fieldsync.SignOff{Decision: fieldsync.SignOffSigned, CustomerName: "刘女士"}},
			Status: r.Status, Seal: &fieldsync.Seal{LogIndex: 7}, BundleURL: "/v1/shared/x/bundle"},
		Warranty: &warranty.Decision{Outcome: warranty.FreeRepair, Options: []warranty.Outcome{warranty.FreeRepair, warranty.PaidRepair},
			Explanation: []warranty.Line{{Rule: "part_warranty", Text: warranty.Text{ZH: "部件在保修期内", EN: "The part is within its warranty"}}}},
		SealedAt: now, SignOffAt: now,
	}
	for lang, want := range map[string][]string{
		web.ZhCN: {"免费维修", "部件在保修期内", "背光灯条", "¥1,234.50", "退货取件", "¥949.00", "已封存", "#7", "2026-03-10 09:00", "fieldsync verify"},
		web.En:   {"Free repair", "The part is within its warranty", "Backlight strip", "¥1,234.50", "Return pick-up", "Accepted", "Sealed", "fieldsync verify"},
	} {
		rec := httptest.NewRecorder()
		if err := pages.Render(rec, httptest.NewRequest("GET", "/r/x?lang="+lang, nil), 200, "report", p); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		for _, w := range want {
			if !strings.Contains(rec.Body.String(), w) {
				t.Errorf("%s: the page lacks %q", lang, w)
			}
		}
	}
}
