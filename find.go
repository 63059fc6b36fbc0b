package fieldsync

import (
	"slices"
	"strings"
	"time"
)

// ContactFilter selects tickets by their first contact with the customer.
type ContactFilter string

const (
	// ContactDue: no first contact recorded yet, whether or not its
	// deadline has passed.
	ContactDue ContactFilter = "due"
	// ContactOverdue: no first contact recorded and its deadline passed.
	ContactOverdue ContactFilter = "overdue"
)

// ParseContactFilter reads the contact filter of the ticket queue.
func ParseContactFilter(s string) (ContactFilter, error) {
	switch f := ContactFilter(s); f {
	case "", ContactDue, ContactOverdue:
		return f, nil
	}
	return "", Errorf(EInvalid, "contact must be due or overdue, not %q", s)
}

// TicketFilter selects the tickets of the queue. Zero fields do not
// filter. Match, when set, is applied last, with the ticket's open visit
// (nil when it has none), for rules that need the clock.
type TicketFilter struct {
	CustomerIDs []string       // only these customers' tickets
	Statuses    []TicketStatus // any of these statuses
	Zone        Zone           // the zone of the ticket's site
	Channel     Channel
	Kind        TicketKind
	From, To    time.Time // created_at in [From, To)
	Contact     ContactFilter
	Now         time.Time // the time Contact is judged at
	Match       func(t *Ticket, open *Visit) bool
	Cursor      string
	Limit       int
}

// Admits tells whether the filter keeps t, whose site is site (read only
// when the filter names a zone).
func (f *TicketFilter) Admits(t *Ticket, site *Site) bool {
	switch {
	case len(f.Statuses) > 0 && !slices.Contains(f.Statuses, t.Status),
		f.Channel != "" && t.Channel != f.Channel,
		f.Kind != "" && t.Kind != f.Kind,
		!f.From.IsZero() && t.CreatedAt.Before(f.From),
		!f.To.IsZero() && !t.CreatedAt.Before(f.To),
		f.Zone != "" && (site == nil || site.Zone != f.Zone),
		f.Contact != "" && t.FirstContactAt != nil,
		f.Contact == ContactOverdue && !f.Now.After(t.FirstResponseDue):
		return false
	}
	return true
}

// OpenVisit returns the latest of visits (in creation order) that has not
// ended, nil when every one has: the visit whose promise a ticket's
// customer is waiting on.
func OpenVisit(visits []Visit) *Visit {
	for i := len(visits) - 1; i >= 0; i-- {
		switch visits[i].Status {
		case VisitScheduled, VisitEnRoute, VisitOnSite:
			return &visits[i]
		}
	}
	return nil
}

// MaxSearch bounds a search text, in characters: names and phone numbers
// are short, and a longer text could only cost a longer scan.
const MaxSearch = 64

// Search is a customer search as typed: a part of a name, or of a phone
// number written with any spaces, dashes, dots, parentheses or a plus.
type Search struct {
	text   string // folded (FoldText)
	digits string // the digits of a text that reads as a phone number, else empty
}

// ParseSearch reads a search text; field names it in errors.
func ParseSearch(field, q string) (Search, error) {
	q = strings.TrimSpace(q)
	if err := CheckText(field, q, 4*MaxSearch); err != nil {
		return Search{}, err
	}
	if n := len([]rune(q)); n == 0 || n > MaxSearch {
		return Search{}, Errorf(EInvalid, "%s must be 1 to %d characters", field, MaxSearch)
	}
	s := Search{text: FoldText(q)}
	if strings.IndexFunc(q, func(r rune) bool { return (r < '0' || r > '9') && !strings.ContainsRune(" +-.()", r) }) < 0 {
		s.digits = PhoneDigits(q)
	}
	return s, nil
}

// Finds tells whether c's name holds the text, or, for a phone number,
// c's phone holds its digits.
func (s Search) Finds(c *Customer) bool {
	return strings.Contains(FoldText(c.Name), s.text) || (s.digits != "" && strings.Contains(PhoneDigits(c.Phone), s.digits))
}

// FoldText is a text as searches compare it: lower case (Latin letters;
// Chinese has no case), runs of white space as one space.
func FoldText(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// PhoneDigits is a phone number's digits alone, so 138 0013 8000,
// 138-0013-8000 and 13800138000 are one number.
func PhoneDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// AssetKey is a serial number or model as the asset indexes key it:
// upper case without white space, so "kfr-35gw " finds "KFR-35GW".
func AssetKey(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// AssetFilter selects assets. Serial and Model match exactly after
// AssetKey; Any matches either. Zero fields do not filter.
type AssetFilter struct {
	Serial, Model, Any string
	Cursor             string
	Limit              int
}

// Admits tells whether the filter keeps a.
func (f *AssetFilter) Admits(a *Asset) bool {
	serial, model := AssetKey(a.Serial), AssetKey(a.Model)
	return (f.Serial == "" || serial == AssetKey(f.Serial)) &&
		(f.Model == "" || model == AssetKey(f.Model)) &&
		(f.Any == "" || slices.Contains([]string{serial, model}, AssetKey(f.Any)))
}

// ParseChannel reads an intake channel; field names it in errors.
func ParseChannel(field, s string) (Channel, error) {
	if !oneOf(Channel(s), Channels) {
		return "", Errorf(EInvalid, "%s must be hotline, web, store, app or marketplace, not %q", field, s)
	}
	return Channel(s), nil
}

// ParseTicketKind reads a ticket kind; field names it in errors.
func ParseTicketKind(field, s string) (TicketKind, error) {
	if !oneOf(TicketKind(s), TicketKinds) {
		return "", Errorf(EInvalid, "%s must be install, repair, return, exchange or inspection, not %q", field, s)
	}
	return TicketKind(s), nil
}

// ParseAssetKey reads a serial number or model to find assets by; field
// names it in errors.
func ParseAssetKey(field, s string) (string, error) {
	k := AssetKey(s)
	if err := CheckText(field, k, MaxShortText); err != nil {
		return "", err
	}
	if k == "" {
		return "", Errorf(EInvalid, "%s is empty: give a serial number or model", field)
	}
	return k, nil
}
