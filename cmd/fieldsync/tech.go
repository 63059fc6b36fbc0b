package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/clientsdk"
	"github.com/fieldsync/fieldsync/media/signature"
	"github.com/fieldsync/fieldsync/templates"
	"github.com/fieldsync/fieldsync/warranty"
)

// techCommand is one command of `fieldsync tech`: its line in the usage
// and what runs it.
type techCommand struct {
	name string
	// args names the operands; run is called only with that many of
	// them, unless the command is a setup one.
	args  string
	about string // the usage's summary; each "\n" starts a line under it
	// setup commands run before the device is set up: they get no client
	// and parse their own arguments.
	setup bool
	// flags: run parses its operands itself, flags among them.
	flags bool
	run   func(context.Context, techCall) error
}

// techCall is one command as typed, with the device it runs on.
type techCall struct {
	name           string
	args           []string
	c              *clientsdk.Client // nil for a setup command
	db             string
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// techCommands are the commands in the order of the usage. Commands with
// no summary that take the operands of the one before share its line.
var techCommands = []techCommand{
	{name: "login", args: "--server URL --device ID LOGIN", about: "(password on stdin)", setup: true, run: techLogin},
	{name: "visits", args: "[--all]", about: "my visits to do (--all: finished ones too):\n" +
		"ticket status, window in China time, customer,\nzone, address, the dispatcher's notes", flags: true, run: techVisits},
	{name: "show", args: "VISIT [--json]", about: "the visit, its ticket and notes, its checklist\n" +
		"(item ids, what each takes, answers) and\n" +
		"photo slots; --json: the bundle with its\n" +
		"template as JSON", flags: true, run: techShow},
	{name: "templates", args: "[ID]", about: "the report templates on this device, or one\nwith its items and photo slots", flags: true, run: techTemplates},
	{name: "depart", args: "VISIT", run: techStep((*clientsdk.Client).Depart)},
	{name: "arrive", args: "VISIT", run: techStep((*clientsdk.Client).Arrive)},
	{name: "complete", args: "VISIT", run: techStep((*clientsdk.Client).Complete)},
	{name: "second-visit", args: "VISIT [flags]", about: "end the visit needing a second one: --part\n" +
		"CODE[xN] for each price-list part it must\n" +
		"bring, --note TEXT for who goes", flags: true, run: techSecondVisit},
	{name: "answer", args: "VISIT ITEM VALUE", about: "answer a checklist item (the visit's draft\n" +
		"report, an open addendum once one is made,\n" +
		"is made on first use); VALUE as the item\n" +
		"takes it: yes/no, a number, a choice's id,\n" +
		"text as typed; null clears it", run: techAnswer},
	{name: "discard", args: "VISIT", about: "discard the visit's draft report, offline:\n" +
		"its answers, findings and decisions go too", run: techDiscard},
	{name: "findings", args: "VISIT TEXT", run: techText(func(f *clientsdk.ReportFields, text *string) { f.Findings = text })},
	{name: "cause", args: "VISIT TEXT", run: techText(func(f *clientsdk.ReportFields, text *string) { f.Cause = text })},
	{name: "responsibility", args: "VISIT VALUE", about: "who the fault is on: quality, customer_damage,\ntransport or unknown", run: techText(func(f *clientsdk.ReportFields, text *string) {
		r := fieldsync.Responsibility(*text)
		f.Responsibility = &r
	})},
	{name: "warranty", args: "VISIT PART [CHECK…]", about: "decide the 三包 remedy offline and keep it in\n" +
		"the report: PART unit, major, battery,\n" +
		"earphones, charger or cable; CHECKs unworn,\n" +
		"labels-intact, serial-intact,\n" +
		"accessories-complete, missing=ACCESSORY", flags: true, run: techWarranty},
	{name: "pickup", args: "VISIT return|exchange", about: "the pick-up slip (取货单): every accessory\n" +
		"checked, --missing remote,stand deducted\n" +
		"at the price list's amounts", flags: true, run: techPickup},
	{name: "work", args: "VISIT PART[:CODE][xN]... [--note TEXT]", about: "the work done, a line per part repaired:\nPART as for warranty; CODE the price-list\npart code; N how many (default 1)", flags: true, run: techWork},
	{name: "quote", args: "VISIT ITEM…|--accept|--decline", about: "price paid work offline and keep the quote in\n" +
		"the report: ITEMs part:CODE[xN], labour:CODE[xN],\n" +
		"callout; then the customer's decision:\n" +
		"--accept, or --decline [--reason TEXT], which\n" +
		"ends the visit", flags: true, run: techQuote},
	{name: "sign", args: "VISIT [flags]", about: "sign the visit's report with the device key:\n" +
		"--customer-name NAME --strokes FILE.json|builtin\n" +
		"  the customer's signature (without them: the\n" +
		"  customer signs later, by link);\n" +
		"--technician-strokes FILE.json (default: a\n" +
		"  built-in stroke); --no-photo SLOT=REASON for\n" +
		"  each required slot left without a photo", flags: true, run: techSign},
	{name: "share", args: "VISIT", about: "a link the customer opens to read the signed\nreport and sign it off (online; 30 days)", run: techShare},
	{name: "addendum", args: "VISIT", about: "correct the visit's sealed report: a new\n" +
		"draft (its id printed) that answer, findings,\n" +
		"cause, attach and sign then work on", run: techAddendum},
	{name: "attach", args: "VISIT SLOT FILE", about: "attach a photo to the visit's report (queued\nfor upload; the file is copied)", run: techAttach},
	{name: "photos", about: "each photo's upload: state and progress", run: techPhotos},
	{name: "sync", about: "push pending work, pull news", run: techSync},
	{name: "status", about: "pending work, last sync, refusals", run: techStatus},
	{name: "conflicts", args: "[dismiss N…]", about: "work the server refused, with its reasons;\n" +
		"dismiss N… (the #N shown) or dismiss --all\n" +
		"once read", flags: true, run: techConflicts},
	{name: "photo", args: "retry|remove ID", about: "a refused photo (numbered by conflicts):\nupload it again, or take it off the device", run: techPhoto},
	{name: "export", args: "FILE", about: "write the unsynced work as JSON for a\ndispatcher (a revoked device's work)", run: techExport},
}

// techUsage is the usage text, made from techCommands.
func techUsage() string {
	var b strings.Builder
	b.WriteString("fieldsync tech — a technician's tablet on the command line (offline first)\n\n")
	for i := 0; i < len(techCommands); i++ {
		cmd, line := techCommands[i], techCommands[i].name
		for cmd.about == "" && i+1 < len(techCommands) && techCommands[i+1].about == "" && techCommands[i+1].args == cmd.args {
			i++
			line += "|" + techCommands[i].name
		}
		if cmd.args != "" {
			line += " " + cmd.args
		}
		usageEntry(&b, line, cmd.about)
	}
	b.WriteString("\nEvery command but login, sync and share works without a network.\n")
	b.WriteString("sync exits 3 when it went through but the server refused work (see\nconflicts), 1 when it failed.\n")
	return b.String()
}

const (
	techPrefix = "  fieldsync tech [--db FILE] "
	techWidth  = 22 // of name and operands before a summary
)

// usageEntry writes one line of the usage: the command and its operands,
// then its summary's lines.
func usageEntry(b *strings.Builder, line, about string) {
	if about == "" {
		fmt.Fprintf(b, "%s%s\n", techPrefix, line)
		return
	}
	for j, about := range strings.Split(about, "\n") {
		if j == 0 {
			fmt.Fprintf(b, "%s%-*s  %s\n", techPrefix, techWidth, line, about)
		} else {
			fmt.Fprintf(b, "%*s%s\n", len(techPrefix)+techWidth+2, "", about)
		}
	}
}

// techCommandUsage is the help of one command.
func techCommandUsage(cmd techCommand) string {
	var b strings.Builder
	line := cmd.name
	if cmd.args != "" {
		line += " " + cmd.args
	}
	about := cmd.about
	if about == "" {
		about = "record the step on the visit, offline"
	}
	usageEntry(&b, line, about)
	return b.String()
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

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
	flags.Usage = func() {}
	if err := parseFlags(flags, args, getenv); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, techUsage())
		return nil
	} else if err != nil {
		return err
	}
	args = flags.Args()
	if len(args) == 0 {
		fmt.Fprint(stderr, techUsage())
		return fmt.Errorf("%w: tech needs a command", errUsage)
	}
	i := slices.IndexFunc(techCommands, func(c techCommand) bool { return c.name == args[0] })
	if i < 0 {
		return fmt.Errorf("%w: unknown tech command %q: `fieldsync tech -h` lists them", errUsage, args[0])
	}
	cmd := techCommands[i]
	if slices.ContainsFunc(args[1:], isHelp) {
		fmt.Fprint(stdout, techCommandUsage(cmd))
		return nil
	}
	call := techCall{name: cmd.name, args: args[1:], db: *db, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if cmd.setup {
		return cmd.run(ctx, call)
	}
	cfg, err := readTechConfig(*db)
	if err != nil {
		return err
	}
	c, err := openTech(*db, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	// Commands without operands ignore any words after them.
	if cmd.args != "" && !cmd.flags && len(call.args) != len(strings.Fields(cmd.args)) {
		return fmt.Errorf("%w: %s takes %s", errUsage, cmd.name, cmd.args)
	}
	call.c = c
	return techError(call, cmd.run(ctx, call))
}

// techStep records a step of the visit.
func techStep(step func(c *clientsdk.Client, visitID string) error) func(context.Context, techCall) error {
	return func(_ context.Context, t techCall) error {
		if err := step(t.c, t.args[0]); err != nil {
			return err
		}
		return pending(t.c, t.stdout, t.name+" recorded")
	}
}

func techAnswer(_ context.Context, t techCall) error {
	report, err := draftOf(t.c, t.args[0])
	if err != nil {
		return err
	}
	value, err := typedAnswer(t.c, report, t.args[1], t.args[2])
	if err != nil {
		return err
	}
	if err := t.c.SetAnswer(report, t.args[1], value); err != nil {
		return err
	}
	return pending(t.c, t.stdout, "answer recorded")
}

// techText sets one text field of the visit's draft report.
func techText(field func(f *clientsdk.ReportFields, text *string)) func(context.Context, techCall) error {
	return func(_ context.Context, t techCall) error {
		report, err := draftOf(t.c, t.args[0])
		if err != nil {
			return err
		}
		var f clientsdk.ReportFields
		field(&f, &t.args[1])
		if err := t.c.SetReport(report, f); err != nil {
			return err
		}
		return pending(t.c, t.stdout, t.name+" recorded")
	}
}

// techWarranty decides the warranty of the visit's report offline
// (clientsdk.SetWarranty) and prints the decision with its reasons in
// both languages.
func techWarranty(_ context.Context, t techCall) error {
	if len(t.args) < 2 {
		return fmt.Errorf("%w: warranty takes VISIT PART [CHECK…]", errUsage)
	}
	q := clientsdk.WarrantyQuestion{FailedPart: warranty.Part(t.args[1])}
	for _, c := range t.args[2:] {
		switch c {
		case "unworn":
			q.Checks.Unworn = true
		case "labels-intact":
			q.Checks.LabelsIntact = true
		case "serial-intact":
			q.Checks.SerialIntact = true
		case "accessories-complete":
			q.Checks.AccessoriesComplete = true
		default:
			missing, ok := strings.CutPrefix(c, "missing=")
			if !ok || missing == "" {
				return fmt.Errorf("%w: warranty: unknown check %q (unworn, labels-intact, serial-intact, accessories-complete, missing=ACCESSORY)", errUsage, c)
			}
			q.Checks.MissingAccessories = append(q.Checks.MissingAccessories, missing)
		}
	}
	report, err := draftOf(t.c, t.args[0])
	if err != nil {
		return err
	}
	d, err := t.c.SetWarranty(report, q)
	if err != nil {
		return err
	}
	options := make([]string, len(d.Options))
	for i, o := range d.Options {
		options[i] = string(o)
	}
	fmt.Fprintf(t.stdout, "warranty: %s (on offer: %s)", d.Outcome, strings.Join(options, ", "))
	if len(d.Deductions) > 0 {
		fmt.Fprintf(t.stdout, "; deducted: %s", strings.Join(d.Deductions, ", "))
	}
	fmt.Fprintln(t.stdout)
	for _, l := range d.Explanation {
		fmt.Fprintf(t.stdout, "  %s\n  %s\n", l.Text.ZH, l.Text.EN)
	}
	return pending(t.c, t.stdout, "decision kept in the report")
}

// techSign attaches the signatures drawn from strokes and signs the
// visit's report with them (clientsdk.SignReport).
func techSign(_ context.Context, t techCall) error {
	flags := flag.NewFlagSet("tech sign", flag.ContinueOnError)
	flags.SetOutput(t.stderr)
	name := flags.String("customer-name", "", "the customer's name, as printed beside their signature")
	customer := flags.String("strokes", "", "the customer's signature: a strokes JSON file, or builtin")
	technician := flags.String("technician-strokes", "", "the technician's signature: a strokes JSON file (default: a built-in stroke)")
	var o clientsdk.SignOptions
	flags.Var(noPhotoFlag{&o.Unphotographed}, "no-photo", "SLOT=REASON: a required photo slot left without a photo, and why (repeatable)")
	// The operand may come before, among or after the flags.
	var operands []string
	for args := t.args; ; args = flags.Args()[1:] {
		if err := flags.Parse(args); err != nil {
			return fmt.Errorf("%w: sign: %v", errUsage, err)
		}
		if flags.NArg() == 0 {
			break
		}
		operands = append(operands, flags.Arg(0))
	}
	switch {
	case len(operands) != 1:
		return fmt.Errorf("%w: sign takes VISIT and flags: --customer-name NAME --strokes FILE.json [--technician-strokes FILE.json] [--no-photo SLOT=REASON …]", errUsage)
	case *customer != "" && *name == "":
		return fmt.Errorf("%w: sign: --strokes needs --customer-name, the name printed beside the customer's signature", errUsage)
	}
	o.CustomerName = *name
	var drawn signature.Strokes // the customer's, if they signed here
	if *customer != "" {
		var err error
		if drawn, err = readStrokes("--strokes", *customer); err != nil {
			return err
		}
	}
	strokes := signature.Builtin()
	if *technician != "" {
		var err error
		if strokes, err = readStrokes("--technician-strokes", *technician); err != nil {
			return err
		}
	}
	report, err := draftOf(t.c, operands[0])
	if err != nil {
		return err
	}
	// Refused before the drawings are attached: they would stay on the report.
	if err := t.c.CheckSign(report, o); err != nil {
		return err
	}
	if drawn != nil {
		if _, err := t.c.AttachSignature(report, "customer", drawn); err != nil {
			return err
		}
	}
	if _, err := t.c.AttachSignature(report, "technician", strokes); err != nil {
		return err
	}
	if err := t.c.SignReport(report, o); err != nil {
		return err
	}
	r, err := t.c.Report(report)
	if err != nil {
		return err
	}
	if r.SlipNo != "" {
		fmt.Fprintf(t.stdout, "slip no. %s (鉴定单号)\n", r.SlipNo)
	}
	if *customer == "" {
		fmt.Fprintln(t.stdout, "signed without the customer's signature: the customer signs later, by link")
	}
	hash := ""
	if r.Signature != nil {
		hash = r.Signature.Hash
	}
	return pending(t.c, t.stdout, fmt.Sprintf("report %s signed, canonical hash %.12s, queued until the next sync", report, hash))
}

// readStrokes reads a signature's strokes from a JSON file, or the
// built-in stroke for "builtin". EInvalid names the file and what to fix.
func readStrokes(flagName, path string) (signature.Strokes, error) {
	if path == "builtin" {
		return signature.Builtin(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flagName, path, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, signature.MaxJSONBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flagName, path, err)
	}
	strokes, err := signature.Parse(raw)
	if err != nil {
		return nil, fieldsync.Errorf(fieldsync.ErrorCode(err), "%s %s: %s (a signature is a JSON array of strokes, each an array of {\"x\", \"y\", \"t\"} points)", flagName, path, fieldsync.ErrorDetail(err))
	}
	return strokes, nil
}

// noPhotoFlag collects --no-photo SLOT=REASON into a map, each slot once.
type noPhotoFlag struct{ m *map[string]string }

func (f noPhotoFlag) String() string { return "" }

func (f noPhotoFlag) Set(v string) error {
	slot, reason, ok := strings.Cut(v, "=")
	if !ok || slot == "" {
		return fmt.Errorf("%q is not SLOT=REASON", v)
	}
	if *f.m == nil {
		*f.m = map[string]string{}
	}
	if _, dup := (*f.m)[slot]; dup {
		return fmt.Errorf("slot %s is named twice", slot)
	}
	(*f.m)[slot] = reason
	return nil
}

func techShare(ctx context.Context, t techCall) error {
	report, err := signedOf(t.c, t.args[0])
	if err != nil {
		return err
	}
	l, err := t.c.ShareReport(ctx, report, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "share link of report %s, open until %s (shown once; send it to the customer):\n%s\n", report, local(l.ExpiresAt), l.PageURL)
	return nil
}

// signedOf returns the report id itself, or the visit's latest report
// that is signed or sealed and corrects none: its link shows its addenda.
func signedOf(c *clientsdk.Client, id string) (string, error) {
	if r, err := c.Report(id); err == nil && r != nil {
		return r.ID, nil
	}
	b, err := c.Bundle(id)
	if err != nil {
		return "", err
	}
	var latest *fieldsync.Report
	for i, r := range b.Reports {
		if r.Status != fieldsync.ReportDraft && r.Corrects == "" && (latest == nil || r.CreatedAt.After(latest.CreatedAt)) {
			latest = &b.Reports[i]
		}
	}
	if latest == nil {
		return "", fmt.Errorf("visit %s has no signed report to share: sign it (fieldsync tech sign) and sync first", id)
	}
	return latest.ID, nil
}

func techAttach(_ context.Context, t techCall) error {
	report, err := draftOf(t.c, t.args[0])
	if err != nil {
		return err
	}
	ref, err := t.c.AttachPhoto(report, t.args[1], t.args[2])
	if err != nil {
		return err
	}
	return pending(t.c, t.stdout, fmt.Sprintf("photo %.12s attached to slot %s (%s)", ref.SHA256, ref.Slot, size(ref.Size)))
}

func techPhotos(_ context.Context, t techCall) error {
	photos, err := t.c.Photos()
	if err != nil {
		return err
	}
	if len(photos) == 0 {
		fmt.Fprintln(t.stdout, "no photos")
	}
	for _, p := range photos {
		fmt.Fprintln(t.stdout, photoLine(p))
	}
	return nil
}

func techSync(ctx context.Context, t techCall) error {
	// Photo progress comes as events while the round runs.
	var printer sync.WaitGroup
	printer.Go(func() {
		for e := range t.c.Events() {
			if e.Photo != nil && (e.Kind == clientsdk.EventPhotoProgress || e.Kind == clientsdk.EventPhotoVerified || e.Kind == clientsdk.EventPhotoFailed) {
				fmt.Fprintln(t.stdout, photoLine(*e.Photo))
			}
		}
	})
	r, err := t.c.Sync(ctx)
	t.c.Close() // ends the events, so the printer finishes
	printer.Wait()
	if err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "pushed %d (applied %d, duplicate %d, refused %d), pulled %d\n", r.Pushed, r.Applied, r.Duplicates, r.Refused, r.Pulled)
	if r.PhotosRefused > 0 {
		fmt.Fprintf(t.stdout, "photos refused %d\n", r.PhotosRefused)
	}
	if r.Refused > 0 || r.PhotosRefused > 0 {
		return errSyncRefused
	}
	return nil
}

func techStatus(_ context.Context, t techCall) error {
	s, err := t.c.Status()
	if err != nil {
		return err
	}
	last := "never"
	if !s.LastSync.IsZero() {
		last = local(s.LastSync)
	}
	fmt.Fprintf(t.stdout, "pending: %d", s.Pending)
	if s.Pending > 0 {
		fmt.Fprintf(t.stdout, " (oldest %s)", s.OldestPending.Round(time.Second))
	}
	fmt.Fprintf(t.stdout, "\nlast sync: %s\npulled: %d\nrefused: %d", last, s.Pulled, s.Refused+s.PhotosFailed)
	if s.PhotosFailed > 0 {
		fmt.Fprintf(t.stdout, " (photos %d)", s.PhotosFailed)
	}
	fmt.Fprintf(t.stdout, "\nsigned in: %v\n", s.SignedIn)
	if s.LastError != "" {
		fmt.Fprintf(t.stdout, "last error: %s\n", s.LastError)
	}
	if s.InstallID != "" {
		fmt.Fprintf(t.stdout, "install: %s\n", s.InstallID)
	}
	if p, err := t.c.SlipPrefix(); err == nil && p != "" {
		fmt.Fprintf(t.stdout, "slip prefix: %s\n", p)
	}
	return nil
}

func techConflicts(_ context.Context, t techCall) error {
	if len(t.args) > 0 && t.args[0] == "dismiss" {
		return techConflictsDismiss(t)
	}
	if len(t.args) > 0 {
		return fmt.Errorf("%w: conflicts takes nothing, or dismiss N… (or dismiss --all)", errUsage)
	}
	refused, err := t.c.Conflicts()
	if err != nil {
		return err
	}
	photos, err := printRefusedPhotos(t.stdout, t.c)
	if err != nil {
		return err
	}
	if len(refused)+photos == 0 {
		fmt.Fprintln(t.stdout, "no refused work")
	}
	for _, r := range refused {
		what := r.Mutation.Op
		if r.Mutation.Action != "" {
			what = r.Mutation.Action
		}
		fmt.Fprintf(t.stdout, "#%d %s %s %s: %s %s — %s\n", r.Mutation.Seq, r.Mutation.Entity, r.Mutation.ID, what, r.Status, r.Code, r.Detail)
	}
	return nil
}

func techLogin(ctx context.Context, t techCall) error {
	flags := flag.NewFlagSet("tech login", flag.ContinueOnError)
	flags.SetOutput(t.stderr)
	server := flags.String("server", "http://127.0.0.1:8080", "the Fieldsync server")
	device := flags.String("device", "", "this device's id (kept from the first login)")
	if err := parseFlags(flags, t.args, t.getenv); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return fmt.Errorf("%w: login takes LOGIN (the password comes on stdin)", errUsage)
	}
	cfg, err := readTechConfig(t.db)
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
	password, err := bufio.NewReader(io.LimitReader(t.stdin, fieldsync.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	c, err := openTech(t.db, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(ctx, flags.Arg(0), strings.TrimRight(password, "\r\n")); err != nil {
		return err
	}
	if err := writeTechConfig(t.db, cfg); err != nil {
		return err
	}
	r, err := c.Sync(ctx)
	if err != nil {
		return fmt.Errorf("signed in, but the first sync failed: %w", err)
	}
	fmt.Fprintf(t.stdout, "signed in as %s on %s; pulled %d records\n", flags.Arg(0), cfg.Device, r.Pulled)
	return nil
}

// techExport writes the unsynced work to FILE, readable by its owner only:
// it holds customers' data in clear.
func techExport(_ context.Context, t techCall) error {
	f, err := os.OpenFile(t.args[0], os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := t.c.ExportPending(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	s, err := t.c.Status()
	if err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "%d change(s), %d refusal(s) and %d photo(s) not uploaded written to %s\n",
		s.Pending, s.Refused, s.PhotosQueued+s.PhotosUploading+s.PhotosFailed, t.args[0])
	return nil
}

// openTech opens the device's database with the key kept beside it.
func openTech(db string, cfg techConfig) (*clientsdk.Client, error) {
	key, err := techKey(db)
	if err != nil {
		return nil, err
	}
	return clientsdk.Open(db, clientsdk.Options{ServerURL: cfg.Server, DeviceID: cfg.Device, Key: key})
}

func techKeyPath(db string) string { return db + ".key" }

// techKey reads the database's key (hex, in DB.key), making one on first
// use. An app keeps it in the platform's keystore instead; the CLI keeps
// it in a file only its owner may read, and refuses one others may.
func techKey(db string) ([]byte, error) {
	path := techKeyPath(db)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		key := make([]byte, clientsdk.KeySize)
		rand.Read(key)
		_, err = fmt.Fprintln(f, hex.EncodeToString(key))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return nil, err
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the key file %s may be read by others (mode %04o): chmod 600 it", path, info.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != clientsdk.KeySize {
		return nil, fmt.Errorf("the key file %s does not hold %d bytes in hex", path, clientsdk.KeySize)
	}
	return key, nil
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
// techAddendum starts an addendum of the visit's report: the latest one
// that corrects none. Refusals are the SDK's (clientsdk.CreateAddendum):
// the report must be sealed on this device.
func techAddendum(_ context.Context, t techCall) error {
	b, err := t.c.Bundle(t.args[0])
	if err != nil {
		return err
	}
	original := ""
	for _, r := range b.Reports { // in the order they were made
		if r.Corrects == "" {
			original = r.ID
		}
	}
	if original == "" {
		return fmt.Errorf("visit %s has no report to correct", t.args[0])
	}
	id, err := t.c.CreateAddendum(original)
	if err != nil {
		return err
	}
	if a, err := t.c.Report(id); err == nil && a.SlipNo != "" {
		fmt.Fprintf(t.stdout, "slip no. %s (鉴定单号)\n", a.SlipNo)
	}
	return pending(t.c, t.stdout, fmt.Sprintf("addendum %s of report %s made", id, original))
}

// draftOf returns the visit's draft report (an addendum being written is
// the draft once its report is sealed), making one when the visit has no
// report; with none a draft, the latest report, whose edits are refused.
// An id of a report is taken as it is.
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
