package fieldsync

import (
	"strings"
	"testing"
)

func TestCustomerValidate(t *testing.T) {
	tests := []struct {
		name, cname, phone string
		code, detail       string
	}{
		{"a customer with a name and a phone is valid", "张三", "13800138000", "", ""},
		{"a phone may hold + - ( ) and spaces", "Li Si", "+86 (10) 6552-0000", "", ""},
		{"a name is required", "", "13800138000", EInvalid, "name is required"},
		{"a blank name is missing", "  \t ", "13800138000", EInvalid, "name is required"},
		{"a name of 200 bytes is valid", strings.Repeat("n", MaxShortText), "13800138000", "", ""},
		{"a name of 201 bytes is too long", strings.Repeat("n", MaxShortText+1), "13800138000", EInvalid, "name is longer than 200"},
		{"the name limit is in bytes: 67 Chinese characters are too long", strings.Repeat("张", 67), "13800138000", EInvalid, "name is longer than 200"},
		{"surrounding spaces do not count toward the name limit", "  " + strings.Repeat("n", MaxShortText) + "  ", "13800138000", "", ""},
		{"a name must be valid UTF-8", "Zh\xffang", "13800138000", EInvalid, "name is not valid UTF-8"},
		{"a phone is required", "张三", "", EInvalid, "phone is required"},
		{"a blank phone is missing", "张三", "   ", EInvalid, "phone is required"},
		{"a phone of 32 bytes is valid", "张三", strings.Repeat("1", 32), "", ""},
		{"a phone of 33 bytes is too long", "张三", strings.Repeat("1", 33), EInvalid, "phone is longer than 32"},
		{"a phone may not hold letters", "张三", "138abc", EInvalid, "phone may hold only"},
		{"a phone may not hold dots", "张三", "138.0013.8000", EInvalid, "phone may hold only"},
		{"a phone may not hold an extension mark", "张三", "6552000#12", EInvalid, "phone may hold only"},
		{"a phone may not hold full-width digits", "张三", "１３８０", EInvalid, "phone may hold only"},
		{"a phone may not hold a tab inside", "张三", "138\t0013", EInvalid, "phone may hold only"},
		{"a phone must be valid UTF-8", "张三", "138\xff", EInvalid, "phone is not valid UTF-8"},
		{"a phone needs digits", "张三", "+ - ()", EInvalid, "phone needs digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Customer{Name: tt.cname, Phone: tt.phone}
			checkErr(t, c.Validate(), tt.code, tt.detail)
		})
	}
}

func TestCustomerValidateTrims(t *testing.T) {
	c := Customer{Name: "  张三 \n", Phone: "\t+86 138 0013 8000  "}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Name != "张三" || c.Phone != "+86 138 0013 8000" {
		t.Fatalf("after Validate: name %q, phone %q", c.Name, c.Phone)
	}
}

func TestSiteValidate(t *testing.T) {
	valid := func() Site {
		return Site{CustomerID: "c1", Address: "北京市朝阳区建国路 88 号", Zone: ZoneCity}
	}
	tests := []struct {
		name         string
		edit         func(s *Site)
		code, detail string
	}{
		{"a site with customer, address and zone is valid", func(s *Site) {}, "", ""},
		{"a suburban site is valid", func(s *Site) { s.Zone = ZoneSuburb }, "", ""},
		{"a township site is valid", func(s *Site) { s.Zone = ZoneTownship }, "", ""},
		{"a customer id is required", func(s *Site) { s.CustomerID = "" }, EInvalid, "customer_id is required"},
		{"a customer id of 201 bytes is too long", func(s *Site) { s.CustomerID = strings.Repeat("c", MaxShortText+1) }, EInvalid, "customer_id is longer"},
		{"an address is required", func(s *Site) { s.Address = "" }, EInvalid, "address is required"},
		{"a blank address is missing", func(s *Site) { s.Address = " \n " }, EInvalid, "address is required"},
		{"an address of 400 bytes is valid", func(s *Site) { s.Address = strings.Repeat("a", 2*MaxShortText) }, "", ""},
		{"an address of 401 bytes is too long", func(s *Site) { s.Address = strings.Repeat("a", 2*MaxShortText+1) }, EInvalid, "address is longer than 400"},
		{"an address must be valid UTF-8", func(s *Site) { s.Address = "Road \xfe 1" }, EInvalid, "address is not valid UTF-8"},
		{"a zone is required", func(s *Site) { s.Zone = "" }, EInvalid, "unknown zone"},
		{"an unknown zone is invalid", func(s *Site) { s.Zone = "rural" }, EInvalid, "unknown zone"},
		{"zones are case-sensitive", func(s *Site) { s.Zone = "City" }, EInvalid, "unknown zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.edit(&s)
			checkErr(t, s.Validate(), tt.code, tt.detail)
		})
	}
}

func TestSiteValidateTrims(t *testing.T) {
	s := Site{CustomerID: "c1", Address: "  上海市徐汇区 1 号 \n", Zone: ZoneSuburb}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Address != "上海市徐汇区 1 号" {
		t.Fatalf("address %q not trimmed", s.Address)
	}
}

func TestValidateZoneAndCategory(t *testing.T) {
	for _, z := range Zones {
		if err := ValidateZone(z); err != nil {
			t.Errorf("ValidateZone(%q): %v", z, err)
		}
	}
	for _, c := range Categories {
		if err := ValidateCategory(c); err != nil {
			t.Errorf("ValidateCategory(%q): %v", c, err)
		}
	}
	for _, z := range []Zone{"", "CITY", " city", "village"} {
		checkErr(t, ValidateZone(z), EInvalid, "unknown zone")
	}
	for _, c := range []Category{"", "TV", "tv ", "car"} {
		checkErr(t, ValidateCategory(c), EInvalid, "unknown category")
	}
}

func TestAssetValidate(t *testing.T) {
	valid := func() Asset {
		return Asset{CustomerID: "c1", Category: CategoryTV, Model: "X-55Q", Serial: "SN123456"}
	}
	tests := []struct {
		name         string
		edit         func(a *Asset)
		code, detail string
	}{
		{"an asset with customer, category, model and serial is valid", func(a *Asset) {}, "", ""},
		{"a phone asset with an IMEI and every date is valid", func(a *Asset) {
			a.Category, a.Serial, a.Seller = CategoryPhone, "356938035643809", "京东"
			a.InvoiceDate, a.ReceiptDate, a.ManufactureDate = "2025-11-11", "2025-11-13", "2025-08-01"
		}, "", ""},
		{"an appliance asset is valid", func(a *Asset) { a.Category = CategoryAppliance }, "", ""},
		{"a furniture asset is valid", func(a *Asset) { a.Category = CategoryFurniture }, "", ""},
		{"a customer id is required", func(a *Asset) { a.CustomerID = "" }, EInvalid, "customer_id is required"},
		{"a category is required", func(a *Asset) { a.Category = "" }, EInvalid, "unknown category"},
		{"an unknown category is invalid", func(a *Asset) { a.Category = "car" }, EInvalid, "unknown category"},
		{"categories are case-sensitive", func(a *Asset) { a.Category = "TV" }, EInvalid, "unknown category"},
		{"a model is required", func(a *Asset) { a.Model = "" }, EInvalid, "model is required"},
		{"a blank model is missing", func(a *Asset) { a.Model = "   " }, EInvalid, "model is required"},
		{"a model of 201 bytes is too long", func(a *Asset) { a.Model = strings.Repeat("m", MaxShortText+1) }, EInvalid, "model is longer than 200"},
		{"a model must be valid UTF-8", func(a *Asset) { a.Model = "X\xff" }, EInvalid, "model is not valid UTF-8"},
		{"a serial is required", func(a *Asset) { a.Serial = "" }, EInvalid, "serial is required"},
		{"a blank serial is missing", func(a *Asset) { a.Serial = "\t" }, EInvalid, "serial is required"},
		{"a serial of 64 bytes is valid", func(a *Asset) { a.Serial = strings.Repeat("s", 64) }, "", ""},
		{"a serial of 65 bytes is too long", func(a *Asset) { a.Serial = strings.Repeat("s", 65) }, EInvalid, "serial is longer than 64"},
		{"a seller is optional", func(a *Asset) { a.Seller = "" }, "", ""},
		{"a seller of 200 bytes is valid", func(a *Asset) { a.Seller = strings.Repeat("s", MaxShortText) }, "", ""},
		{"a seller of 201 bytes is too long", func(a *Asset) { a.Seller = strings.Repeat("s", MaxShortText+1) }, EInvalid, "seller is longer than 200"},
		{"a seller must be valid UTF-8", func(a *Asset) { a.Seller = "\xc3\x28" }, EInvalid, "seller is not valid UTF-8"},
		{"dates are optional", func(a *Asset) { a.InvoiceDate, a.ReceiptDate, a.ManufactureDate = "", "", "" }, "", ""},
		{"a leap day is a date", func(a *Asset) { a.InvoiceDate = "2024-02-29" }, "", ""},
		{"an invoice date must be YYYY-MM-DD, not slashes", func(a *Asset) { a.InvoiceDate = "2024/01/05" }, EInvalid, "invoice_date must be a date"},
		{"an invoice date must be YYYY-MM-DD, not day first", func(a *Asset) { a.InvoiceDate = "05-01-2024" }, EInvalid, "invoice_date must be a date"},
		{"an invoice date needs two-digit month and day", func(a *Asset) { a.InvoiceDate = "2024-1-5" }, EInvalid, "invoice_date must be a date"},
		{"an invoice date cannot be February 30", func(a *Asset) { a.InvoiceDate = "2024-02-30" }, EInvalid, "invoice_date must be a date"},
		{"an invoice date cannot be a leap day of a common year", func(a *Asset) { a.InvoiceDate = "2023-02-29" }, EInvalid, "invoice_date must be a date"},
		{"an invoice date cannot carry a time", func(a *Asset) { a.InvoiceDate = "2024-01-05T00:00:00Z" }, EInvalid, "invoice_date must be a date"},
		{"an invoice date is not trimmed", func(a *Asset) { a.InvoiceDate = " 2024-01-05" }, EInvalid, "invoice_date must be a date"},
		{"a receipt date must be YYYY-MM-DD", func(a *Asset) { a.ReceiptDate = "2024-13-01" }, EInvalid, "receipt_date must be a date"},
		{"a manufacture date must be YYYY-MM-DD", func(a *Asset) { a.ManufactureDate = "yesterday" }, EInvalid, "manufacture_date must be a date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid()
			tt.edit(&a)
			checkErr(t, a.Validate(), tt.code, tt.detail)
		})
	}
}

func TestAssetValidateTrims(t *testing.T) {
	a := Asset{CustomerID: "c1", Category: CategoryPhone, Model: " Mate 70 ", Serial: "\t356938035643809\n", Seller: "  天猫  "}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Model != "Mate 70" || a.Serial != "356938035643809" || a.Seller != "天猫" {
		t.Fatalf("after Validate: model %q, serial %q, seller %q", a.Model, a.Serial, a.Seller)
	}
	// A serial of 64 bytes plus surrounding spaces fits once trimmed.
	a.Serial = "  " + strings.Repeat("s", 64) + "  "
	if err := a.Validate(); err != nil {
		t.Fatalf("padded 64-byte serial: %v", err)
	}
}
