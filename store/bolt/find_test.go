package bolt_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// pageAll reads every page of a listing, returning the ids and the
// number of pages read.
func pageAll[T any](t *testing.T, read func(cursor string) ([]T, string, error), id func(T) string) (string, int) {
	t.Helper()
	var ids []string
	cursor, pages := "", 0
	for {
		items, next, err := read(cursor)
		must(t, err)
		pages++
		for _, v := range items {
			ids = append(ids, id(v))
		}
		if next == "" {
			return strings.Join(ids, " "), pages
		}
		if pages > 20 {
			t.Fatalf("no end after %d pages: %v", pages, ids)
		}
		cursor = next
	}
}

func TestTicketQueue(t *testing.T) {
	w := newWorld(t) // t1: c1's, at site s1 (city), with the scheduled visit v1
	ctx, admin := t.Context(), fieldsync.Actor{UserID: "admin"}
	must(t, w.db.CreateCustomer(ctx, &fieldsync.Customer{ID: "c2", Name: "n2", Phone: "2", CreatedAt: w.now}, admin))
	must(t, w.db.CreateSite(ctx, &fieldsync.Site{ID: "s2", CustomerID: "c2", Address: "b", Zone: fieldsync.ZoneTownship, CreatedAt: w.now}, admin))
	must(t, w.db.CreateAsset(ctx, &fieldsync.Asset{ID: "a2", CustomerID: "c2", Category: fieldsync.CategoryTV, Model: "m", Serial: "s2", CreatedAt: w.now}, admin))
	contacted := w.now.Add(time.Hour)
	for i := 2; i <= 6; i++ {
		tk := &fieldsync.Ticket{ID: fmt.Sprintf("t%d", i), CustomerID: "c2", SiteID: "s2", AssetID: "a2", Channel: fieldsync.ChannelHotline,
			Kind: fieldsync.KindInstall, Description: "d", CreatedAt: w.now.Add(time.Duration(i) * time.Hour), FirstResponseDue: w.now.Add(time.Duration(i) * 24 * time.Hour)}
		if i%2 == 0 {
			tk.CustomerID, tk.SiteID, tk.AssetID, tk.Channel, tk.Kind = w.cus, "s1", "a1", fieldsync.ChannelWeb, fieldsync.KindRepair
		}
		if i == 6 {
			tk.FirstContactAt = &contacted
		}
		must(t, w.db.CreateTicket(ctx, tk, admin))
	}
	// t1 was due at the zero time: overdue since, never contacted.
	opens := map[string]string{}
	list := func(f fieldsync.TicketFilter) (string, int) {
		return pageAll(t, func(cursor string) ([]fieldsync.Ticket, string, error) {
			f.Cursor = cursor
			return w.db.Tickets(ctx, f)
		}, func(tk fieldsync.Ticket) string { return tk.ID })
	}
	later := w.now.Add(50 * time.Hour)
	tests := []struct {
		name  string
		f     fieldsync.TicketFilter
		want  string
		pages int
	}{
		{"every ticket, newest first, two a page", fieldsync.TicketFilter{Limit: 2}, "t6 t5 t4 t3 t2 t1", 3},
		{"one customer's, through their index", fieldsync.TicketFilter{CustomerIDs: []string{"c2"}, Limit: 2}, "t5 t3", 1},
		{"two customers' merged newest first", fieldsync.TicketFilter{CustomerIDs: []string{w.cus, "c2"}, Limit: 4}, "t6 t5 t4 t3 t2 t1", 2},
		{"zone of the site", fieldsync.TicketFilter{Zone: fieldsync.ZoneTownship}, "t5 t3", 1},
		{"channel", fieldsync.TicketFilter{Channel: fieldsync.ChannelWeb, Limit: 1}, "t6 t4 t2 t1", 4},
		{"kind", fieldsync.TicketFilter{Kind: fieldsync.KindInstall}, "t5 t3", 1},
		{"intake in [from, to)", fieldsync.TicketFilter{From: w.now.Add(3 * time.Hour), To: w.now.Add(5 * time.Hour)}, "t4 t3", 1},
		{"first contact due", fieldsync.TicketFilter{Contact: fieldsync.ContactDue, Now: later}, "t5 t4 t3 t2 t1", 1},
		{"first contact overdue", fieldsync.TicketFilter{Contact: fieldsync.ContactOverdue, Now: later}, "t2 t1", 1},
		{"a match sees the open visit", fieldsync.TicketFilter{Match: func(tk *fieldsync.Ticket, open *fieldsync.Visit) bool {
			if open != nil {
				opens[tk.ID] = open.ID
			}
			return open != nil
		}}, "t1", 1},
	}
	for _, tt := range tests {
		if got, pages := list(tt.f); got != tt.want || pages != tt.pages {
			t.Errorf("%s: %q in %d pages, want %q in %d", tt.name, got, pages, tt.want, tt.pages)
		}
	}
	if fmt.Sprint(opens) != "map[t1:v1]" {
		t.Errorf("open visits %v, want t1's v1", opens)
	}
	if _, _, err := w.db.Tickets(ctx, fieldsync.TicketFilter{Cursor: "%%"}); fieldsync.ErrorCode(err) != fieldsync.EInvalid {
		t.Errorf("a malformed cursor: %v", err)
	}
}

func TestCustomerSearch(t *testing.T) {
	db := dbOpen(t, dbPath(t))
	ctx, admin, now := t.Context(), fieldsync.Actor{UserID: "admin"}, time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	for i, c := range [][2]string{{"Zhang Wei", "138 0013 8000"}, {"王芳", "13900139000"}, {"ZHANGSAN Trading", "+86 21-6543-2100"}, {"李娜", "13800138001"}} {
		must(t, db.CreateCustomer(ctx, &fieldsync.Customer{ID: fmt.Sprintf("c%d", i+1), Name: c[0], Phone: c[1], CreatedAt: now}, admin))
	}
	find := func(q string, limit int) (string, int) {
		var s *fieldsync.Search
		if q != "" {
			found, err := fieldsync.ParseSearch("q", q)
			must(t, err)
			s = &found
		}
		return pageAll(t, func(cursor string) ([]fieldsync.Customer, string, error) { return db.Customers(ctx, s, cursor, limit) },
			func(c fieldsync.Customer) string { return c.ID })
	}
	for _, tt := range []struct{ q, want string }{
		{"", "c1 c2 c3 c4"},
		{"zhang", "c1 c3"},
		{"王", "c2"},
		{"13800138000", "c1"},
		{"138-0013-800", "c1 c4"},
		{"6543 2100", "c3"},
		{"trading", "c3"},
		{"nobody", ""},
	} {
		if got, _ := find(tt.q, 1); got != tt.want {
			t.Errorf("q %q found %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestSiteAndAssetIndexes(t *testing.T) {
	db := dbOpen(t, dbPath(t))
	storeSitesAndAssets(t, db)
	checkSitesAndAssets(t, db)
}

// storeSitesAndAssets stores c1's sites s1 and s3 and asset a1, and c2's
// site s2 and assets a2 to a4.
func storeSitesAndAssets(t *testing.T, db *bolt.DB) {
	t.Helper()
	ctx, admin, now := t.Context(), fieldsync.Actor{UserID: "admin"}, time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	for _, c := range []string{"c1", "c2"} {
		must(t, db.CreateCustomer(ctx, &fieldsync.Customer{ID: c, Name: c, Phone: "1", CreatedAt: now}, admin))
	}
	for _, s := range [][2]string{{"s1", "c1"}, {"s2", "c2"}, {"s3", "c1"}} {
		must(t, db.CreateSite(ctx, &fieldsync.Site{ID: s[0], CustomerID: s[1], Address: "a", Zone: fieldsync.ZoneCity, CreatedAt: now}, admin))
	}
	for _, a := range [][4]string{{"a1", "c1", "m", "s"}, {"a2", "c2", "KFR-35GW", "SN 001"}, {"a3", "c2", "kfr-35gw", "sn002"}, {"a4", "c2", "X1", "X1"}} {
		must(t, db.CreateAsset(ctx, &fieldsync.Asset{ID: a[0], CustomerID: a[1], Category: fieldsync.CategoryTV, Model: a[2], Serial: a[3], CreatedAt: now}, admin))
	}
}

// checkSitesAndAssets checks what storeSitesAndAssets stored, as the
// indexes list it.
func checkSitesAndAssets(t *testing.T, db *bolt.DB) {
	t.Helper()
	ctx := t.Context()
	sites := func(customer string) string {
		got, _ := pageAll(t, func(cursor string) ([]fieldsync.Site, string, error) { return db.Sites(ctx, customer, cursor, 1) },
			func(s fieldsync.Site) string { return s.ID })
		return got
	}
	if got := sites("c1"); got != "s1 s3" {
		t.Errorf("sites of c1: %q", got)
	}
	if got := sites(""); got != "s1 s2 s3" {
		t.Errorf("every site: %q", got)
	}
	for _, tt := range []struct {
		f    fieldsync.AssetFilter
		want string
	}{
		{fieldsync.AssetFilter{}, "a1 a2 a3 a4"},
		{fieldsync.AssetFilter{Serial: "sn001"}, "a2"},
		{fieldsync.AssetFilter{Model: "KFR-35GW "}, "a2 a3"},
		{fieldsync.AssetFilter{Model: "kfr-35gw", Serial: "SN002"}, "a3"},
		{fieldsync.AssetFilter{Any: "sn 002"}, "a3"},
		{fieldsync.AssetFilter{Any: "x1"}, "a4"},
		{fieldsync.AssetFilter{Serial: "kfr"}, ""},
	} {
		got, _ := pageAll(t, func(cursor string) ([]fieldsync.Asset, string, error) {
			f := tt.f
			f.Cursor, f.Limit = cursor, 1
			return db.Assets(ctx, f)
		}, func(a fieldsync.Asset) string { return a.ID })
		if got != tt.want {
			t.Errorf("assets %+v: %q, want %q", tt.f, got, tt.want)
		}
	}
}

// A file of the schema before the site and asset indexes gains them on
// Open, filled from the sites and assets it holds.
func TestOpenIndexesExistingSitesAndAssets(t *testing.T) {
	path := dbPath(t)
	db := dbOpen(t, path)
	storeSitesAndAssets(t, db)
	db.Close()
	dbRaw(t, path, true, func(tx *bbolt.Tx) error {
		for _, b := range []string{"idx_sites_customer", "idx_assets_serial", "idx_assets_model"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), be64(22)) // 22 -> 23 adds them
	})
	db = dbOpen(t, path)
	checkSitesAndAssets(t, db)
	db.Close()
	if v := dbSchemaVersion(t, path); v != uint64(bolt.SchemaVersion()) {
		t.Fatalf("schema version %d", v)
	}
}
