package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/fieldsync/fieldsync/warranty"
)

// Every key a template names with T is in the catalogue in both
// languages, and every Tk prefix's values are too.
func TestTemplatesNameOnlyKnownKeys(t *testing.T) {
	p, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for name, tmpl := range p.pages[ZhCN] {
		for _, tt := range tmpl.Templates() {
			if tt.Tree == nil {
				continue
			}
			walk(tt.Tree.Root, func(fn, arg string) {
				if fn == "T" {
					keys[arg] = true
				}
			})
		}
		if len(keys) == 0 {
			t.Fatalf("%s names no keys", name)
		}
	}
	for _, o := range []warranty.Outcome{warranty.Return, warranty.Exchange, warranty.FreeRepair, warranty.PaidRepair, warranty.NotCovered} {
		keys["outcome."+string(o)] = true
	}
	for _, k := range []string{"quote.pending", "quote.accepted", "quote.declined", "pickup.return", "pickup.exchange"} {
		keys[k] = true
	}
	for k := range keys {
		m, ok := catalogue[k]
		if !ok {
			t.Errorf("key %q is not in the catalogue", k)
			continue
		}
		for i, lang := range Langs {
			if strings.TrimSpace(m[i]) == "" {
				t.Errorf("key %q has no %s text", k, lang)
			}
		}
	}
}

// walk calls f with each function call's name and first string argument.
func walk(n parse.Node, f func(fn, arg string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walk(c, f)
			}
		}
	case *parse.ActionNode:
		walk(n.Pipe, f)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walk(c, f)
			}
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 {
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok {
				if s, ok := n.Args[1].(*parse.StringNode); ok {
					f(id.Ident, s.Text)
				}
			}
		}
		for _, a := range n.Args {
			walk(a, f)
		}
	case *parse.IfNode:
		branch(&n.BranchNode, f)
	case *parse.RangeNode:
		branch(&n.BranchNode, f)
	case *parse.WithNode:
		branch(&n.BranchNode, f)
	case *parse.TemplateNode:
		walk(n.Pipe, f)
	}
}

func branch(n *parse.BranchNode, f func(fn, arg string)) {
	walk(n.Pipe, f)
	walk(n.List, f)
	walk(n.ElseList, f)
}

// The walk sees T calls however deeply they are nested, so the test above
// would catch a key missing from the catalogue.
func TestWalkFindsNestedKeys(t *testing.T) {
	tree, err := parse.Parse("x", `{{if .A}}{{range .B}}{{with .C}}<p>{{T "deep.key"}}</p>{{end}}{{end}}{{else}}{{print (T "arg.key")}}{{end}}`, "{{", "}}", map[string]any{"T": func(string) string { return "" }, "print": fmt.Sprint})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	walk(tree["x"].Root, func(fn, arg string) {
		if fn == "T" {
			got[arg] = true
		}
	})
	if !got["deep.key"] || !got["arg.key"] {
		t.Fatalf("walk found %v", got)
	}
	if _, err := text(En, "deep.key"); err == nil {
		t.Fatal("an unknown key has a text")
	}
}

func TestLang(t *testing.T) {
	for _, c := range []struct {
		accept, query, cookie, want string
		chosen                      bool
	}{
		{"", "", "", ZhCN, false},
		{"en-US,en;q=0.9", "", "", En, false},
		{"zh-CN,zh;q=0.9,en;q=0.5", "", "", ZhCN, false},
		{"fr-FR", "", "", ZhCN, false},
		{"zh-CN", "en", "", En, true},
		{"zh-CN", "", "en", En, false},
		{"en", "xx", "zh-CN", ZhCN, false},
	} {
		r := httptest.NewRequest("GET", "/r/x?lang="+c.query, nil)
		r.Header.Set("Accept-Language", c.accept)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: LangCookie, Value: c.cookie})
		}
		if got, chosen := Lang(r); got != c.want || chosen != c.chosen {
			t.Errorf("%+v: %s %v", c, got, chosen)
		}
	}
}

func TestAssetsAreHashedAndCachedForGood(t *testing.T) {
	p, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	name := p.hashed["app.css"]
	if name == "" || name == "app.css" || !strings.HasPrefix(name, "app.") || !strings.HasSuffix(name, ".css") {
		t.Fatalf("hashed name %q", name)
	}
	w := httptest.NewRecorder()
	p.ServeAsset(w, httptest.NewRequest("GET", StaticPrefix+name, nil), name)
	h := w.Result().Header
	if w.Code != 200 || h.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(h.Get("Content-Type"), "text/css") ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != CSP {
		t.Fatalf("asset: %d %v", w.Code, h)
	}
	w = httptest.NewRecorder()
	p.ServeAsset(w, httptest.NewRequest("GET", StaticPrefix+"app.css", nil), "app.css")
	if w.Code != 404 {
		t.Fatalf("an unhashed name: %d", w.Code)
	}
}

func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "¥0.00", 5: "¥0.05", 12345: "¥123.45", 123456789: "¥1,234,567.89", -250: "-¥2.50"} {
		if got := Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %s, want %s", fen, got, want)
		}
	}
}
