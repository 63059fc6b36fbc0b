// Package web renders the server's HTML pages: html/template pages on one
// base layout, embedded with the binary, in zh-CN or en from one message
// catalogue (messages.go), with static assets under content-hashed names.
// Every page carries a strict Content-Security-Policy: no inline script or
// style, everything from the server's own origin.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"golang.org/x/text/language"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// The languages pages are written in; the first is the default.
const (
	ZhCN = "zh-CN"
	En   = "en"
)

// Langs lists the catalogue's languages, the default first.
var Langs = []string{ZhCN, En}

var matcher = language.NewMatcher([]language.Tag{language.SimplifiedChinese, language.English})

// LangCookie holds the language a reader chose with the switch.
const LangCookie = "lang"

// Lang chooses the language of a page: the lang query parameter (the
// switch), then the lang cookie, then Accept-Language, then zh-CN. fromQuery
// reports a choice the switch made, which the caller keeps in the cookie.
func Lang(r *http.Request) (lang string, fromQuery bool) {
	if l := known(r.URL.Query().Get("lang")); l != "" {
		return l, true
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l := known(c.Value); l != "" {
			return l, false
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return ZhCN, false
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return ZhCN, false
	}
	return Langs[i], false
}

func known(l string) string {
	for _, k := range Langs {
		if strings.EqualFold(l, k) {
			return k
		}
	}
	return ""
}

// CSP is every page's Content-Security-Policy.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Secure sets the headers every page and asset carries.
func Secure(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// asset is a static file under its content-hashed name.
type asset struct {
	body  []byte
	ctype string
}

// Pages holds the parsed pages, per language, and the static assets.
type Pages struct {
	pages  map[string]map[string]*template.Template // lang -> page -> template
	assets map[string]asset                         // hashed name -> file
	hashed map[string]string                        // plain name -> hashed name
}

// StaticPrefix is where assets are served.
const StaticPrefix = "/static/"

// Load parses every page for every language and hashes the assets.
func Load() (*Pages, error) {
	p := &Pages{pages: map[string]map[string]*template.Template{}, assets: map[string]asset{}, hashed: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		base := path.Base(name)
		ext := path.Ext(base)
		h := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		p.hashed[base] = h
		p.assets[h] = asset{body: body, ctype: mime.TypeByExtension(ext)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	names, err := pageNames()
	if err != nil {
		return nil, err
	}
	for _, lang := range Langs {
		p.pages[lang] = map[string]*template.Template{}
		for _, name := range names {
			t, err := template.New("base.html").Funcs(p.funcs(lang)).ParseFS(templateFS, "templates/base.html", "templates/"+name+".html")
			if err != nil {
				return nil, err
			}
			p.pages[lang][name] = t
		}
	}
	return p, nil
}

// pageNames are the templates other than the base layout.
func pageNames() ([]string, error) {
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if n := strings.TrimSuffix(e.Name(), ".html"); n != "base" {
			out = append(out, n)
		}
	}
	return out, nil
}

// cst is China time, in which pages state times.
var cst = time.FixedZone("CST", 8*3600)

func (p *Pages) funcs(lang string) template.FuncMap {
	return template.FuncMap{
		// T is the catalogue's text for key; an unknown key fails the page.
		"T": func(key string) (string, error) { return text(lang, key) },
		// Tk is the text of key prefix+"."+value, for values named in the
		// catalogue (outcomes, kinds).
		"Tk": func(prefix, value string) (string, error) { return text(lang, prefix+"."+value) },
		// L picks, of a text given in both languages, the page's.
		"L": func(zh, en string) string {
			if lang == En && en != "" {
				return en
			}
			return zh
		},
		"asset": func(name string) (string, error) {
			h, ok := p.hashed[name]
			if !ok {
				return "", fmt.Errorf("web: no asset %q", name)
			}
			return StaticPrefix + h, nil
		},
		"yuan": Yuan,
		"when": func(t time.Time) string { return t.In(cst).Format("2006-01-02 15:04") },
	}
}

// Yuan writes an amount in fen as yuan: ¥1,234.50.
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	y := fmt.Sprint(fen / 100)
	for i := len(y) - 3; i > 0; i -= 3 {
		y = y[:i] + "," + y[i:]
	}
	return fmt.Sprintf("%s¥%s.%02d", sign, y, fen%100)
}

// Page is what every template receives: the page's language, the link
// that switches it, and the page's own data.
type Page struct {
	Lang   string
	Switch template.URL // the same page in the other language
	Data   any
}

// Render writes page in the request's language with status, setting the
// security headers and, when the switch chose the language, its cookie.
func (p *Pages) Render(w http.ResponseWriter, r *http.Request, status int, page string, data any) error {
	lang, chosen := Lang(r)
	t, ok := p.pages[lang][page]
	if !ok {
		return fmt.Errorf("web: no page %q", page)
	}
	other := En
	if lang == En {
		other = ZhCN
	}
	q := url.Values{"lang": {other}}
	var buf bytes.Buffer
	if err := t.Execute(&buf, Page{Lang: lang, Switch: template.URL(r.URL.Path + "?" + q.Encode()), Data: data}); err != nil {
		return err
	}
	h := w.Header()
	Secure(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Add("Vary", "Accept-Language, Cookie")
	if chosen {
		http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			SameSite: http.SameSiteLaxMode, HttpOnly: true, Secure: r.TLS != nil})
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// ServeAsset writes the asset of a hashed name, cached for good (a new
// content is a new name), or 404.
func (p *Pages) ServeAsset(w http.ResponseWriter, r *http.Request, name string) {
	h := w.Header()
	Secure(h)
	a, ok := p.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
