package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
)

// browser is a staff member's browser: a client with a cookie jar.
type browser struct {
	base string
	c    *http.Client
	csrf string
}

// newBrowser speaks to base over tr, or a plain transport when tr is nil:
// these routes are outside openapi.json, and a stream is never read whole.
func newBrowser(t *testing.T, base string, tr http.RoundTripper) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	cl := &http.Client{Jar: jar, Transport: tr}
	return &browser{base: base, c: cl}
}

func (b *browser) post(t *testing.T, path string, form url.Values, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return b.send(t, req)
}

func (b *browser) send(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res, out
}

func (b *browser) login(t *testing.T, login string) *http.Response {
	t.Helper()
	res, out := b.post(t, "/dispatch/login", url.Values{"login": {login}, "password": {login + "-password"}}, nil)
	if res.StatusCode == 200 {
		b.csrf, _ = out["csrf_token"].(string)
	}
	return res
}

func (b *browser) get(t *testing.T, path string) (*http.Response, map[string]any) {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.send(t, req)
}

func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", SessionCookie, res.Header["Set-Cookie"])
	return nil
}

func TestBrowserSession(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	b := newBrowser(t, w.URL, nil)

	res := b.login(t, "disp")
	if res.StatusCode != 200 || b.csrf == "" {
		t.Fatalf("login: %d", res.StatusCode)
	}
	ck := sessionCookie(t, res)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure || ck.Path != "/" || ck.MaxAge <= 0 {
		t.Errorf("cookie over plain HTTP = %+v, want HttpOnly, SameSite=Lax, not Secure, Path=/, bounded", ck)
	}
	if strings.Count(ck.Value, ".") == 2 || ck.Value == b.csrf {
		t.Errorf("the cookie holds a JWT or the CSRF token")
	}
	if res, out := b.get(t, "/dispatch/session"); res.StatusCode != 200 || out["login"] != "disp" || out["role"] != "dispatcher" || out["csrf_token"] != b.csrf {
		t.Fatalf("session: %d %v", res.StatusCode, out)
	}

	t.Run("technicians and customers are refused", func(t *testing.T) {
		for _, login := range []string{"tech.a", "cust.a"} {
			if res := newBrowser(t, w.URL, nil).login(t, login); res.StatusCode != 403 {
				t.Errorf("%s: %d, want 403", login, res.StatusCode)
			}
		}
	})
	t.Run("wrong passwords are throttled like the API", func(t *testing.T) {
		o := newBrowser(t, w.URL, nil)
		codes := []int{}
		for range 7 {
			res, out := o.post(t, "/dispatch/login", url.Values{"login": {"ghost"}, "password": {"wrong-password"}}, nil)
			codes = append(codes, res.StatusCode)
			if res.StatusCode == 429 && out["code"] != fieldsync.EThrottled {
				t.Errorf("throttled with code %v", out["code"])
			}
		}
		if codes[0] != 401 || codes[len(codes)-1] != 429 {
			t.Errorf("statuses %v, want 401 first and 429 at last", codes)
		}
	})
	t.Run("a change without the CSRF token is refused", func(t *testing.T) {
		res, out := b.post(t, "/dispatch/logout", nil, nil)
		if res.StatusCode != 403 || out["code"] != fieldsync.ECSRFFailed {
			t.Fatalf("no token: %d %v", res.StatusCode, out)
		}
		res, out = b.post(t, "/dispatch/logout", url.Values{"csrf_token": {"wrong"}}, nil)
		if res.StatusCode != 403 || out["code"] != fieldsync.ECSRFFailed {
			t.Fatalf("wrong token: %d %v", res.StatusCode, out)
		}
	})
	t.Run("a cross-origin change is refused", func(t *testing.T) {
		res, out := b.post(t, "/dispatch/logout", url.Values{"csrf_token": {b.csrf}}, map[string]string{"Origin": "https://evil.example"})
		if res.StatusCode != 403 || out["code"] != fieldsync.ECSRFFailed {
			t.Fatalf("cross origin: %d %v", res.StatusCode, out)
		}
		res, out = b.post(t, "/dispatch/logout", url.Values{"csrf_token": {b.csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
		if res.StatusCode != 403 || out["code"] != fieldsync.ECSRFFailed {
			t.Fatalf("cross site: %d %v", res.StatusCode, out)
		}
	})
	t.Run("logout with the token ends the session", func(t *testing.T) {
		o := newBrowser(t, w.URL, nil)
		o.login(t, "admin")
		res, _ := o.post(t, "/dispatch/logout", url.Values{"csrf_token": {o.csrf}}, map[string]string{"Origin": w.URL})
		if res.StatusCode != 204 {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		if res, _ := o.get(t, "/dispatch/session"); res.StatusCode != 401 {
			t.Fatalf("after logout (cookie cleared): %d", res.StatusCode)
		}
	})
	t.Run("a disabled account's session is refused", func(t *testing.T) {
		res, out := b.get(t, "/dispatch/session")
		if res.StatusCode != 200 {
			t.Fatalf("before: %d %v", res.StatusCode, out)
		}
		w.call(t, w.admin, "POST", "/v1/users/"+w.dispID+"/disable", nil, 200, nil)
		res, out = b.get(t, "/dispatch/session")
		if res.StatusCode != 403 || out["code"] != fieldsync.EAccountDisabled {
			t.Fatalf("disabled: %d %v", res.StatusCode, out)
		}
		w.call(t, w.admin, "POST", "/v1/users/"+w.dispID+"/enable", nil, 200, nil)
	})
	for _, line := range strings.Split(w.logs.String(), "\n") {
		if strings.Contains(line, ck.Value) || strings.Contains(line, b.csrf) {
			t.Errorf("a log line holds the session cookie or CSRF token: %s", line)
		}
	}
}

func TestBrowserSessionCookieIsSecureOverTLS(t *testing.T) {
	ts := newTestServer(t)
	ts.user(t, "disp", fieldsync.RoleDispatcher)
	tls := httptest.NewTLSServer(ts.api)
	defer tls.Close()
	b := newBrowser(t, tls.URL, tls.Client().Transport)
	res := b.login(t, "disp")
	if res.StatusCode != 200 {
		t.Fatalf("login: %d", res.StatusCode)
	}
	if ck := sessionCookie(t, res); !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie over TLS = %+v, want Secure, HttpOnly, SameSite=Lax", ck)
	}
}

func TestBrowserEventStream(t *testing.T) {
	w := newDispatchWorld(t, date(2026, 3, 10, 9))
	in := w.intake(t, "", fieldsync.ZoneCity)
	v := w.visit(t, in.ticket, w.techAID)
	tab := w.device(t, "tech.a", "tab-a")
	b := newBrowser(t, w.URL, nil)
	if res := b.login(t, "disp"); res.StatusCode != 200 {
		t.Fatalf("login: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", w.URL+eventsPath, nil)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitFor := func(what string, want func(string) bool) {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before %s", what)
				}
				if want(l) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s on the stream", what)
			}
		}
	}
	waitFor("opening comment", func(l string) bool { return l == ": open" })
	tab.push(t, tab.mutation("visit", v.ID, "action", "depart", nil))
	waitFor("changed event after a push", func(l string) bool { return l == "event: changed" })
	waitFor("heartbeat", func(l string) bool { return l == ": heartbeat" })

	// Logout closes the stream.
	b.post(t, "/dispatch/logout", url.Values{"csrf_token": {b.csrf}}, nil)
	deadline := time.After(60 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream stayed open after logout")
		}
	}
}
