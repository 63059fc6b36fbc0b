package chaos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/clientsdk"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// device is one tablet: an SDK client on its own file, signed in as its
// technician, and the work it was acknowledged for.
type device struct {
	id     string
	tech   *tech
	c      *clientsdk.Client
	rnd    *rand.Rand
	writes map[writeKey]int // what the SDK accepted, by record and kind
}

// writeKey names the mutations of one kind by one device on one record,
// in the terms of the audit trail: "visit.<action>", "report.upsert"
// (create or update) or "report.<action>".
type writeKey struct {
	device string
	entity fieldsync.Entity
	id     string
	kind   string
}

func mutationKind(m syncproto.Mutation) string {
	if m.Op == syncproto.OpUpsert {
		return string(m.Entity) + ".upsert"
	}
	return string(m.Entity) + "." + m.Action
}

// ledger is, for every draft report, each field's last write in the order
// the devices made them. Writes to one report are made one at a time, at
// least a millisecond apart, and the devices share one wall clock, so the
// order of the writes is the order of their HLC stamps.
type ledger struct {
	mu      sync.Mutex
	reports map[string]*reportLedger
}

type reportLedger struct {
	mu     sync.Mutex
	last   time.Time
	fields map[string]json.RawMessage // "answers.<item>", "findings", "cause" -> value
}

func (l *ledger) report(id string) *reportLedger {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.reports[id]
	if r == nil {
		r = &reportLedger{fields: map[string]json.RawMessage{}}
		l.reports[id] = r
	}
	return r
}

// write runs one edit of the report under its lock and, if the SDK took
// it, records its fields as the latest.
func (r *reportLedger) write(fields map[string]json.RawMessage, edit func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for time.Now().UnixMilli() <= r.last.UnixMilli() {
		time.Sleep(200 * time.Microsecond)
	}
	err := edit()
	r.last = time.Now()
	if err == nil {
		for k, v := range fields {
			r.fields[k] = v
		}
	}
	return err
}

// fleet is every device and what they share.
type fleet struct {
	cfg     Config
	devices []*device
	ledger  ledger
	tpl     fieldsync.Template // the reports' template
	yesNo   []string           // its yes/no items, the answers the devices edit
	slots   []string           // its photo slots

	reports   map[string][]string // technician id -> the reports of their visits
	done      atomic.Int64        // mutations made
	photoNext atomic.Int64        // photos handed out
	photoDir  string
	refusedUp atomic.Int64 // report edits the server refused (never expected)
}

func (f *fleet) open(dir, serverURL string, w *world) error {
	for i := range f.cfg.Devices {
		t := w.techs[i%len(w.techs)]
		id := fmt.Sprintf("chaos-%s-%d", t.login, i/len(w.techs))
		c, err := clientsdk.Open(filepath.Join(dir, id+".db"), clientsdk.Options{
			ServerURL: serverURL, DeviceID: id, DeviceName: "chaos " + id, Key: deviceKey(f.cfg.Seed, i),
			RequestTimeout: 20 * time.Second, PollWait: -1,
			MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second,
		})
		if err != nil {
			return err
		}
		f.devices = append(f.devices, &device{id: id, tech: t, c: c,
			rnd: rand.New(rand.NewPCG(uint64(f.cfg.Seed), uint64(i))), writes: map[writeKey]int{}})
	}
	return nil
}

func (f *fleet) close() {
	for _, d := range f.devices {
		d.c.Close()
	}
}

// each runs fn for every device at once and returns the first error.
func (f *fleet) each(fn func(d *device) error) error {
	errs := make([]error, len(f.devices))
	var wg sync.WaitGroup
	for i, d := range f.devices {
		wg.Go(func() { errs[i] = fn(d) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("device %s: %w", f.devices[i].id, err)
		}
	}
	return nil
}

// retry calls fn until it succeeds, ctx ends or the run's patience does:
// through the cutting proxy and a server that restarts, any one call may
// fail.
func retry(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := fn(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: gave up: %w", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *device) sync(ctx context.Context) error {
	_, err := d.c.Sync(ctx)
	return err
}

// signIn logs every device in and pulls its technician's visits and the
// templates.
func (f *fleet) signIn(ctx context.Context) error {
	return f.each(func(d *device) error {
		if err := retry(ctx, "login", func(ctx context.Context) error { return d.c.Login(ctx, d.tech.login, d.tech.password) }); err != nil {
			return err
		}
		return retry(ctx, "first sync", d.sync)
	})
}

// createReports: the first device of each technician starts a draft on
// each of their visits; then every device pulls them.
func (f *fleet) createReports(ctx context.Context) error {
	tpls, err := f.devices[0].c.Templates()
	if err != nil {
		return err
	}
	for _, t := range tpls {
		if t.Category == fieldsync.CategoryTV {
			f.tpl = t
		}
	}
	if f.tpl.ID == "" {
		return fmt.Errorf("no TV template pulled")
	}
	for _, it := range f.tpl.Items {
		if it.Type == fieldsync.ItemYesNo {
			f.yesNo = append(f.yesNo, it.ID)
		}
	}
	for _, s := range f.tpl.PhotoSlots {
		f.slots = append(f.slots, s.ID)
	}
	if len(f.yesNo) == 0 || len(f.slots) == 0 {
		return fmt.Errorf("template %s has no yes/no items or photo slots", f.tpl.ID)
	}
	f.reports = map[string][]string{}
	creators := map[string]*device{}
	for _, d := range f.devices {
		if creators[d.tech.id] == nil {
			creators[d.tech.id] = d
		}
	}
	for _, d := range creators {
		for _, v := range d.tech.visits {
			id, err := d.c.CreateReport(v, f.tpl.ID)
			if err != nil {
				return fmt.Errorf("device %s: create report: %w", d.id, err)
			}
			d.writes[writeKey{d.id, fieldsync.EntityReport, id, "report.upsert"}]++
			f.done.Add(1)
			f.reports[d.tech.id] = append(f.reports[d.tech.id], id)
		}
	}
	for _, d := range creators {
		if err := retry(ctx, "push reports", func(ctx context.Context) error { return drained(ctx, d, false) }); err != nil {
			return err
		}
	}
	return f.each(func(d *device) error { return retry(ctx, "pull reports", d.sync) })
}

// work is the run itself: every device makes its share of the mutations
// offline, syncing every few edits, and attaches its share of photos.
func (f *fleet) work(ctx context.Context) error {
	total := int64(f.cfg.Mutations)
	perDevice := max(0, total-f.done.Load()) / int64(len(f.devices))
	extra := max(0, total-f.done.Load()) % int64(len(f.devices))
	return f.each(func(d *device) error {
		n := perDevice
		if idx := slices.Index(f.devices, d); int64(idx) < extra {
			n++
		}
		reports := f.reports[d.tech.id]
		nextSync := 5 + d.rnd.IntN(25)
		for i := int64(0); i < n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := f.photo(d, reports, false); err != nil {
				return err
			}
			if err := f.mutate(d, reports); err != nil {
				return err
			}
			if nextSync--; nextSync == 0 {
				nextSync = 5 + d.rnd.IntN(25)
				sctx, cancel := context.WithTimeout(ctx, time.Minute)
				d.c.Sync(sctx) // cuts and kills fail some rounds; the outbox waits for the next
				cancel()
			}
		}
		// The last devices to finish hand out what photos are left.
		for {
			before := f.photoNext.Load()
			if err := f.photo(d, reports, true); err != nil || f.photoNext.Load() == before {
				return err
			}
		}
	})
}

// mutate makes one edit: mostly checklist answers, some findings and
// causes, and a visit step now and then, all on records the device shares
// with its technician's other devices.
func (f *fleet) mutate(d *device, reports []string) error {
	defer f.done.Add(1)
	switch p := d.rnd.IntN(100); {
	case p < 8:
		if ok, err := f.step(d); ok || err != nil {
			return err
		}
	case p < 25:
		field := "findings"
		if p%2 == 0 {
			field = "cause"
		}
		text := fmt.Sprintf("%s by %s #%d", field, d.id, d.rnd.IntN(1<<30))
		rep := reports[d.rnd.IntN(len(reports))]
		rf := clientsdk.ReportFields{Findings: &text}
		if field == "cause" {
			rf = clientsdk.ReportFields{Cause: &text}
		}
		return f.edit(d, rep, map[string]json.RawMessage{field: mustJSON(text)}, func() error { return d.c.SetReport(rep, rf) })
	}
	item := f.yesNo[d.rnd.IntN(len(f.yesNo))]
	value := d.rnd.IntN(2) == 0
	rep := reports[d.rnd.IntN(len(reports))]
	return f.edit(d, rep, map[string]json.RawMessage{"answers." + item: mustJSON(value)}, func() error { return d.c.SetAnswer(rep, item, value) })
}

func (f *fleet) edit(d *device, report string, fields map[string]json.RawMessage, fn func() error) error {
	if err := f.ledger.report(report).write(fields, fn); err != nil {
		return fmt.Errorf("edit report %s: %w", report, err)
	}
	d.writes[writeKey{d.id, fieldsync.EntityReport, report, "report.upsert"}]++
	return nil
}

// step takes the next step of a visit as the device sees it; another
// device of the same technician may have taken it already, which the
// server refuses as a conflict (expected, and checked like the rest).
func (f *fleet) step(d *device) (bool, error) {
	visits, err := d.c.Visits()
	if err != nil || len(visits) == 0 {
		return false, err
	}
	v := visits[d.rnd.IntN(len(visits))]
	var action fieldsync.VisitAction
	switch v.Status {
	case fieldsync.VisitScheduled:
		action = fieldsync.ActionDepart
	case fieldsync.VisitEnRoute:
		action = fieldsync.ActionArrive
	case fieldsync.VisitOnSite:
		action = fieldsync.ActionComplete
	default:
		return false, nil
	}
	steps := map[fieldsync.VisitAction]func(string) error{
		fieldsync.ActionDepart: d.c.Depart, fieldsync.ActionArrive: d.c.Arrive, fieldsync.ActionComplete: d.c.Complete,
	}
	if err := steps[action](v.ID); err != nil {
		return false, fmt.Errorf("visit %s %s: %w", v.ID, action, err)
	}
	d.writes[writeKey{d.id, fieldsync.EntityVisit, v.ID, "visit." + string(action)}]++
	return true, nil
}

// photo attaches the next photo once the run has made its share of
// mutations for it (or at once, with force), so photos spread over the
// run.
func (f *fleet) photo(d *device, reports []string, force bool) error {
	if f.cfg.Photos == 0 {
		return nil
	}
	due := f.done.Load() * int64(f.cfg.Photos) / int64(max(1, f.cfg.Mutations))
	n := f.photoNext.Load()
	if n >= int64(f.cfg.Photos) || (n > due && !force) || !f.photoNext.CompareAndSwap(n, n+1) {
		return nil
	}
	path := filepath.Join(f.photoDir, fmt.Sprintf("photo-%05d.jpg", n))
	if err := os.WriteFile(path, noiseJPEG(96+int(n%5)*16, 72, f.cfg.Seed<<20+n), 0o600); err != nil {
		return err
	}
	rep := reports[d.rnd.IntN(len(reports))]
	if _, err := d.c.AttachPhoto(rep, f.slots[d.rnd.IntN(len(f.slots))], path); err != nil {
		return fmt.Errorf("attach photo to %s: %w", rep, err)
	}
	return nil
}

// drain syncs every device until its outbox is empty and every photo is
// verified or failed, then once more so each holds everyone's last state.
// A device that cannot get there within patience is left as it is and
// said so: the checks then report what it holds back.
func (f *fleet) drain(ctx context.Context, patience time.Duration) []string {
	stuck := make([]string, len(f.devices))
	f.each(func(d *device) error {
		deadline := time.Now().Add(patience)
		for {
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			err := drained(cctx, d, true)
			cancel()
			if err == nil || ctx.Err() != nil {
				return nil
			}
			if time.Now().After(deadline) {
				stuck[slices.Index(f.devices, d)] = fmt.Sprintf("device %s: not drained after %s: %v", d.id, patience, err)
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	f.each(func(d *device) error { return retry(ctx, "final sync", d.sync) })
	var out []string
	for _, s := range stuck {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// drained runs a round and says whether the device has nothing left to
// send (nil) or why not.
func drained(ctx context.Context, d *device, photos bool) error {
	if _, err := d.c.Sync(ctx); err != nil {
		return err
	}
	st, err := d.c.Status()
	if err != nil {
		return err
	}
	if st.Pending > 0 {
		return fmt.Errorf("%d mutations pending", st.Pending)
	}
	if !photos {
		return nil
	}
	ps, err := d.c.Photos()
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Status != clientsdk.PhotoVerified && p.Status != clientsdk.PhotoFailed {
			return fmt.Errorf("photo %s %s: %s", p.SHA256, p.Status, p.Detail)
		}
	}
	return nil
}

// noiseJPEG is a w×h picture of noise from seed: the bytes, and so the
// SHA-256, differ for every seed.
func noiseJPEG(w, h int, seed int64) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b9))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err) // encoding into memory fails only on sizes no JPEG holds
	}
	return buf.Bytes()
}

func mustJSON(v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return raw
}

// techsOf lists the technicians with a device, each once.
func (f *fleet) techsOf() []*tech {
	var out []*tech
	for _, d := range f.devices {
		if !slices.Contains(out, d.tech) {
			out = append(out, d.tech)
		}
	}
	return out
}

// deviceKey is device i's key for its file at rest, derived from the run's
// seed so a run can be reopened and inspected with the same keys.
func deviceKey(seed int64, i int) []byte {
	k := sha256.Sum256(fmt.Appendf(nil, "fieldsync chaos %d %d", seed, i))
	return k[:]
}
