package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/clientsdk"
)

// techVisits lists the visits still to do (all of them with --all), each
// with its window in China time, customer, zone and address.
func techVisits(_ context.Context, t techCall) error {
	all := false
	for _, a := range t.args {
		if a != "--all" && a != "-all" {
			return fmt.Errorf("%w: visits takes only --all, not %q", errUsage, a)
		}
		all = true
	}
	visits, err := t.c.Visits()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(t.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VISIT\tSTATUS\tTICKET\tWINDOW (+08:00)\tDUE\tCUSTOMER\tZONE\tADDRESS\tNOTES")
	hidden := 0
	for _, v := range visits {
		if !all && v.Status.Terminal() {
			hidden++
			continue
		}
		b, err := t.c.Bundle(v.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Status, orDash(string(b.Ticket.Status)),
			local(v.WindowStart)+"–"+v.WindowEnd.In(cst).Format("15:04"), local(v.Due), orDash(b.Customer.Name),
			orDash(string(b.Site.Zone)), orDash(b.Site.Address), orDash(oneLine(v.Notes)))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if hidden > 0 {
		fmt.Fprintf(t.stdout, "%d finished visit(s) not shown: visits --all lists them\n", hidden)
	}
	return nil
}

// oneLine is a free text on one line of a table: its runs of white
// space, line breaks and tabs included, as one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// techShow prints the visit for the technician: who and where, the steps
// so far, and the report's template with each item's answer and each photo
// slot's photos. --json prints the bundle with the template as JSON.
func techShow(_ context.Context, t techCall) error {
	var visit string
	asJSON := false
	for _, a := range t.args {
		switch {
		case a == "--json" || a == "-json":
			asJSON = true
		case visit == "" && !strings.HasPrefix(a, "-"):
			visit = a
		default:
			return fmt.Errorf("%w: show takes VISIT [--json]", errUsage)
		}
	}
	if visit == "" {
		return fmt.Errorf("%w: show takes VISIT [--json]", errUsage)
	}
	sv, err := showVisit(t.c, visit)
	if err != nil {
		return err
	}
	b := sv.VisitBundle
	tpl, report, err := visitTemplate(t.c, b)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(t.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(struct {
			*shownVisit
			Template *fieldsync.Template `json:"template,omitempty"`
		}{sv, tpl})
	}
	v := b.Visit
	w := t.stdout
	fmt.Fprintf(w, "visit %s: %s\n", v.ID, visitWords[v.Status])
	fmt.Fprintf(w, "  window   %s–%s (+08:00), arrive by %s\n", local(v.WindowStart), v.WindowEnd.In(cst).Format("15:04"), local(v.Due))
	fmt.Fprintf(w, "  ticket   %s\n", ticketLine(&b.Ticket))
	if v.Notes != "" {
		fmt.Fprintf(w, "  notes    %s\n", oneLine(v.Notes))
	}
	fmt.Fprintf(w, "  customer %s %s\n", orDash(b.Customer.Name), b.Customer.Phone)
	fmt.Fprintf(w, "  address  %s (zone %s)\n", orDash(b.Site.Address), orDash(string(b.Site.Zone)))
	fmt.Fprintf(w, "  asset    %s %s, serial %s\n", b.Asset.Category, b.Asset.Model, orDash(b.Asset.Serial))
	if sv.Previous != nil {
		printPrevious(w, sv.Previous)
	}
	if tpl == nil {
		fmt.Fprintln(w, "no report template on this device for this visit: run `fieldsync tech sync`")
		return nil
	}
	var answers fieldsync.Answers
	counts := map[string]int{}
	if report != nil {
		answers = report.Answers
		fmt.Fprintf(w, "report %s (%s)\n", report.ID, report.Status)
		photos, err := t.c.ReportPhotos(report.ID)
		if err != nil {
			return err
		}
		for _, p := range photos {
			counts[p.Slot]++
		}
	} else {
		fmt.Fprintln(w, "no report yet: the first answer makes one")
	}
	printTemplate(w, tpl, answers, counts, report != nil)
	return nil
}

// visitTemplate returns the template of the visit's latest report, or
// the one a report of its asset would take, with that report (nil: none
// yet). The template is nil when the device has not pulled it.
func visitTemplate(c *clientsdk.Client, b *fieldsync.VisitBundle) (*fieldsync.Template, *fieldsync.Report, error) {
	var report *fieldsync.Report
	reports := b.Reports
	sort.SliceStable(reports, func(i, j int) bool { return reports[i].CreatedAt.Before(reports[j].CreatedAt) })
	for i := range reports {
		if report == nil || reports[i].Status == fieldsync.ReportDraft || report.Status != fieldsync.ReportDraft {
			report = &reports[i]
		}
	}
	tpls, err := c.Templates()
	if err != nil {
		return nil, nil, err
	}
	for i, tp := range tpls {
		if (report != nil && tp.ID == report.TemplateID) || (report == nil && tp.Category == b.Asset.Category) {
			return &tpls[i], report, nil
		}
	}
	return nil, report, nil
}

// printTemplate writes the checklist and photo slots of tpl; with
// answers, each item's answer and each slot's photo count.
func printTemplate(w io.Writer, tpl *fieldsync.Template, answers fieldsync.Answers, photos map[string]int, withState bool) {
	fmt.Fprintf(w, "template %s v%d (%s): %s / %s\n", tpl.ID, tpl.Version, tpl.Category, tpl.Name.ZH, tpl.Name.EN)
	fmt.Fprintln(w, "checklist (answer VISIT ITEM VALUE):")
	for _, it := range tpl.Items {
		req := "optional"
		if it.Required {
			req = "required"
		}
		fmt.Fprintf(w, "  %-20s %s, %s — %s / %s\n", it.ID, itemType(it), req, it.Label.ZH, it.Label.EN)
		if it.Type == fieldsync.ItemChoice {
			for _, o := range it.Options {
				fmt.Fprintf(w, "      %-16s %s / %s\n", o.Value, o.Label.ZH, o.Label.EN)
			}
		}
		if withState {
			answer := "(not answered)"
			if raw, ok := answers[it.ID]; ok && string(raw) != "null" {
				answer = showAnswer(it, raw)
			}
			fmt.Fprintf(w, "      answer: %s\n", answer)
		}
	}
	fmt.Fprintln(w, "photo slots (attach VISIT SLOT FILE):")
	for _, s := range tpl.PhotoSlots {
		req := "optional"
		if s.Required {
			req = "required"
		}
		fmt.Fprintf(w, "  %-20s %s — %s / %s", s.ID, req, s.Label.ZH, s.Label.EN)
		if withState {
			fmt.Fprintf(w, "; %d photo(s)", photos[s.ID])
		}
		fmt.Fprintln(w)
	}
}

// itemType says what an item takes, as answer wants it typed.
func itemType(it fieldsync.ChecklistItem) string {
	switch it.Type {
	case fieldsync.ItemYesNo:
		return "yes or no"
	case fieldsync.ItemChoice:
		ids := make([]string, len(it.Options))
		for i, o := range it.Options {
			ids[i] = o.Value
		}
		return "one of " + strings.Join(ids, ", ")
	case fieldsync.ItemNumber:
		s := "a number"
		switch {
		case it.Min != nil && it.Max != nil:
			s += fmt.Sprintf(" from %g to %g", *it.Min, *it.Max)
		case it.Min != nil:
			s += fmt.Sprintf(" of at least %g", *it.Min)
		case it.Max != nil:
			s += fmt.Sprintf(" of at most %g", *it.Max)
		}
		if it.Unit != "" {
			s += " " + it.Unit
		}
		return s
	}
	return "text"
}

// showAnswer is an answer as the technician would type it.
func showAnswer(it fieldsync.ChecklistItem, raw json.RawMessage) string {
	var b bool
	if it.Type == fieldsync.ItemYesNo && json.Unmarshal(raw, &b) == nil {
		if b {
			return "yes"
		}
		return "no"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// techTemplates lists the templates on the device, or shows one.
func techTemplates(_ context.Context, t techCall) error {
	if len(t.args) > 1 {
		return fmt.Errorf("%w: templates takes [ID]", errUsage)
	}
	tpls, err := t.c.Templates()
	if err != nil {
		return err
	}
	if len(t.args) == 1 {
		for i := range tpls {
			if tpls[i].ID == t.args[0] {
				printTemplate(t.stdout, &tpls[i], nil, nil, false)
				return nil
			}
		}
		return fmt.Errorf("no template %q on this device: `fieldsync tech templates` lists them", t.args[0])
	}
	if len(tpls) == 0 {
		fmt.Fprintln(t.stdout, "no templates on this device: run `fieldsync tech sync`")
		return nil
	}
	w := tabwriter.NewWriter(t.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TEMPLATE\tVERSION\tCATEGORY\tITEMS\tPHOTO SLOTS\tNAME")
	for _, tp := range tpls {
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%d\t%s / %s\n", tp.ID, tp.Version, tp.Category, len(tp.Items), len(tp.PhotoSlots), tp.Name.ZH, tp.Name.EN)
	}
	return w.Flush()
}

// answerValue reads VALUE as the item takes it: yes/no (true/false,
// 是/否), a number, a choice's option id, text as typed. A JSON value of
// the item's type is taken too (a quoted string, for one). EInvalid says
// what the item expects.
func answerValue(it fieldsync.ChecklistItem, value string) (json.RawMessage, error) {
	if value == "null" {
		return json.RawMessage("null"), nil // clears the answer
	}
	expects := func() error {
		return fieldsync.Errorf(fieldsync.EInvalid, "%s expects %s", it.ID, itemType(it))
	}
	switch it.Type {
	case fieldsync.ItemYesNo:
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "yes", "y", "true", "是":
			return json.RawMessage("true"), nil
		case "no", "n", "false", "否":
			return json.RawMessage("false"), nil
		}
		return nil, expects()
	case fieldsync.ItemNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || (it.Min != nil && f < *it.Min) || (it.Max != nil && f > *it.Max) {
			return nil, expects()
		}
		return json.RawMessage(strconv.FormatFloat(f, 'f', -1, 64)), nil
	case fieldsync.ItemChoice:
		id := unquote(value)
		for _, o := range it.Options {
			if o.Value == id {
				return jsonString(id), nil
			}
		}
		return nil, expects()
	}
	return jsonString(unquote(value)), nil
}

// unquote returns the string a JSON string literal holds, s itself when
// it is none.
func unquote(s string) string {
	var out string
	if strings.HasPrefix(s, `"`) && json.Unmarshal([]byte(s), &out) == nil {
		return out
	}
	return s
}

func jsonString(s string) json.RawMessage {
	raw, _ := json.Marshal(s) // a string always encodes
	return raw
}

// techConflictsDismiss removes refusals the technician has read: by their
// number (#N in `conflicts`), or all of them.
func techConflictsDismiss(t techCall) error {
	if len(t.args) < 2 {
		return fmt.Errorf("%w: conflicts dismiss takes N… (the #N of `conflicts`) or --all", errUsage)
	}
	refused, err := t.c.Conflicts()
	if err != nil {
		return err
	}
	known := map[int64]bool{}
	for _, r := range refused {
		known[r.Mutation.Seq] = true
	}
	var seqs []int64
	for _, a := range t.args[1:] {
		if a == "--all" {
			for seq := range known {
				seqs = append(seqs, seq)
			}
			continue
		}
		seq, err := strconv.ParseInt(strings.TrimPrefix(a, "#"), 10, 64)
		if err != nil || !known[seq] {
			return fmt.Errorf("%w: no refused work #%s: `fieldsync tech conflicts` lists their numbers", errUsage, strings.TrimPrefix(a, "#"))
		}
		seqs = append(seqs, seq)
	}
	for _, seq := range seqs {
		if err := t.c.DismissConflict(seq); err != nil {
			return err
		}
	}
	fmt.Fprintf(t.stdout, "%d refusal(s) dismissed; %d left\n", len(seqs), len(known)-len(seqs))
	return nil
}

// visitWords say a visit's status as the technician lives it.
var visitWords = map[fieldsync.VisitStatus]string{
	fieldsync.VisitScheduled:        "scheduled, not set out yet",
	fieldsync.VisitEnRoute:          "on the way",
	fieldsync.VisitOnSite:           "on site",
	fieldsync.VisitCompleted:        "completed",
	fieldsync.VisitNeedsSecondVisit: "finished, a second visit is needed",
	fieldsync.VisitCancelled:        "cancelled",
}

// ticketLine is the ticket as show prints it: where it stands (with
// staff's reason for closing or cancelling it), its kind and what the
// customer reported.
func ticketLine(tk *fieldsync.Ticket) string {
	status := strings.ReplaceAll(orDash(string(tk.Status)), "_", " ")
	if tk.StatusReason != "" {
		status += " (" + oneLine(tk.StatusReason) + ")"
	}
	line := status + ", " + orDash(string(tk.Kind))
	if d := oneLine(tk.Description); d != "" {
		line += ": " + d
	}
	return line
}

// stepRefused says why a step cannot be recorded on a visit in status,
// and what to do instead.
func stepRefused(step, visit string, status fieldsync.VisitStatus) string {
	switch {
	case status.Terminal():
		return fmt.Sprintf("visit %s is already %s: nothing more can be recorded on it", visit, visitWords[status])
	case status == fieldsync.VisitScheduled && step != "depart":
		return fmt.Sprintf("you have not set out for visit %s yet: run `fieldsync tech depart %s` first", visit, visit)
	case status == fieldsync.VisitEnRoute && step == "depart":
		return fmt.Sprintf("you are already on the way to visit %s: run `fieldsync tech arrive %s` when you get there", visit, visit)
	case status == fieldsync.VisitEnRoute:
		return fmt.Sprintf("you have not arrived at visit %s yet: run `fieldsync tech arrive %s` first", visit, visit)
	case status == fieldsync.VisitOnSite && (step == "depart" || step == "arrive"):
		return fmt.Sprintf("you are already on site at visit %s", visit)
	}
	return fmt.Sprintf("visit %s is %s: %s cannot be recorded now", visit, visitWords[status], step)
}

// techSteps are the commands that move a visit.
var techSteps = map[string]bool{"depart": true, "arrive": true, "complete": true, "second-visit": true}

// techErrorWords turn the codes a technician meets into what to do; the
// server's or device's detail is kept where it names the thing to fix.
var techErrorWords = map[string]func(detail string) string{
	fieldsync.EInvalid: func(d string) string { return d }, // names what to fix
	fieldsync.EReportSealed: func(string) string {
		return "the report is signed and sealed: correct it with `fieldsync tech addendum VISIT`"
	},
	fieldsync.ENotFound: func(d string) string {
		return d + ": check the id with `fieldsync tech visits`, or run `fieldsync tech sync` to fetch new work"
	},
	fieldsync.EUnauthorized:   signInAgain,
	fieldsync.ETokenInvalid:   signInAgain,
	fieldsync.ERefreshInvalid: signInAgain,
	fieldsync.ERefreshReused:  signInAgain,
	fieldsync.ESessionEnded:   signInAgain,
	fieldsync.EBadCredentials: func(string) string { return "wrong login or password: try again" },
	fieldsync.EAccountDisabled: func(string) string {
		return "your account is disabled: ask your dispatcher; your unsynced work stays on this device"
	},
	fieldsync.EDeviceRevoked: func(string) string {
		return "this tablet was revoked: write its unsynced work with `fieldsync tech export FILE` and give the file to your dispatcher"
	},
	fieldsync.EUnavailable: func(string) string {
		return "the server does not answer: your work is kept on this device; run `fieldsync tech sync` later"
	},
	fieldsync.EThrottled: func(string) string { return "too many failed sign-ins: wait a few minutes and try again" },
}

func signInAgain(string) string {
	return "you are signed out: sign in again with `fieldsync tech login LOGIN` (password on stdin)"
}

// techError puts err in the technician's words: a refused step of a
// visit from its status, other codes from techErrorWords.
func techError(t techCall, err error) error {
	var fe *fieldsync.Error
	if err == nil || errors.Is(err, errUsage) || !errors.As(err, &fe) {
		return err
	}
	if fe.Code == fieldsync.EInvalidTransition && techSteps[t.name] && len(t.args) > 0 {
		if b, berr := t.c.Bundle(t.args[0]); berr == nil {
			return errors.New(stepRefused(t.name, t.args[0], b.Visit.Status))
		}
	}
	if words, ok := techErrorWords[fe.Code]; ok {
		return errors.New(words(fe.Detail))
	}
	return err
}

// typedAnswer reads value for item of the report's template (answerValue).
// A device that has not pulled the template takes JSON when it parses,
// else text, and leaves the check to the server.
func typedAnswer(c *clientsdk.Client, reportID, item, value string) (json.RawMessage, error) {
	r, err := c.Report(reportID)
	if err != nil {
		return nil, err
	}
	tpls, err := c.Templates()
	if err != nil {
		return nil, err
	}
	for _, tp := range tpls {
		if tp.ID != r.TemplateID {
			continue
		}
		for _, it := range tp.Items {
			if it.ID == item {
				return answerValue(it, value)
			}
		}
		ids := make([]string, len(tp.Items))
		for i, it := range tp.Items {
			ids[i] = it.ID
		}
		return nil, fieldsync.Errorf(fieldsync.EInvalid, "template %s has no item %q; its items: %s", tp.ID, item, strings.Join(ids, ", "))
	}
	if json.Valid([]byte(value)) {
		return json.RawMessage(value), nil
	}
	return jsonString(value), nil
}

// techDiscard deletes the visit's draft report (or the draft by its id),
// offline; its answers, findings and decisions go with it.
func techDiscard(_ context.Context, t techCall) error {
	report := ""
	if r, err := t.c.Report(t.args[0]); err == nil && r != nil {
		report = r.ID
	} else {
		b, err := t.c.Bundle(t.args[0])
		if err != nil {
			return err
		}
		for _, r := range b.Reports {
			if r.Status == fieldsync.ReportDraft {
				report = r.ID
			}
		}
		if report == "" {
			return fmt.Errorf("visit %s has no draft report to discard (a signed report is corrected with `fieldsync tech addendum`)", t.args[0])
		}
	}
	if err := t.c.DiscardDraft(report); err != nil {
		return err
	}
	return pending(t.c, t.stdout, fmt.Sprintf("draft report %s discarded", report))
}
