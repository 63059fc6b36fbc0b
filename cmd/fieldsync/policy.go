package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
	"github.com/fieldsync/fieldsync/quote"
	"github.com/fieldsync/fieldsync/sla"
	"github.com/fieldsync/fieldsync/store/bolt"
	"github.com/fieldsync/fieldsync/templates"
	"github.com/fieldsync/fieldsync/warranty"
)

// A policyKind is one kind of policy file a deployment may replace: its
// name is the serve flag, the --kind of `policy check` and, with .json,
// the file `policy export` writes.
type policyKind struct {
	name string
	// keys are top-level fields only this kind has, to tell a file's kind.
	keys  []string
	def   func() []byte
	check func([]byte) error
}

func checkWith[T any](parse func([]byte) (T, error)) func([]byte) error {
	return func(b []byte) error { _, err := parse(b); return err }
}

var policyKinds = []policyKind{
	{"calendar", []string{"region", "holidays", "make_up_workdays"}, calendar.DefaultSource, checkWith(calendar.Parse)},
	{"sla-policy", []string{"first_contact", "on_site", "follow_up"}, sla.DefaultSource, checkWith(sla.ParsePolicy)},
	{"warranty-policy", []string{"categories", "manufacture_grace", "repair_warranty"}, warranty.DefaultSource, checkWith(warranty.ParsePolicy)},
	{"price-list", []string{"parts", "labour", "callout_fen"}, quote.DefaultSource, checkWith(quote.Parse)},
}

func kindNames() string {
	var names []string
	for _, k := range policyKinds {
		names = append(names, k.name)
	}
	return strings.Join(names, ", ")
}

func kindNamed(name string) (policyKind, bool) {
	i := slices.IndexFunc(policyKinds, func(k policyKind) bool { return k.name == name })
	if i < 0 {
		return policyKind{}, false
	}
	return policyKinds[i], true
}

// detectKind tells a policy file's kind by its top-level fields.
func detectKind(data []byte) (policyKind, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return policyKind{}, fmt.Errorf("not a JSON object: %v", err)
	}
	for _, k := range policyKinds {
		for _, key := range k.keys {
			if _, ok := top[key]; ok {
				return k, nil
			}
		}
	}
	return policyKind{}, fmt.Errorf("cannot tell which policy this is; give --kind (%s)", kindNames())
}

// policies are the reference data a server decides and publishes by: the
// shipped defaults, each replaced by the file its serve flag names.
type policies struct {
	calendar    *calendar.Calendar
	calendarSrc []byte
	sla         sla.Policy
	warranty    warranty.Policy
	warrantySrc []byte
	prices      quote.PriceList
	pricesSrc   []byte
	// from names, for the log, where each kind came from: a file or
	// "default".
	from map[string]string
}

// loadPolicies reads and strictly parses the files given (by kind name;
// "" keeps the default). An unreadable or bad file is an error naming the
// flag, the file and, from the parser, the field.
func loadPolicies(files map[string]string) (policies, error) {
	p := policies{from: map[string]string{}}
	read := func(kind string) ([]byte, error) {
		k, _ := kindNamed(kind)
		path := files[kind]
		if path == "" {
			p.from[kind] = "default"
			return k.def(), nil
		}
		p.from[kind] = path
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", kind, err)
		}
		return b, nil
	}
	bad := func(kind string, err error) error {
		return fmt.Errorf("--%s %s: %s", kind, files[kind], fileError(err))
	}
	var err error
	if p.calendarSrc, err = read("calendar"); err != nil {
		return p, err
	}
	if p.calendar, err = calendar.Parse(p.calendarSrc); err != nil {
		return p, bad("calendar", err)
	}
	slaSrc, err := read("sla-policy")
	if err != nil {
		return p, err
	}
	if p.sla, err = sla.ParsePolicy(slaSrc); err != nil {
		return p, bad("sla-policy", err)
	}
	if p.warrantySrc, err = read("warranty-policy"); err != nil {
		return p, err
	}
	if p.warranty, err = warranty.ParsePolicy(p.warrantySrc); err != nil {
		return p, bad("warranty-policy", err)
	}
	if p.pricesSrc, err = read("price-list"); err != nil {
		return p, err
	}
	if p.prices, err = quote.Parse(p.pricesSrc); err != nil {
		return p, bad("price-list", err)
	}
	return p, nil
}

// fileError is what a parser found wrong with a file: the detail of a
// fieldsync error (it names the field), else the error's text.
func fileError(err error) string {
	var e *fieldsync.Error
	if errors.As(err, &e) {
		return e.Detail
	}
	return err.Error()
}

// logArgs are the log attributes saying where each policy came from.
func (p policies) logArgs() []any {
	var args []any
	for _, k := range policyKinds {
		args = append(args, k.name, p.from[k.name])
	}
	return args
}

// publishReference gives every device what it needs to work offline: the
// report templates, the business calendar, the SLA policy, the warranty
// policy and the price list quotes are priced on. Each keeps its entity
// id whatever file it came from, so a replaced one reaches tablets at
// their next pull.
func publishReference(ctx context.Context, store *bolt.DB, p policies) error {
	policy, err := json.Marshal(p.sla)
	if err != nil {
		return err
	}
	if err := store.PublishReference(ctx, []bolt.Reference{
		{Entity: fieldsync.EntityCalendar, ID: calendar.DefaultID, Data: p.calendarSrc},
		{Entity: fieldsync.EntityPolicy, ID: "default", Data: policy},
		{Entity: fieldsync.EntityWarrantyPolicy, ID: warranty.PolicyID, Data: p.warrantySrc},
		{Entity: fieldsync.EntityPriceList, ID: quote.ListID, Data: p.pricesSrc},
	}); err != nil {
		return err
	}
	return store.PublishTemplates(ctx, templates.All())
}

const policyUsage = `fieldsync policy — the policy files a server may run with

  policy export DIR                  write the shipped defaults to DIR (calendar.json,
                                     sla-policy.json, warranty-policy.json, price-list.json)
  policy check [--kind K] FILE...    validate policy files (kind told by their fields,
                                     or K: calendar, sla-policy, warranty-policy, price-list)

A file is used with the serve flag of its kind: --calendar, --sla-policy,
--warranty-policy, --price-list.
`

func policyCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, policyUsage)
		return fmt.Errorf("%w: policy needs a subcommand (export or check)", errUsage)
	}
	switch args[0] {
	case "export":
		return policyExport(args[1:], stdout, stderr)
	case "check":
		return policyCheck(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, policyUsage)
		return nil
	}
	fmt.Fprint(stderr, policyUsage)
	return fmt.Errorf("%w: unknown policy subcommand %q", errUsage, args[0])
}

// policyExport writes each kind's shipped default to DIR/<kind>.json,
// refusing to overwrite a file already there (it may hold edits).
func policyExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policy export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: policy export takes one directory", errUsage)
	}
	dir := fs.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, k := range policyKinds {
		path := filepath.Join(dir, k.name+".json")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists already: remove it or export to another directory", path)
		}
		if err != nil {
			return err
		}
		_, err = f.Write(k.def())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, path)
	}
	return nil
}

// policyCheck parses each file as the server would at start; the first
// bad one is the error.
func policyCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policy check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "", "the files' kind: "+kindNames()+" (default: told by their fields)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: policy check takes one or more files", errUsage)
	}
	var given policyKind
	if *kind != "" {
		var ok bool
		if given, ok = kindNamed(*kind); !ok {
			return fmt.Errorf("%w: --kind %q is none of %s", errUsage, *kind, kindNames())
		}
	}
	for _, path := range fs.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		k := given
		if k.name == "" {
			if k, err = detectKind(data); err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
		}
		if err := k.check(data); err != nil {
			return fmt.Errorf("%s (%s): %s", path, k.name, fileError(err))
		}
		fmt.Fprintf(stdout, "%s: a valid %s\n", path, k.name)
	}
	return nil
}
