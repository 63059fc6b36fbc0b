package benchworld

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/templates"
)

// Version names the layout of the cached world files: bump it whenever
// Bundle, CreateUsers or build change what they write.
const Version = 1

// base is when the first record of a world was created.
var base = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// ID is the n-th id of a world: a UUIDv7 whose time is base plus n
// milliseconds, so ids are unique, deterministic and in creation order
// like the server's own.
func ID(n uint64) string {
	var u uuid.UUID
	ms := uint64(base.UnixMilli()) + n
	binary.BigEndian.PutUint64(u[:8], ms<<16)
	u[6] = 0x70 | byte(n>>56)&0x0f
	u[7] = byte(n >> 48)
	binary.BigEndian.PutUint64(u[8:], n&0x00ffffffffffffff)
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}

// World is a store of many technicians, each with visits whose bundles
// (visit, ticket, customer, site, asset: five records) they see. The
// technician under test has OursVisits visits spread over the whole
// history (created round-robin with everyone else's), the others
// VisitsPerOther each.
type World struct {
	Name           string
	Others         int // technicians besides the one under test
	VisitsPerOther int
	OursVisits     int
}

var (
	World100k = World{Name: "100k", Others: 99, VisitsPerOther: 200, OursVisits: 1000}
	World1M   = World{Name: "1M", Others: 999, VisitsPerOther: 200, OursVisits: 1000}
)

// Records is how many domain records the world holds (templates aside).
func (w World) Records() int { return 5 * (w.Others*w.VisitsPerOther + w.OursVisits) }

// The technician under test, who can log in over HTTP.
const (
	TechLogin    = "bench.tech"
	TechPassword = "bench-tech-password"
	DispatcherID = "0190f000-0000-7000-8000-0000000000d1"
)

// TechID is the id of technician t; technician 0 is the one under test.
func TechID(t int) string { return fmt.Sprintf("0190f000-0000-7000-8000-%012x", 0x100000+t) }

// OurTech is the technician under test.
var OurTech = TechID(0)

// Sink takes the records of a world: a store's bulk loader (many per
// transaction) or its Create* methods.
type Sink interface {
	Customer(*fieldsync.Customer, fieldsync.Actor) error
	Site(*fieldsync.Site, fieldsync.Actor) error
	Asset(*fieldsync.Asset, fieldsync.Actor) error
	Ticket(*fieldsync.Ticket, fieldsync.Actor) error
	Visit(*fieldsync.Visit, fieldsync.Actor) error
}

// Store is a store a world is written to; Load runs fn in one write
// transaction with a loader L.
type Store[L Sink] interface {
	Users
	PublishTemplates(ctx context.Context, ts []fieldsync.Template) error
	Load(fn func(L) error) error
	Close() error
}

// Users is where the accounts of a world are created.
type Users interface {
	CreateUser(ctx context.Context, u fieldsync.User) error
}

// Bundle writes one visit's bundle, created at n (its first id).
func Bundle(l Sink, n uint64, tech string) error {
	at := base.Add(time.Duration(n) * time.Millisecond).Truncate(time.Second)
	disp := fieldsync.Actor{UserID: DispatcherID, DeviceID: "disp-web"}
	c := &fieldsync.Customer{ID: ID(n), Name: fmt.Sprintf("刘女士 %d", n), Phone: fmt.Sprintf("138 %04d %04d", n/10000%10000, n%10000), CreatedAt: at}
	s := &fieldsync.Site{ID: ID(n + 1), CustomerID: c.ID, Address: fmt.Sprintf("上海市浦东新区世纪大道%d号%d室", n%1000, n%97+101), Zone: fieldsync.ZoneCity, CreatedAt: at}
	a := &fieldsync.Asset{ID: ID(n + 2), CustomerID: c.ID, Category: fieldsync.CategoryTV, Model: "65E7K", Serial: fmt.Sprintf("SN%012d", n),
		Seller: "苏宁易购浦东店", InvoiceDate: "2026-01-15", CreatedAt: at}
	t := &fieldsync.Ticket{ID: ID(n + 3), CustomerID: c.ID, SiteID: s.ID, AssetID: a.ID, Channel: fieldsync.ChannelHotline, Kind: fieldsync.KindRepair,
		Description: "屏幕有竖线，开机约十分钟后出现，重启无效", CreatedAt: at, FirstResponseDue: at.Add(24 * time.Hour)}
	start := at.Add(26 * time.Hour)
	v := &fieldsync.Visit{ID: ID(n + 4), TicketID: t.ID, TechnicianID: tech, WindowStart: start, WindowEnd: start.Add(2 * time.Hour),
		Status: fieldsync.VisitScheduled, Due: at.Add(48 * time.Hour), CreatedAt: at, UpdatedAt: at}
	for _, err := range []func() error{
		func() error { return l.Customer(c, disp) },
		func() error { return l.Site(s, disp) },
		func() error { return l.Asset(a, disp) },
		func() error { return l.Ticket(t, disp) },
		func() error { return l.Visit(v, disp) },
	} {
		if err := err(); err != nil {
			return err
		}
	}
	return nil
}

// CreateUsers creates the dispatcher and the technicians; the one under
// test gets a password so that it can log in over HTTP.
func CreateUsers(ctx context.Context, db Users, others int) error {
	if err := db.CreateUser(ctx, fieldsync.User{ID: DispatcherID, Login: "bench.disp", Role: fieldsync.RoleDispatcher, CreatedAt: base}); err != nil {
		return err
	}
	hash, err := auth.HashPassword(TechPassword, auth.DefaultArgon2)
	if err != nil {
		return err
	}
	for t := 0; t <= others; t++ {
		u := fieldsync.User{ID: TechID(t), Login: fmt.Sprintf("bench.tech%d", t), Role: fieldsync.RoleTechnician, CreatedAt: base}
		if t == 0 {
			u.Login, u.PasswordHash = TechLogin, hash
		}
		if err := db.CreateUser(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// build writes w into db, 2,000 bundles (10,000 records) per transaction,
// through the store's own record, audit and feed code.
func build[L Sink](ctx context.Context, db Store[L], w World) error {
	if err := db.PublishTemplates(ctx, templates.All()); err != nil {
		return err
	}
	if err := CreateUsers(ctx, db, w.Others); err != nil {
		return err
	}
	// Round r gives every other technician one visit and ours
	// OursVisits/VisitsPerOther, so ours are spread over the whole feed.
	var jobs []string // the technician of each visit, in creation order
	oursPerRound := w.OursVisits / w.VisitsPerOther
	for r := 0; r < w.VisitsPerOther; r++ {
		for i := 0; i < oursPerRound; i++ {
			jobs = append(jobs, OurTech)
		}
		for t := 1; t <= w.Others; t++ {
			jobs = append(jobs, TechID(t))
		}
	}
	const perTx = 2000
	for i := 0; i < len(jobs); i += perTx {
		err := db.Load(func(l L) error {
			for j := i; j < min(i+perTx, len(jobs)); j++ {
				if err := Bundle(l, uint64(j)*5, jobs[j]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Open returns a fresh copy of world w, opened with open and closed when
// the benchmark ends, and the path of the cached world it copied (for a
// reference that reads it read-only). The world is built once and cached
// in os.TempDir(), named by schema (the store's schema version) and
// Version, so later runs only copy it.
func Open[S Store[L], L Sink](b *testing.B, w World, schema int, open func(path string) (S, error)) (S, string) {
	b.Helper()
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("fieldsync-bench-world-%s-schema%d-v%d.db", w.Name, schema, Version))
	if _, err := os.Stat(cache); err != nil {
		tmp := cache + ".building"
		os.Remove(tmp)
		start := time.Now()
		db, err := open(tmp)
		if err != nil {
			b.Fatal(err)
		}
		if err := build(b.Context(), db, w); err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.Logf("built world %s (%d records) in %s", w.Name, w.Records(), time.Since(start).Round(time.Second))
		if err := os.Rename(tmp, cache); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	path := filepath.Join(b.TempDir(), "fieldsync.db")
	if err := copyFile(cache, path); err != nil {
		b.Fatal(err)
	}
	db, err := open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if fi, err := os.Stat(path); err == nil {
		b.Logf("world %s: %d records, file %d MiB, copied and opened in %s", w.Name, w.Records(), fi.Size()>>20, time.Since(start).Round(time.Millisecond))
	}
	return db, cache
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
