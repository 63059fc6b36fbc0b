// Package browsertest runs tests in a real headless Chromium, Debian's
// /usr/bin/chromium (FIELDSYNC_CHROMIUM names another), driven through
// chromedp. Without Chromium a test skips, unless CI=true, where it fails:
// scripts/test.sh installs it.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is the browser's path unless FIELDSYNC_CHROMIUM is set.
const Chromium = "/usr/bin/chromium"

// deadline bounds a whole browser test: generous, for loaded machines.
const deadline = 3 * time.Minute

// New starts a headless Chromium for t with an empty profile and returns
// the context of its first tab, for chromedp.Run and chromedp.Do. When t
// fails, a screenshot of the tab is saved to t.ArtifactDir() (kept with
// go test -artifacts) and its path logged; the browser stops when t ends.
func New(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("FIELDSYNC_CHROMIUM")
	if path == "" {
		path = Chromium
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browsertest: no Chromium at %s (scripts/test.sh installs Debian's chromium): %v", path, err)
		}
		t.Skipf("browsertest: no Chromium at %s; set CI=true to make this a failure", path)
	}
	// The flags keep Chromium off the network but for the pages under
	// test: without them it dials Google's hosts at every start.
	actx, stopAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, stopTab := chromedp.NewContext(actx)
	ctx, stopDeadline := context.WithTimeout(ctx, deadline)
	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, ctx)
		}
		stopDeadline()
		stopTab()
		stopAlloc()
	})
	// Start the browser now, so a browser that cannot start fails here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	return ctx
}

// screenshot saves what the tab shows to the test's artifact folder.
func screenshot(t *testing.T, ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("browsertest: no screenshot: %v", err)
		return
	}
	file := filepath.Join(t.ArtifactDir(), "screenshot.png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Logf("browsertest: no screenshot: %v", err)
		return
	}
	t.Logf("browsertest: screenshot of the page at %s", file)
}
