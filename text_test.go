package fieldsync

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"
)

// Every text field of the domain is checked by one rule, on the server
// and on the tablet alike: UTF-8, with no control character but tab and
// line breaks.
func TestTextRefusesControlCharacters(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	fields := []struct {
		field string
		check func(v string) error
	}{
		{"name", func(v string) error { c := Customer{Name: v, Phone: "13800138000"}; return c.Validate() }},
		{"address", func(v string) error {
			s := Site{CustomerID: "c1", Address: v, Zone: ZoneCity}
			return s.Validate()
		}},
		{"seller", func(v string) error {
			a := Asset{CustomerID: "c1", Category: CategoryTV, Model: "X1", Serial: "S1", Seller: v}
			return a.Validate()
		}},
		{"description", func(v string) error {
			tk := Ticket{CustomerID: "c1", SiteID: "s1", AssetID: "a1", Channel: Channels[0], Kind: TicketKinds[0], Description: v}
			return tk.Validate()
		}},
		{"reason", func(v string) error {
			vi := Visit{Status: VisitScheduled}
			return vi.Apply(ActionCancel, now, v)
		}},
		{"findings", func(v string) error { return CheckReportText("findings", v) }},
		{"notes", func(v string) error {
			tpl := tvTemplate()
			raw, _ := json.Marshal(v)
			if !utf8.ValidString(v) {
				raw = []byte(`"` + v + `"`) // as a client's bytes may be
			}
			return tpl.CheckAnswer("notes", raw)
		}},
		{"name", func(v string) error { return ValidateNewUser("alice", v, "alice-password", RoleAdmin) }},
		{"note", func(v string) error { return CheckText("note", v, MaxLongText) }},
	}
	values := []struct {
		name, v string
		code    string
	}{
		{"a NUL is refused", "a\x00b", EInvalid},
		{"an escape is refused", "a\x1b[31mb", EInvalid},
		{"DEL is refused", "a\x7fb", EInvalid},
		{"a C1 control is refused", "a\u0085b", EInvalid},
		{"invalid UTF-8 is refused", "a\xffb", EInvalid},
		{"a tab and line breaks inside are kept", "a\tb\r\nc", ""},
		{"other scripts and symbols are text", "屏幕 ✓ é", ""},
	}
	for _, f := range fields {
		for _, v := range values {
			t.Run(f.field+": "+v.name, func(t *testing.T) {
				detail := ""
				if v.code != "" {
					detail = f.field
				}
				checkErr(t, f.check(v.v), v.code, detail)
			})
		}
	}
}
