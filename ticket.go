package fieldsync

import (
	"strings"
	"time"
)

// Channel is how a service request reached us.
type Channel string

const (
	ChannelHotline     Channel = "hotline"
	ChannelWeb         Channel = "web"
	ChannelStore       Channel = "store"
	ChannelApp         Channel = "app"
	ChannelMarketplace Channel = "marketplace"
)

// Channels lists every intake channel.
var Channels = []Channel{ChannelHotline, ChannelWeb, ChannelStore, ChannelApp, ChannelMarketplace}

// TicketKind is what the customer asks for.
type TicketKind string

const (
	KindInstall    TicketKind = "install"
	KindRepair     TicketKind = "repair"
	KindReturn     TicketKind = "return"
	KindExchange   TicketKind = "exchange"
	KindInspection TicketKind = "inspection"
)

// TicketKinds lists every kind of ticket.
var TicketKinds = []TicketKind{KindInstall, KindRepair, KindReturn, KindExchange, KindInspection}

// Ticket is a service request as taken at intake. The first-response
// deadline runs from CreatedAt until a dispatcher records the first
// contact with the customer.
type Ticket struct {
	ID               string     `json:"id"`
	CustomerID       string     `json:"customer_id"`
	SiteID           string     `json:"site_id"`
	AssetID          string     `json:"asset_id"`
	Channel          Channel    `json:"channel"`
	Kind             TicketKind `json:"kind"`
	Description      string     `json:"description"` // the fault in the customer's own words
	CreatedAt        time.Time  `json:"created_at"`
	FirstResponseDue time.Time  `json:"first_response_due"`
	FirstContactAt   *time.Time `json:"first_contact_at,omitempty"`
	ContactNote      string     `json:"contact_note,omitempty"` // what was agreed at first contact
	// DueWarning is set when a deadline was counted without a holiday
	// calendar for a year it crosses (weekends only).
	DueWarning string `json:"due_warning,omitempty"`
	// Status is where the ticket stands (TicketStatus); StatusReason is
	// what staff gave when they last moved it (a cancel's reason).
	Status       TicketStatus `json:"status"`
	StatusReason string       `json:"status_reason,omitempty"`
}

// Validate checks a ticket at intake or after an edit.
func (t *Ticket) Validate() error {
	t.Description = strings.TrimSpace(t.Description)
	t.CustomerID, t.SiteID, t.AssetID = strings.TrimSpace(t.CustomerID), strings.TrimSpace(t.SiteID), strings.TrimSpace(t.AssetID)
	for _, f := range [][2]string{{"customer_id", t.CustomerID}, {"site_id", t.SiteID}, {"asset_id", t.AssetID}} {
		if err := requireText(f[0], f[1], MaxShortText); err != nil {
			return err
		}
	}
	if !oneOf(t.Channel, Channels) {
		return Errorf(EInvalid, "unknown channel %q (want hotline, web, store, app or marketplace)", t.Channel)
	}
	if !oneOf(t.Kind, TicketKinds) {
		return Errorf(EInvalid, "unknown kind %q (want install, repair, return, exchange or inspection)", t.Kind)
	}
	return requireText("description", t.Description, MaxLongText)
}

func oneOf[T comparable](v T, set []T) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}
