package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeCommandCells returns the first cell of each row of README's
// command table.
func readmeCommandCells(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Commands\n")
	if !ok {
		t.Fatal("README has no Commands section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var cells []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `fieldsync") {
			continue
		}
		// The first cell ends at the first " | " that is not an escaped \|.
		cell := strings.TrimPrefix(line, "| ")
		if i := strings.Index(strings.ReplaceAll(cell, `\|`, "  "), " | "); i >= 0 {
			cell = cell[:i]
		}
		cells = append(cells, strings.ReplaceAll(cell, `\|`, "|"))
	}
	if len(cells) == 0 {
		t.Fatal("README's command table has no rows")
	}
	return cells
}

// usageCommands returns the command words of each line of fieldsync's
// usage: "admin add-user", "serve --demo", "verify --keys".
func usageCommands(t *testing.T) []string {
	t.Helper()
	_, list, ok := strings.Cut(usage, "Commands:\n")
	if !ok {
		t.Fatal("the usage has no Commands list")
	}
	word := regexp.MustCompile(`^(--)?[a-z][a-z-]*$`)
	var out []string
	for _, line := range strings.Split(list, "\n") {
		synopsis, _, _ := strings.Cut(strings.TrimSpace(line), "  ")
		var words []string
		for _, w := range strings.Fields(synopsis) {
			if !word.MatchString(w) {
				break
			}
			words = append(words, w)
		}
		if len(words) > 0 {
			out = append(out, strings.Join(words, " "))
		}
	}
	return out
}

// Every command of fieldsync's usage and of `fieldsync tech` has a row
// of README's command table, and every tech row names a command that
// exists.
func TestREADMECommandTableIsComplete(t *testing.T) {
	cells := readmeCommandCells(t)
	for _, cmd := range usageCommands(t) {
		if !slices.ContainsFunc(cells, func(c string) bool { return strings.HasPrefix(c, "`fieldsync "+cmd) }) {
			t.Errorf("README's command table has no row for `fieldsync %s`", cmd)
		}
	}

	// A tech row's first cell names its commands: `fieldsync tech a|b X`,
	// then further `c X` spans (`fieldsync tech sync`, `status`, …).
	names := map[string]bool{}
	for _, cmd := range techCommands {
		names[cmd.name] = true
	}
	span := regexp.MustCompile("`([^`]*)`")
	documented := map[string]bool{}
	for _, cell := range cells {
		if !strings.HasPrefix(cell, "`fieldsync tech ") {
			continue
		}
		for _, m := range span.FindAllStringSubmatch(cell, -1) {
			s := strings.TrimPrefix(m[1], "fieldsync tech ")
			s = strings.TrimPrefix(s, "[--db FILE] ")
			first, _, _ := strings.Cut(s, " ")
			if strings.HasPrefix(first, "-") || first == strings.ToUpper(first) {
				continue // a flag or an operand (COMMAND, VISIT) of the span before
			}
			for _, name := range strings.Split(first, "|") {
				if !names[name] {
					t.Errorf("README's command table names `fieldsync tech %s`, which is no command (in %s)", name, cell)
				}
				documented[name] = true
			}
		}
	}
	for _, cmd := range techCommands {
		if !documented[cmd.name] {
			t.Errorf("README's command table has no row for `fieldsync tech %s`", cmd.name)
		}
	}
}
