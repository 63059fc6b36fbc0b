package main

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoShowsARealDay serves `fieldsync demo` data with the real binary
// and reads it as a dispatcher: the completed visits done on a tablet
// have sealed reports with every required answer, findings, cause,
// responsibility, a warranty decision, the work done and a photo per
// required slot, which GET /v1/media answers as images, thumbnails made; a demo report's
// bundle passes `fieldsync verify`; the visit that needs a second one
// carries the parts to bring; a complaint is open; each completed visit
// has its follow-up.
func TestDemoShowsARealDay(t *testing.T) {
	dir := t.TempDir()
	pw := demoLogins(t, dir)
	p := serveProcess(t, dir)
	disp := loginHTTP(t, p, "dispatcher", pw["dispatcher"], "browser")

	var visits struct {
		Items []struct {
			ID          string
			Status      string
			TicketID    string `json:"ticket_id"`
			SecondVisit *struct {
				Parts []struct {
					Code string
					Qty  int
				}
			} `json:"second_visit"`
		}
	}
	getJSON(t, p, disp, "/v1/visits", &visits)
	completed, withReports := 0, 0
	var sealed string
	for _, v := range visits.Items {
		switch v.Status {
		case "needs_second_visit":
			if v.SecondVisit == nil || len(v.SecondVisit.Parts) == 0 || v.SecondVisit.Parts[0].Code != "tv-mainboard" {
				t.Errorf("the visit needing a second one carries no parts: %+v", v.SecondVisit)
			}
		case "completed":
			completed++
			var reports struct {
				Items []struct {
					ID               string
					Status           string
					Answers          map[string]any
					Findings         string
					Cause            string
					Responsibility   string
					Warranty         *struct{ Decision struct{ Outcome string } }
					WarrantyDisputed bool `json:"warranty_disputed"`
					Work             []struct{ Part, Code string }
					Photos           []struct {
						Slot, URL, SHA256 string
						ThumbURL          string `json:"thumb_url"`
					}
				}
			}
			getJSON(t, p, disp, "/v1/reports?ticket="+v.TicketID, &reports)
			for _, r := range reports.Items {
				withReports++
				if r.Status != "sealed" || len(r.Answers) < 5 || r.Findings == "" || r.Cause == "" || r.Responsibility != "quality" ||
					r.Warranty == nil || r.Warranty.Decision.Outcome == "" || r.WarrantyDisputed || len(r.Work) == 0 || r.Work[0].Code == "" {
					t.Errorf("report %s of visit %s is not a full sealed report: %+v", r.ID, v.ID, r)
				}
				images := 0
				for _, ph := range r.Photos {
					status, body := fetch(t, p, disp, ph.URL)
					if status != 200 {
						t.Fatalf("GET %s: %d", ph.URL, status)
					}
					cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
					if err != nil || cfg.Width == 0 || format != "jpeg" && format != "png" {
						t.Errorf("photo %s of report %s is not an image: %v %s", ph.Slot, r.ID, err, format)
					}
					if strings.HasPrefix(ph.Slot, "signature_") {
						continue
					}
					images++
					if status, thumb := fetch(t, p, disp, ph.ThumbURL); ph.ThumbURL == "" || status != 200 {
						t.Errorf("photo %s of report %s has no thumbnail: %q %d", ph.Slot, r.ID, ph.ThumbURL, status)
					} else if _, _, err := image.DecodeConfig(bytes.NewReader(thumb)); err != nil {
						t.Errorf("the thumbnail of photo %s is not an image: %v", ph.Slot, err)
					}
				}
				if images < 4 {
					t.Errorf("report %s has %d photos besides signatures, want one per required slot", r.ID, images)
				}
				sealed = r.ID
			}
		}
	}
	if completed != 3 || withReports != 2 {
		t.Fatalf("%d completed visits with %d reports; want 3 and 2", completed, withReports)
	}

	var complaints struct{ Items []struct{ Status string } }
	getJSON(t, p, disp, "/v1/complaints", &complaints)
	if len(complaints.Items) != 1 {
		t.Errorf("demo complaints: %+v, want one open", complaints.Items)
	}
	var followups struct {
		Items []struct {
			VisitID string `json:"visit_id"`
		}
	}
	getJSON(t, p, disp, "/v1/followups", &followups)
	if len(followups.Items) != completed {
		t.Errorf("%d follow-ups for %d completed visits", len(followups.Items), completed)
	}

	work := t.TempDir()
	jwks := savePublic(t, p, "/.well-known/jwks.json", filepath.Join(work, "jwks.json"))
	status, bundle := fetch(t, p, disp, "/v1/reports/"+sealed+"/bundle")
	if status != 200 {
		t.Fatalf("GET the bundle of %s: %d %s", sealed, status, bundle)
	}
	if out, code := verifyCLI(t, "--keys", jwks, writeFile(t, filepath.Join(work, "demo.zip"), string(bundle))); code != 0 || !strings.Contains(out, "OK: ") {
		t.Fatalf("a demo report's bundle does not verify (exit %d):\n%s", code, out)
	}
}
