package fieldsync

import (
	"strings"
	"testing"
)

func validTicket() Ticket {
	return Ticket{CustomerID: "c1", SiteID: "s1", AssetID: "a1", Channel: ChannelHotline, Kind: KindRepair, Description: "电视开机后黑屏，有声音"}
}

func TestTicketValidate(t *testing.T) {
	tests := []struct {
		name         string
		edit         func(tk *Ticket)
		code, detail string
	}{
		{"a complete ticket is valid", func(tk *Ticket) {}, "", ""},
		{"a customer id is required", func(tk *Ticket) { tk.CustomerID = "" }, EInvalid, "customer_id is required"},
		{"a site id is required", func(tk *Ticket) { tk.SiteID = "" }, EInvalid, "site_id is required"},
		{"an asset id is required", func(tk *Ticket) { tk.AssetID = "" }, EInvalid, "asset_id is required"},
		{"a customer id of 201 bytes is too long", func(tk *Ticket) { tk.CustomerID = strings.Repeat("c", MaxShortText+1) }, EInvalid, "customer_id is longer"},
		{"a site id of 201 bytes is too long", func(tk *Ticket) { tk.SiteID = strings.Repeat("s", MaxShortText+1) }, EInvalid, "site_id is longer"},
		{"an asset id of 201 bytes is too long", func(tk *Ticket) { tk.AssetID = strings.Repeat("a", MaxShortText+1) }, EInvalid, "asset_id is longer"},
		{"an asset id must be valid UTF-8", func(tk *Ticket) { tk.AssetID = "a\xff" }, EInvalid, "asset_id is not valid UTF-8"},
		{"a channel is required", func(tk *Ticket) { tk.Channel = "" }, EInvalid, "unknown channel"},
		{"an unknown channel is invalid", func(tk *Ticket) { tk.Channel = "email" }, EInvalid, "unknown channel"},
		{"channels are case-sensitive", func(tk *Ticket) { tk.Channel = "Web" }, EInvalid, "unknown channel"},
		{"a kind is required", func(tk *Ticket) { tk.Kind = "" }, EInvalid, "unknown kind"},
		{"an unknown kind is invalid", func(tk *Ticket) { tk.Kind = "refund" }, EInvalid, "unknown kind"},
		{"kinds are case-sensitive", func(tk *Ticket) { tk.Kind = "Repair" }, EInvalid, "unknown kind"},
		{"a description is required", func(tk *Ticket) { tk.Description = "" }, EInvalid, "description is required"},
		{"a blank description is missing", func(tk *Ticket) { tk.Description = " \n\t " }, EInvalid, "description is required"},
		{"a description of 4000 bytes is valid", func(tk *Ticket) { tk.Description = strings.Repeat("d", MaxLongText) }, "", ""},
		{"a description of 4001 bytes is too long", func(tk *Ticket) { tk.Description = strings.Repeat("d", MaxLongText+1) }, EInvalid, "description is longer than 4000"},
		{"the description limit is in bytes: 1334 Chinese characters are too long", func(tk *Ticket) { tk.Description = strings.Repeat("屏", 1334) }, EInvalid, "description is longer than 4000"},
		{"1333 Chinese characters (3999 bytes) fit the description", func(tk *Ticket) { tk.Description = strings.Repeat("屏", 1333) }, "", ""},
		{"surrounding spaces do not count toward the description limit", func(tk *Ticket) { tk.Description = "  " + strings.Repeat("d", MaxLongText) + "\n" }, "", ""},
		{"a description must be valid UTF-8", func(tk *Ticket) { tk.Description = "no picture \xff" }, EInvalid, "description is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := validTicket()
			tt.edit(&tk)
			checkErr(t, tk.Validate(), tt.code, tt.detail)
		})
	}
}

func TestTicketEveryChannelAndKindIsValid(t *testing.T) {
	if len(Channels) != 5 || len(TicketKinds) != 5 {
		t.Fatalf("Channels = %v, TicketKinds = %v", Channels, TicketKinds)
	}
	for _, c := range Channels {
		for _, k := range TicketKinds {
			tk := validTicket()
			tk.Channel, tk.Kind = c, k
			if err := tk.Validate(); err != nil {
				t.Errorf("channel %s, kind %s: %v", c, k, err)
			}
		}
	}
}

func TestTicketValidateTrimsDescription(t *testing.T) {
	tk := validTicket()
	tk.Description = "\n  no picture, sound works  \t"
	if err := tk.Validate(); err != nil {
		t.Fatal(err)
	}
	if tk.Description != "no picture, sound works" {
		t.Fatalf("description %q not trimmed", tk.Description)
	}
}
