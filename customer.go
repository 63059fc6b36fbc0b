package fieldsync

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Zone is where a site lies; it sets the on-site promise (24 h in a city,
// 48 h in a suburb, 72 h in a township by default).
type Zone string

const (
	ZoneCity     Zone = "city"
	ZoneSuburb   Zone = "suburb"
	ZoneTownship Zone = "township"
)

// Zones lists every zone.
var Zones = []Zone{ZoneCity, ZoneSuburb, ZoneTownship}

// Category is a product category; each has a report template.
type Category string

const (
	CategoryTV        Category = "tv"
	CategoryPhone     Category = "phone"
	CategoryAppliance Category = "appliance"
	CategoryFurniture Category = "furniture"
)

// Categories lists every product category.
var Categories = []Category{CategoryTV, CategoryPhone, CategoryAppliance, CategoryFurniture}

// Customer is a person who owns products and asks for service. UserID
// links the customer's own account (role customer), when there is one.
type Customer struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Phone     string    `json:"phone"`
	UserID    string    `json:"user_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Site is an address where visits happen.
type Site struct {
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	Address    string    `json:"address"`
	Zone       Zone      `json:"zone"`
	CreatedAt  time.Time `json:"created_at"`
}

// Asset is a product a customer owns. Dates are calendar dates
// (YYYY-MM-DD): the warranty counts from them.
type Asset struct {
	ID              string    `json:"id"`
	CustomerID      string    `json:"customer_id"`
	Category        Category  `json:"category"`
	Model           string    `json:"model"`
	Serial          string    `json:"serial"` // serial number or IMEI
	Seller          string    `json:"seller,omitempty"`
	InvoiceDate     string    `json:"invoice_date,omitempty"`
	ReceiptDate     string    `json:"receipt_date,omitempty"`
	ManufactureDate string    `json:"manufacture_date,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
}

// Limits on free text, so no field can grow a record without bound.
const (
	MaxShortText = 200
	MaxLongText  = 4000
)

// Validate checks a customer about to be stored.
func (c *Customer) Validate() error {
	c.Name, c.Phone = strings.TrimSpace(c.Name), strings.TrimSpace(c.Phone)
	if err := requireText("name", c.Name, MaxShortText); err != nil {
		return err
	}
	if err := requireText("phone", c.Phone, 32); err != nil {
		return err
	}
	digits := 0
	for _, r := range c.Phone {
		if r >= '0' && r <= '9' {
			digits++
		} else if !strings.ContainsRune("+-() ", r) {
			return Errorf(EInvalid, "phone may hold only digits, spaces and + - ( )")
		}
	}
	if digits == 0 {
		return Errorf(EInvalid, "phone needs digits")
	}
	return nil
}

// Validate checks a site about to be stored.
func (s *Site) Validate() error {
	s.Address, s.CustomerID = strings.TrimSpace(s.Address), strings.TrimSpace(s.CustomerID)
	if err := requireText("customer_id", s.CustomerID, MaxShortText); err != nil {
		return err
	}
	if err := requireText("address", s.Address, MaxShortText*2); err != nil {
		return err
	}
	return ValidateZone(s.Zone)
}

// ValidateZone returns EInvalid for an unknown zone.
func ValidateZone(z Zone) error {
	for _, known := range Zones {
		if z == known {
			return nil
		}
	}
	return Errorf(EInvalid, "unknown zone %q (want city, suburb or township)", z)
}

// ValidateCategory returns EInvalid for an unknown product category.
func ValidateCategory(c Category) error {
	for _, known := range Categories {
		if c == known {
			return nil
		}
	}
	return Errorf(EInvalid, "unknown category %q (want tv, phone, appliance or furniture)", c)
}

// Validate checks an asset about to be stored.
func (a *Asset) Validate() error {
	a.Model, a.Serial, a.Seller = strings.TrimSpace(a.Model), strings.TrimSpace(a.Serial), strings.TrimSpace(a.Seller)
	a.CustomerID = strings.TrimSpace(a.CustomerID)
	if err := requireText("customer_id", a.CustomerID, MaxShortText); err != nil {
		return err
	}
	if err := ValidateCategory(a.Category); err != nil {
		return err
	}
	if err := requireText("model", a.Model, MaxShortText); err != nil {
		return err
	}
	if err := requireText("serial", a.Serial, 64); err != nil {
		return err
	}
	if err := optionalText("seller", a.Seller, MaxShortText); err != nil {
		return err
	}
	for _, f := range [][2]string{{"invoice_date", a.InvoiceDate}, {"receipt_date", a.ReceiptDate}, {"manufacture_date", a.ManufactureDate}} {
		if f[1] == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, f[1]); err != nil {
			return Errorf(EInvalid, "%s must be a date YYYY-MM-DD, not %q", f[0], f[1])
		}
	}
	return nil
}

func requireText(field, v string, max int) error {
	if v == "" {
		return Errorf(EInvalid, "%s is required", field)
	}
	return optionalText(field, v, max)
}

// optionalText checks free text: at most max bytes of UTF-8 with no
// control character but tab and line breaks. A NUL or an escape sequence
// in a name or a note is never meant, and breaks the readers downstream
// (C strings, terminals, CSV exports).
func optionalText(field, v string, max int) error {
	if len(v) > max {
		return Errorf(EInvalid, "%s is longer than %d bytes", field, max)
	}
	if !utf8.ValidString(v) {
		return Errorf(EInvalid, "%s is not valid UTF-8", field)
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return Errorf(EInvalid, "%s holds the control character U+%04X; only tab and line breaks are allowed", field, r)
		}
	}
	return nil
}

// CheckText checks free text of at most max bytes as every text field of
// the domain is checked. EInvalid names the field.
func CheckText(field, v string, max int) error { return optionalText(field, v, max) }
