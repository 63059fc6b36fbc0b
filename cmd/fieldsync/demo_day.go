package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/clientsdk"
	"github.com/fieldsync/fieldsync/media/signature"
	"github.com/fieldsync/fieldsync/templates"
	"github.com/fieldsync/fieldsync/warranty"
)

// demoTablets are the demo technicians' tablets: a clientsdk database
// each, in a temporary directory removed at close, signed in to the
// demo's loopback server and dated by the demo's clock.
type demoTablets struct {
	server string
	clock  func() time.Time
	dir    dataDir
	tmp    string
	open   map[string]*clientsdk.Client
}

// of returns the technician's tablet, signed in.
func (t *demoTablets) of(ctx context.Context, tech *demoLogin) (*clientsdk.Client, error) {
	if c, ok := t.open[tech.login]; ok {
		return c, nil
	}
	if t.tmp == "" {
		tmp, err := os.MkdirTemp("", "fieldsync-demo-")
		if err != nil {
			return nil, err
		}
		t.tmp, t.open = tmp, map[string]*clientsdk.Client{}
	}
	key := make([]byte, clientsdk.KeySize)
	rand.Read(key)
	c, err := clientsdk.Open(filepath.Join(t.tmp, tech.login+".db"), clientsdk.Options{
		ServerURL: t.server, DeviceID: "demo-tablet", DeviceName: "fieldsync demo (" + tech.login + ")",
		Key: key, Now: t.clock, PollWait: -1,
	})
	if err != nil {
		return nil, err
	}
	t.open[tech.login] = c
	if err := c.Login(ctx, tech.login, tech.password); err != nil {
		return nil, err
	}
	return c, nil
}

func (t *demoTablets) close() {
	for _, c := range t.open {
		c.Close()
	}
	if t.tmp != "" {
		os.RemoveAll(t.tmp)
	}
}

// demoSite is one visit's work on site, as a demoWork sees it.
type demoSite struct {
	tab      *clientsdk.Client
	visit    fieldsync.Visit
	start    time.Time // the window's start
	clock    func() time.Time
	setClock func(time.Time)
	photos   string // a directory for the photos taken
}

// demoWork is what a technician's tablet does on a demo visit: it pulls
// the visit, works offline and syncs once done.
type demoWork func(ctx context.Context, s demoSite) error

// secondVisit ends the visit on site needing a second one, with the
// parts to bring.
func secondVisit(need fieldsync.SecondVisit) demoWork {
	return func(ctx context.Context, s demoSite) error {
		if err := demoSync(ctx, s.tab); err != nil {
			return err
		}
		s.setClock(s.clock().Add(40 * time.Minute))
		if err := s.tab.NeedSecondVisit(s.visit.ID, need); err != nil {
			return err
		}
		return demoSync(ctx, s.tab)
	}
}

// demoReport is what the technician writes in a visit's report.
type demoReport struct {
	findings, cause string
	part            warranty.Part // the failed part the warranty is decided for
	work            []fieldsync.WorkLine
	customer        string // the name beside the customer's signature
}

// completeWith does the whole visit on the tablet: departs, arrives,
// answers every required item of the template, writes the findings and
// cause, decides the warranty, records the work, photographs every
// required slot, completes the visit, takes both signatures and signs,
// offline, at the visit's time. The sync, today, pushes it all and
// uploads the photos, and the server seals the report once they are in.
func completeWith(r demoReport) demoWork {
	return func(ctx context.Context, s demoSite) error {
		c, id := s.tab, s.visit.ID
		at := func(d time.Duration) { s.setClock(s.start.Add(d)) }
		if err := demoSync(ctx, c); err != nil {
			return err
		}
		at(-40 * time.Minute)
		if err := c.Depart(id); err != nil {
			return err
		}
		at(5 * time.Minute)
		if err := c.Arrive(id); err != nil {
			return err
		}
		b, err := c.Bundle(id)
		if err != nil {
			return err
		}
		tpl, ok := templates.ForCategory(b.Asset.Category)
		if !ok {
			return fmt.Errorf("no report template for category %q", b.Asset.Category)
		}
		report, err := c.CreateReport(id, tpl.ID)
		if err != nil {
			return err
		}
		at(20 * time.Minute)
		for _, it := range tpl.Items {
			if !it.Required {
				continue
			}
			if err := c.SetAnswer(report, it.ID, demoAnswer(it, b.Ticket.Description)); err != nil {
				return fmt.Errorf("answer %s: %w", it.ID, err)
			}
		}
		quality := fieldsync.ResponsibilityQuality
		if err := c.SetReport(report, clientsdk.ReportFields{Findings: &r.findings, Cause: &r.cause, Responsibility: &quality}); err != nil {
			return err
		}
		if _, err := c.SetWarranty(report, clientsdk.WarrantyQuestion{FailedPart: r.part}); err != nil {
			return fmt.Errorf("warranty: %w", err)
		}
		at(50 * time.Minute)
		if err := c.SetWork(report, r.work); err != nil {
			return fmt.Errorf("work: %w", err)
		}
		for _, slot := range tpl.RequiredSlots() {
			img, err := demoPhoto(slot, b.Asset.Model+" "+b.Asset.Serial, slot == "invoice")
			if err != nil {
				return err
			}
			name := filepath.Join(s.photos, id+"-"+slot+map[bool]string{true: ".png", false: ".jpg"}[slot == "invoice"])
			if err := os.WriteFile(name, img, 0o600); err != nil {
				return err
			}
			if _, err := c.AttachPhoto(report, slot, name); err != nil {
				return fmt.Errorf("photo %s: %w", slot, err)
			}
		}
		at(65 * time.Minute)
		if err := c.Complete(id); err != nil {
			return err
		}
		for _, role := range []string{"customer", "technician"} {
			if _, err := c.AttachSignature(report, role, signature.Builtin()); err != nil {
				return err
			}
		}
		if err := c.SignReport(report, clientsdk.SignOptions{CustomerName: r.customer}); err != nil {
			return fmt.Errorf("sign: %w", err)
		}
		// The tablet worked offline on site and syncs now, back in
		// coverage: the server takes a signature only after the device's
		// key was registered, at the tablet's login.
		s.setClock(time.Now())
		return demoSync(ctx, c)
	}
}

// demoSync runs a sync round; a refusal is an error, so the demo never
// leaves work behind silently.
func demoSync(ctx context.Context, c *clientsdk.Client) error {
	r, err := c.Sync(ctx)
	if err != nil {
		return err
	}
	if r.Refused > 0 {
		cs, _ := c.Conflicts()
		return fmt.Errorf("the server refused %d change(s): %+v", r.Refused, cs)
	}
	ps, err := c.Photos()
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Status == clientsdk.PhotoFailed {
			return errors.New("photo " + p.Slot + " failed: " + p.Error)
		}
	}
	return nil
}

// demoAnswer is a plausible answer to a checklist item: the first
// choice (the templates list the normal one first), no to the questions
// that ask after a defect and yes to the others, a number within the
// item's range, the ticket's fault for free text.
func demoAnswer(it fieldsync.ChecklistItem, fault string) any {
	switch it.Type {
	case fieldsync.ItemYesNo:
		return !demoDefects[it.ID]
	case fieldsync.ItemChoice:
		return it.Options[0].Value
	case fieldsync.ItemNumber:
		n := map[string]float64{"V": 220, "in": 55, "dB": 40, "%": 90}[it.Unit]
		if it.Min != nil && n < *it.Min {
			n = *it.Min
		}
		if it.Max != nil && n > *it.Max {
			n = *it.Max
		}
		return n
	}
	return fault
}

// demoDefects are the yes/no items of the templates that ask after a
// defect: a yes is the unusual answer.
var demoDefects = map[string]bool{"abnormal_noise": true, "odor": true, "unboxing_screen_broken": true,
	"battery_swollen": true, "opened_before": true}
