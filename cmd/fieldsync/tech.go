package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/clientsdk"
	"github.com/fieldsync/fieldsync/templates"
)

const techUsage = `fieldsync tech — a technician's tablet on the command line (offline first)

  fieldsync tech [--db FILE] login --server URL --device ID LOGIN   (password on stdin)
  fieldsync tech [--db FILE] visits                  my visits, as this device sees them
  fieldsync tech [--db FILE] show VISIT              the visit's bundle as JSON
  fieldsync tech [--db FILE] depart|arrive|complete|second-visit VISIT
  fieldsync tech [--db FILE] answer VISIT ITEM VALUE  answer a checklist item (the visit's draft
                                                     report is made on first use; VALUE is JSON
                                                     when it parses: true, 42, "text"; else text)
  fieldsync tech [--db FILE] findings|cause VISIT TEXT
  fieldsync tech [--db FILE] sign VISIT              sign the visit's report
  fieldsync tech [--db FILE] attach VISIT SLOT FILE  attach a photo to the visit's report (queued
                                                     for upload; the file is copied)
  fieldsync tech [--db FILE] photos                  each photo's upload: state and progress
  fieldsync tech [--db FILE] sync                    push pending work, pull news
  fieldsync tech [--db FILE] status                  pending work, last sync, refusals
  fieldsync tech [--db FILE] conflicts               work the server refused, with its reasons

Every command but login and sync works without a network.
`

// techConfig is what login remembers beside the database: where the
// server is and which device this is.
type techConfig struct {
	Server string `json:"server"`
	Device string `json:"device"`
}

func tech(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("tech", flag.ContinueOnError)
	flags.SetOutput(stderr)
	db := flags.String("db", "./tech.db", "the device's database file")
	flags.Usage = func() { fmt.Fprint(stderr, techUsage) }
	if err := parseFlags(flags, args, getenv); err != nil {
		return err
	}
	args = flags.Args()
	if len(args) == 0 {
		fmt.Fprint(stderr, techUsage)
		return fmt.Errorf("%w: tech needs a command", errUsage)
	}
	cmd, args := args[0], args[1:]
	known := map[string]bool{"login": true, "visits": true, "show": true, "depart": true, "arrive": true, "complete": true, "second-visit": true,
		"answer": true, "findings": true, "cause": true, "sign": true, "sync": true, "status": true, "conflicts": true,
		"attach": true, "photos": true}
	if !known[cmd] {
		fmt.Fprint(stderr, techUsage)
		return fmt.Errorf("%w: unknown tech command %q", errUsage, cmd)
	}
	if cmd == "login" {
		return techLogin(ctx, *db, args, getenv, stdin, stdout, stderr)
	}
	cfg, err := readTechConfig(*db)
	if err != nil {
		return err
	}
	c, err := clientsdk.Open(*db, clientsdk.Options{ServerURL: cfg.Server, DeviceID: cfg.Device})
	if err != nil {
		return err
	}
	defer c.Close()
	need := func(n int, what string) error {
		if len(args) != n {
			return fmt.Errorf("%w: %s takes %s", errUsage, cmd, what)
		}
		return nil
	}
	switch cmd {
	case "visits":
		visits, err := c.Visits()
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VISIT\tSTATUS\tWINDOW\tDUE")
		for _, v := range visits {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", v.ID, v.Status, local(v.WindowStart)+" – "+v.WindowEnd.In(cst).Format("15:04"), local(v.Due))
		}
		return w.Flush()
	case "show":
		if err := need(1, "VISIT"); err != nil {
			return err
		}
		b, err := c.Bundle(args[0])
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(b)
	case "depart", "arrive", "complete", "second-visit":
		if err := need(1, "VISIT"); err != nil {
			return err
		}
		step := map[string]func(string) error{"depart": c.Depart, "arrive": c.Arrive, "complete": c.Complete, "second-visit": c.NeedSecondVisit}[cmd]
		if err := step(args[0]); err != nil {
			return err
		}
		return pending(c, stdout, cmd+" recorded")
	case "answer":
		if err := need(3, "VISIT ITEM VALUE"); err != nil {
			return err
		}
		report, err := draftOf(c, args[0])
		if err != nil {
			return err
		}
		var value any = args[2]
		if json.Valid([]byte(args[2])) {
			value = json.RawMessage(args[2])
		}
		if err := c.SetAnswer(report, args[1], value); err != nil {
			return err
		}
		return pending(c, stdout, "answer recorded")
	case "findings", "cause":
		if err := need(2, "VISIT TEXT"); err != nil {
			return err
		}
		report, err := draftOf(c, args[0])
		if err != nil {
			return err
		}
		f := clientsdk.ReportFields{}
		if cmd == "findings" {
			f.Findings = &args[1]
		} else {
			f.Cause = &args[1]
		}
		if err := c.SetReport(report, f); err != nil {
			return err
		}
		return pending(c, stdout, cmd+" recorded")
	case "sign":
		if err := need(1, "VISIT"); err != nil {
			return err
		}
		report, err := draftOf(c, args[0])
		if err != nil {
			return err
		}
		if err := c.SignReport(report); err != nil {
			return err
		}
		return pending(c, stdout, "report signed")
	case "attach":
		if err := need(3, "VISIT SLOT FILE"); err != nil {
			return err
		}
		report, err := draftOf(c, args[0])
		if err != nil {
			return err
		}
		ref, err := c.AttachPhoto(report, args[1], args[2])
		if err != nil {
			return err
		}
		return pending(c, stdout, fmt.Sprintf("photo %.12s attached to slot %s (%s)", ref.SHA256, ref.Slot, size(ref.Size)))
	case "photos":
		photos, err := c.Photos()
		if err != nil {
			return err
		}
		if len(photos) == 0 {
			fmt.Fprintln(stdout, "no photos")
		}
		for _, p := range photos {
			fmt.Fprintln(stdout, photoLine(p))
		}
		return nil
	case "sync":
		// Photo progress comes as events while the round runs.
		done := make(chan struct{})
		go func() {
			defer close(done)
			for e := range c.Events() {
				if e.Photo != nil && (e.Kind == clientsdk.EventPhotoProgress || e.Kind == clientsdk.EventPhotoVerified || e.Kind == clientsdk.EventPhotoFailed) {
					fmt.Fprintln(stdout, photoLine(*e.Photo))
				}
			}
		}()
		r, err := c.Sync(ctx)
		c.Close() // ends the events, so the printer finishes
		<-done
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "pushed %d (applied %d, duplicate %d, refused %d), pulled %d\n", r.Pushed, r.Applied, r.Duplicates, r.Refused, r.Pulled)
		if r.Refused > 0 {
			fmt.Fprintln(stdout, "some work was refused: see `fieldsync tech conflicts`")
		}
		return nil
	case "status":
		s, err := c.Status()
		if err != nil {
			return err
		}
		last := "never"
		if !s.LastSync.IsZero() {
			last = local(s.LastSync)
		}
		fmt.Fprintf(stdout, "pending: %d", s.Pending)
		if s.Pending > 0 {
			fmt.Fprintf(stdout, " (oldest %s)", s.OldestPending.Round(time.Second))
		}
		fmt.Fprintf(stdout, "\nlast sync: %s\npulled: %d\nrefused: %d\nsigned in: %v\n", last, s.Pulled, s.Refused, s.SignedIn)
		if s.LastError != "" {
			fmt.Fprintf(stdout, "last error: %s\n", s.LastError)
		}
		return nil
	case "conflicts":
		refused, err := c.Conflicts()
		if err != nil {
			return err
		}
		if len(refused) == 0 {
			fmt.Fprintln(stdout, "no refused work")
		}
		for _, r := range refused {
			what := r.Mutation.Op
			if r.Mutation.Action != "" {
				what = r.Mutation.Action
			}
			fmt.Fprintf(stdout, "#%d %s %s %s: %s %s — %s\n", r.Mutation.Seq, r.Mutation.Entity, r.Mutation.ID, what, r.Status, r.Code, r.Detail)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown tech command %q", errUsage, cmd)
}

func techLogin(ctx context.Context, db string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("tech login", flag.ContinueOnError)
	flags.SetOutput(stderr)
	server := flags.String("server", "http://127.0.0.1:8080", "the Fieldsync server")
	device := flags.String("device", "", "this device's id (kept from the first login)")
	if err := parseFlags(flags, args, getenv); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return fmt.Errorf("%w: login takes LOGIN (the password comes on stdin)", errUsage)
	}
	cfg, err := readTechConfig(db)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if cfg.Device == "" {
		cfg.Device = *device
	}
	if *device != "" && *device != cfg.Device {
		return fmt.Errorf("this database belongs to device %q, not %q", cfg.Device, *device)
	}
	if cfg.Device == "" {
		return fmt.Errorf("%w: the first login needs --device ID", errUsage)
	}
	cfg.Server = *server
	password, err := bufio.NewReader(io.LimitReader(stdin, fieldsync.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	c, err := clientsdk.Open(db, clientsdk.Options{ServerURL: cfg.Server, DeviceID: cfg.Device})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(ctx, flags.Arg(0), strings.TrimRight(password, "\r\n")); err != nil {
		return err
	}
	if err := writeTechConfig(db, cfg); err != nil {
		return err
	}
	r, err := c.Sync(ctx)
	if err != nil {
		return fmt.Errorf("signed in, but the first sync failed: %w", err)
	}
	fmt.Fprintf(stdout, "signed in as %s on %s; pulled %d records\n", flags.Arg(0), cfg.Device, r.Pulled)
	return nil
}

func techConfigPath(db string) string { return db + ".json" }

func readTechConfig(db string) (techConfig, error) {
	var cfg techConfig
	raw, err := os.ReadFile(techConfigPath(db))
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, fmt.Errorf("%w: no device set up at %s: run `fieldsync tech login` first", fs.ErrNotExist, db)
	}
	if err != nil {
		return cfg, err
	}
	return cfg, json.Unmarshal(raw, &cfg)
}

func writeTechConfig(db string, cfg techConfig) error {
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(techConfigPath(db), append(raw, '\n'), 0o600)
}

// draftOf returns the visit's draft report, making one with the template
// of the asset's category if there is none. A report id works too.
func draftOf(c *clientsdk.Client, id string) (string, error) {
	if r, err := c.Report(id); err == nil && r != nil {
		return r.ID, nil
	}
	b, err := c.Bundle(id)
	if err != nil {
		return "", err
	}
	reports := b.Reports
	sort.Slice(reports, func(i, j int) bool { return reports[i].CreatedAt.Before(reports[j].CreatedAt) })
	for _, r := range reports {
		if r.Status == fieldsync.ReportDraft {
			return r.ID, nil
		}
	}
	if len(reports) > 0 {
		return reports[len(reports)-1].ID, nil // signed: edits will say so
	}
	tpl, ok := templates.ForCategory(b.Asset.Category)
	if !ok {
		return "", fmt.Errorf("no report template for category %q", b.Asset.Category)
	}
	return c.CreateReport(b.Visit.ID, tpl.ID)
}

func pending(c *clientsdk.Client, w io.Writer, what string) error {
	s, err := c.Status()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s; %d change(s) wait for sync\n", what, s.Pending)
	return nil
}

var cst = time.FixedZone("CST", 8*3600)

func local(t time.Time) string { return t.In(cst).Format("2006-01-02 15:04") }

// photoLine is a photo's upload as one line with a progress bar.
func photoLine(p clientsdk.PhotoStatus) string {
	const width = 20
	done := 0
	if p.Size > 0 {
		done = int(p.Sent * width / p.Size)
	}
	bar := strings.Repeat("#", done) + strings.Repeat(".", width-done)
	line := fmt.Sprintf("%.12s %-14s [%s] %3d%% %s of %s  %s", p.SHA256, p.Slot, bar, done*100/width, size(p.Sent), size(p.Size), p.Status)
	if p.Error != "" {
		line += ": " + p.Error
		if p.Detail != "" {
			line += " — " + p.Detail
		}
	}
	return line
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
