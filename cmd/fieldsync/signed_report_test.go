package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/internal/testenv"
)

// TestSignedReportEndToEnd is the signed report's whole life with the
// real binaries, on `fieldsync demo` data: a technician signs a report
// offline with `fieldsync tech`, syncs, its photos upload and the server
// seals it; the dispatcher shares it by link; the bundle downloaded
// through the link verifies with `fieldsync verify` against the JWKS saved
// apart, and fails naming the member after any one-byte change of any
// member, or with another report's seal; the server's key rotated, the
// old bundle still verifies with the new JWKS, and a new one proves the
// log only grew since a head saved before; the customer's own login lists
// their reports and no one else's.
func TestSignedReportEndToEnd(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	addr := freeAddr(t)
	p := serveProcessAt(t, dir, addr)
	work := t.TempDir()
	dispatcher := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")

	db, visitA := techOnScheduledVisit(t, addr, pw["tech.li"])
	if visitA == "" {
		t.Fatal("tech.li has no scheduled visit")
	}
	// Another customer's visit for the same technician: the demo customer
	// must never see its report.
	visitB := otherCustomersVisit(t, p, dispatcher, techOf(t, db, visitA))
	mustTech(t, db, "sync")

	stop(t, p) // offline from here until the sync
	mustTech(t, db, "depart", visitA)
	mustTech(t, db, "arrive", visitA)
	tpl := answerRequired(t, db, visitA)
	slots := tpl.RequiredSlots()
	if len(slots) < 3 {
		t.Fatalf("template %s has %d required photo slots; the test needs 3", tpl.ID, len(slots))
	}
	photos := map[string][]byte{} // sha256 -> bytes
	for i, slot := range slots[:2] {
		photo := testenv.NoiseJPEG(320, 240, int64(40+i))
		photos[sha(photo)] = photo
		mustTech(t, db, "attach", visitA, slot, writeFile(t, filepath.Join(work, slot+".jpg"), string(photo)))
	}
	strokes := writeFile(t, filepath.Join(work, "customer.json"),
		`[[{"x":12,"y":80,"t":0},{"x":60,"y":30,"t":140},{"x":110,"y":90,"t":300}],[{"x":140,"y":40,"t":700},{"x":220,"y":60,"t":820}]]`)
	args := []string{"sign", visitA, "--customer-name", "刘女士", "--strokes", strokes}
	for _, slot := range slots[2:] {
		args = append(args, "--no-photo", slot+"=the customer kept it")
	}
	reportA := signedReport(t, mustTech(t, db, args...))

	p = serveProcessAt(t, dir, addr) // back in coverage
	if out := mustTech(t, db, "sync"); !strings.Contains(out, "refused 0") || strings.Count(out, "verified") < 4 {
		t.Fatalf("sync: want every push applied and 2 photos and 2 signatures verified:\n%s", out)
	}
	sealA := waitSealed(t, p, dispatcher, reportA)

	// The technician's tablet shares it with the customer: a link in full.
	shareOut := mustTech(t, db, "share", visitA)
	lines := strings.Split(strings.TrimSpace(shareOut), "\n")
	techLink := lines[len(lines)-1]
	if !strings.Contains(shareOut, reportA) || !strings.HasPrefix(techLink, "http://") || !strings.Contains(techLink, "/r/") {
		t.Fatalf("tech share:\n%s", shareOut)
	}
	if res, err := http.Get(techLink); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET the technician's link, the report's page: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	// The dispatcher shares the report; the link opens it without a login.
	link := createLink(t, p, dispatcher, reportA)
	var shared struct {
		Report struct {
			ID     string
			Photos []struct{ SHA256, URL string }
		}
		Status    string
		Seal      *fieldsync.Seal
		BundleURL string `json:"bundle_url"`
	}
	if status, body := fetch(t, p, "", link); status != 200 || json.Unmarshal(body, &shared) != nil {
		t.Fatalf("GET %s: %d %s", link, status, body)
	}
	if shared.Report.ID != reportA || shared.Status != "sealed" || shared.Seal == nil || shared.Seal.Hash != sealA.Hash ||
		shared.BundleURL != link+"/bundle" || len(shared.Report.Photos) != 4 {
		t.Fatalf("the shared report, want 2 photos and 2 signatures: %+v", shared)
	}
	for _, ph := range shared.Report.Photos {
		status, body := fetch(t, p, "", ph.URL)
		if status != 200 || sha(body) != ph.SHA256 {
			t.Fatalf("GET %s without a login: %d, %d bytes", ph.URL, status, len(body))
		}
		delete(photos, ph.SHA256)
	}
	if len(photos) != 0 {
		t.Fatalf("the shared report lacks the photos %v", slices.Collect(maps.Keys(photos)))
	}

	// Anyone verifies the bundle with the keys saved apart.
	jwks := savePublic(t, p, "/.well-known/jwks.json", filepath.Join(work, "jwks.json"))
	bundleA := savePublic(t, p, shared.BundleURL, filepath.Join(work, "report.zip"))
	headBefore := savePublic(t, p, "/v1/log/head", filepath.Join(work, "head.txt"))
	if out, code := verifyCLI(t, "--keys", jwks, bundleA); code != 0 || !strings.Contains(out, "OK: ") {
		t.Fatalf("the bundle does not verify (exit %d):\n%s", code, out)
	}
	zipA := readBytes(t, bundleA)
	t.Run("one changed byte of any member fails naming it", func(t *testing.T) {
		changedBytes(t, zipA, jwks, filepath.Join(work, "changed"))
	})
	t.Run("a seal with another server signature fails naming the key", func(t *testing.T) {
		forged := rezip(t, zipA, func(name string, data []byte) []byte {
			if name != "seal.json" {
				return data
			}
			s := sealA
			s.Signature = map[bool]string{true: "B", false: "A"}[s.Signature[0] == 'A'] + s.Signature[1:]
			b, _ := json.Marshal(s)
			return b
		})
		out, code := verifyCLI(t, "--keys", jwks, writeFile(t, filepath.Join(work, "forged.zip"), string(forged)))
		if want := "✗ seal: signature invalid for key kid " + sealA.KeyID + "\n"; code != 1 || !strings.Contains(out, want) {
			t.Fatalf("exit %d, want 1 and %q:\n%s", code, want, out)
		}
	})
	t.Run("a flipped byte of the ZIP itself is a clear error", func(t *testing.T) {
		flipped := bytes.Clone(zipA)
		flipped[len(flipped)/2] ^= 0x01
		file := writeFile(t, filepath.Join(work, "flipped.zip"), string(flipped))
		out, code := verifyCLI(t, "--keys", jwks, file)
		if code != 1 || !strings.Contains(out, "flipped.zip") || !strings.Contains(out, "checksum") || strings.Contains(out, "goroutine") {
			t.Fatalf("exit %d, want 1 with a checksum error naming the file:\n%s", code, out)
		}
	})

	// A second report, of the other customer, signed and sealed likewise.
	answerRequired(t, db, visitB)
	args = []string{"sign", visitB, "--customer-name", "赵先生", "--strokes", "builtin"}
	for _, slot := range slots {
		args = append(args, "--no-photo", slot+"=not photographed")
	}
	reportB := signedReport(t, mustTech(t, db, args...))
	if out := mustTech(t, db, "sync"); !strings.Contains(out, "refused 0") {
		t.Fatalf("sync:\n%s", out)
	}
	waitSealed(t, p, dispatcher, reportB)
	linkB := createLink(t, p, dispatcher, reportB)
	zipB := readBytes(t, savePublic(t, p, linkB+"/bundle", filepath.Join(work, "b.zip")))
	t.Run("another report's seal fails naming seal.json", func(t *testing.T) {
		swapped := rezip(t, zipA, func(name string, data []byte) []byte {
			if name == "seal.json" {
				return member(t, zipB, name)
			}
			return data
		})
		out, code := verifyCLI(t, "--keys", jwks, writeFile(t, filepath.Join(work, "swapped.zip"), string(swapped)))
		if code != 1 || !failureNames(out, "seal.json") || !strings.Contains(out, "seals report "+reportB) {
			t.Fatalf("exit %d, want 1 naming seal.json:\n%s", code, out)
		}
	})

	// The server's key rotated: what it sealed before still verifies.
	stop(t, p)
	out, err := exec.Command(binary(t), "admin", "add-key", "--data", dir).CombinedOutput()
	m := regexp.MustCompile(`added key (\S+);`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("admin add-key: %v\n%s", err, out)
	}
	newKid := string(m[1])
	p = serveProcessAt(t, dir, addr)
	newJWKS := savePublic(t, p, "/.well-known/jwks.json", filepath.Join(work, "jwks-new.json"))
	var set struct{ Keys []struct{ Kid string } }
	json.Unmarshal(readBytes(t, newJWKS), &set)
	if len(set.Keys) != 2 || !slices.ContainsFunc(set.Keys, func(k struct{ Kid string }) bool { return k.Kid == newKid }) {
		t.Fatalf("the JWKS after add-key: %+v; want the old key and %s", set.Keys, newKid)
	}
	if out, code := verifyCLI(t, "--keys", newJWKS, bundleA); code != 0 {
		t.Fatalf("the bundle made before the rotation fails with the new JWKS (exit %d):\n%s", code, out)
	}
	// A new bundle of the same report: its head is signed by the new key,
	// and proves the log of the head saved before only grew.
	since := headSize(t, readBytes(t, headBefore))
	bundleNew := savePublic(t, p, fmt.Sprintf("%s/bundle?since=%d", link, since), filepath.Join(work, "report-new.zip"))
	if head := member(t, readBytes(t, bundleNew), "log/head.txt"); !bytes.Contains(head, []byte("fieldsync-log/"+newKid)) {
		t.Fatalf("the new bundle's head is not signed by the new key %s:\n%s", newKid, head)
	}
	for _, args := range [][]string{{"--keys", newJWKS, bundleNew}, {"--keys", newJWKS, "--head", headBefore, bundleNew}} {
		out, code := verifyCLI(t, args...)
		if code != 0 {
			t.Fatalf("verify %v: exit %d:\n%s", args, code, out)
		}
		if slices.Contains(args, "--head") && !strings.Contains(out, fmt.Sprintf("✓ consistency: the saved head (%d entries)", since)) {
			t.Fatalf("verify --head checked no consistency:\n%s", out)
		}
	}

	// The customer's own login lists their reports, and no one else's.
	cust := loginHTTP(t, p, "customer.liu", pw["customer.liu"], "phone-liu")
	var mine struct {
		Items []struct{ ID, Status string }
	}
	getJSON(t, p, cust, "/v1/reports", &mine)
	var ids []string
	for _, r := range mine.Items {
		ids = append(ids, r.ID)
		if r.ID == reportA && r.Status != "sealed" {
			t.Errorf("customer.liu sees report %s %s, want sealed", r.ID, r.Status)
		}
	}
	if !slices.Contains(ids, reportA) || slices.Contains(ids, reportB) {
		t.Fatalf("customer.liu lists %v: want %s and never the other customer's %s", ids, reportA, reportB)
	}
	if status, body := fetch(t, p, cust, "/v1/reports/"+reportB); status != 404 {
		t.Fatalf("customer.liu reads the other customer's report: %d %s", status, body)
	}
}

// changedBytes changes one byte of each member of the bundle z, at its
// first, middle and last byte, re-zipped with the same names and order,
// and runs `fieldsync verify` on each: exit 1 with a failure naming the
// member, except README.txt, which verify says it does not check.
func changedBytes(t *testing.T, z []byte, jwks, dir string) {
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) < 12 {
		t.Fatalf("the bundle has %d members; want the documents, 2 photos and 2 signatures with strokes", len(zr.File))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for i, f := range zr.File {
		size := len(member(t, z, f.Name))
		for _, at := range []int{0, size / 2, size - 1} {
			t.Run(fmt.Sprintf("%s@%d", f.Name, at), func(t *testing.T) {
				t.Parallel()
				changed := rezip(t, z, func(name string, data []byte) []byte {
					if name == f.Name {
						data = bytes.Clone(data)
						data[at] ^= 0x01
					}
					return data
				})
				out, code := verifyCLI(t, "--keys", jwks, writeFile(t, filepath.Join(dir, fmt.Sprintf("%d-%d.zip", i, at)), string(changed)))
				if f.Name == "README.txt" {
					if code != 0 || !strings.Contains(out, "README.txt: not checked") {
						t.Fatalf("exit %d, want 0 saying README.txt is not checked:\n%s", code, out)
					}
					return
				}
				if code != 1 || !failureNames(out, f.Name) {
					t.Fatalf("exit %d, want 1 with a failure naming %s:\n%s", code, f.Name, out)
				}
			})
		}
	}
}

// failureNames reports whether a failed check of verify's output names
// the member, by its name or the name of its check.
func failureNames(out, member string) bool {
	alias := map[string]string{"seal.json": "✗ seal:", "log/head.txt": "✗ log head:", "log/inclusion.json": "✗ inclusion:"}[member]
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "✗ ") && (strings.Contains(line, member) || alias != "" && strings.HasPrefix(line, alias)) {
			return true
		}
	}
	return false
}

// verifyCLI runs the real `fieldsync verify ARGS…` and returns its output
// and exit code.
func verifyCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(binary(t), append([]string{"verify"}, args...)...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return string(out), 0
}

// rezip writes the members of the ZIP z again, in order, under their
// names and methods, their content through change.
func rezip(t *testing.T, z []byte, change func(name string, data []byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method, Modified: f.Modified})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(change(f.Name, member(t, z, f.Name))); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// member returns the bytes of the ZIP z's member name.
func member(t *testing.T, z []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var signedLine = regexp.MustCompile(`report (\S+) signed, canonical hash`)

// signedReport reads the report's id from what `tech sign` printed.
func signedReport(t *testing.T, out string) string {
	t.Helper()
	m := signedLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("tech sign said:\n%s", out)
	}
	return m[1]
}

// waitSealed waits until the dispatcher sees the report sealed: the seal
// follows the last photo's upload.
func waitSealed(t *testing.T, p *process, token, report string) fieldsync.Seal {
	t.Helper()
	var r struct {
		Status string
		Seal   *fieldsync.Seal
	}
	waitFor(t, "report "+report+" sealed", func() bool {
		getJSON(t, p, token, "/v1/reports/"+report, &r)
		if r.Status != "sealed" {
			time.Sleep(100 * time.Millisecond)
		}
		return r.Status == "sealed"
	})
	if r.Seal == nil || r.Seal.ReportID != report || r.Seal.Signature == "" {
		t.Fatalf("report %s is sealed with %+v", report, r.Seal)
	}
	return *r.Seal
}

// techOf returns the technician of the visit, as the tablet has it.
func techOf(t *testing.T, db, visit string) string {
	t.Helper()
	var b fieldsync.VisitBundle
	if err := json.Unmarshal([]byte(mustTech(t, db, "show", "--json", visit)), &b); err != nil {
		t.Fatal(err)
	}
	return b.Visit.TechnicianID
}

// otherCustomersVisit has the dispatcher take in a TV repair for a new
// customer and send technician to it; it returns the visit.
func otherCustomersVisit(t *testing.T, p *process, dispatcher, technician string) string {
	t.Helper()
	var cust, site, asset, ticket, visit struct{ ID string }
	send(t, p, dispatcher, "/v1/customers", map[string]any{"name": "赵先生", "phone": "139 0000 0000"}, &cust)
	send(t, p, dispatcher, "/v1/sites", map[string]any{"customer_id": cust.ID, "address": "上海市长宁区天山路600号", "zone": "city"}, &site)
	send(t, p, dispatcher, "/v1/assets", map[string]any{"customer_id": cust.ID, "category": "tv", "model": "Sony X90L", "serial": "SN-ZHAO-1"}, &asset)
	send(t, p, dispatcher, "/v1/tickets", map[string]any{"customer_id": cust.ID, "site_id": site.ID, "asset_id": asset.ID,
		"channel": "hotline", "kind": "repair", "description": "无法开机"}, &ticket)
	start := time.Now().Add(time.Hour).Truncate(time.Hour)
	send(t, p, dispatcher, "/v1/visits", map[string]any{"ticket_id": ticket.ID, "technician_id": technician,
		"window_start": start, "window_end": start.Add(2 * time.Hour)}, &visit)
	return visit.ID
}

// createLink has token's holder share the report and returns the link's
// path, its token in it.
func createLink(t *testing.T, p *process, token, report string) string {
	t.Helper()
	var l struct{ URL, Token string }
	send(t, p, token, "/v1/reports/"+report+"/links", map[string]any{}, &l)
	if l.Token == "" || l.URL != "/v1/shared/"+l.Token {
		t.Fatalf("the new link: %+v", l)
	}
	return l.URL
}

// send POSTs body as token's holder and wants 200 or 201.
func send(t *testing.T, p *process, token, path string, body, out any) {
	t.Helper()
	sendAs(t, p, "POST", token, path, body, out)
}

// sendAs sends body as JSON with method as token's holder and wants 200
// or 201.
func sendAs(t *testing.T, p *process, method, token, path string, body, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, p.url(path), bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 && res.StatusCode != 201 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// fetch GETs path, with token's authority or, for "", none.
func fetch(t *testing.T, p *process, token, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url(path), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// savePublic saves what GET path answers without a login to file.
func savePublic(t *testing.T, p *process, path, file string) string {
	t.Helper()
	status, body := fetch(t, p, "", path)
	if status != 200 {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	return writeFile(t, file, string(body))
}

func readBytes(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// headSize reads the tree size of a signed tree head (its second line).
func headSize(t *testing.T, head []byte) int64 {
	t.Helper()
	var n int64
	lines := strings.SplitN(string(head), "\n", 3)
	if len(lines) < 3 {
		t.Fatalf("not a tree head:\n%s", head)
	}
	if _, err := fmt.Sscan(lines[1], &n); err != nil || n < 1 {
		t.Fatalf("tree head of size %q: %v", lines[1], err)
	}
	return n
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
