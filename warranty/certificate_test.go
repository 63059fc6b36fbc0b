package warranty

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/calendar"
)

// TestCertificatePeriods holds a certificate's last day to what Decide
// counts as within the repair warranty: month ends and 29 February end on
// the target month's last day, and the last day is covered, the next not.
func TestCertificatePeriods(t *testing.T) {
	for _, c := range []struct {
		name      string
		period    Period
		completed string // RFC 3339
		repaired  string
		expires   string
	}{
		{"six months", Period{6, Months}, "2026-03-10T02:00:00Z", "2026-03-10", "2026-09-10"},
		{"a month end into a shorter month", Period{6, Months}, "2026-08-31T02:00:00Z", "2026-08-31", "2027-02-28"},
		{"the 31st into a 30-day month", Period{1, Months}, "2026-03-31T02:00:00Z", "2026-03-31", "2026-04-30"},
		{"a leap day, one year", Period{1, Years}, "2028-02-29T02:00:00Z", "2028-02-29", "2029-02-28"},
		{"a leap day, four years", Period{4, Years}, "2028-02-29T02:00:00Z", "2028-02-29", "2032-02-29"},
		{"into a leap February", Period{6, Months}, "2027-08-31T02:00:00Z", "2027-08-31", "2028-02-29"},
		{"days", Period{90, Days}, "2026-01-01T02:00:00Z", "2026-01-01", "2026-04-01"},
		{"working days over the National Day holiday", Period{3, Workdays}, "2026-09-30T02:00:00Z", "2026-09-30", "2026-10-11"}, // 8th, 9th, the make-up Saturday, and Sunday before the 4th,
		// 23:30 UTC on 9 March is 07:30 on 10 March in China.
		{"the day in China time", Period{6, Months}, "2026-03-09T23:30:00Z", "2026-03-10", "2026-09-10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.RepairWarranty = c.period
			at, _ := time.Parse(time.RFC3339, c.completed)
			w := &fieldsync.WorkOrder{ID: "wo1", VisitID: "v1", AssetID: "a1", CustomerID: "c1", Outcome: "free_repair", CompletedAt: at,
				Work: []fieldsync.WorkLine{{Part: "battery", Qty: 1}, {Part: "charger", Qty: 1}, {Part: "battery", Qty: 1}}}
			certs := Certify(p, calendar.Default(), w)
			if len(certs) != 2 || certs[0].Part != "battery" || certs[1].Part != "charger" {
				t.Fatalf("certificates %+v, want one for battery and one for charger", certs)
			}
			cert := certs[0]
			if cert.RepairedOn != c.repaired || cert.ExpiresOn != c.expires || cert.ID != "wo1:battery" || !cert.UnderWarranty ||
				cert.Period != (fieldsync.Period{Amount: c.period.Amount, Unit: string(c.period.Unit)}) {
				t.Fatalf("certificate %+v, want repaired %s, expiring %s", cert, c.repaired, c.expires)
			}
			// Decide agrees: free on the last day, not on the next.
			last, _ := ParseDate(c.expires)
			for _, d := range []struct {
				visit Date
				free  bool
			}{{last, true}, {last.AddDays(1), false}} {
				in := Input{Category: "phone", Invoice: NewDate(2020, 1, 1), Visit: d.visit, Responsibility: fieldsync.ResponsibilityQuality, FailedPart: PartBattery}
				q := Question{FailedPart: PartBattery}.WithCertificates(certs, "v2", d.visit.String())
				for _, r := range q.Repairs {
					on, _ := ParseDate(r.Date)
					in.Repairs = append(in.Repairs, Repair{Date: on, UnderWarranty: r.UnderWarranty})
				}
				got, err := Decide(p, calendar.Default(), in)
				if err != nil {
					t.Fatal(err)
				}
				if free := slices.Contains(got.Options, FreeRepair); free != d.free {
					t.Errorf("visit %s: free repair %v, want %v (%+v)", d.visit, free, d.free, got.Explanation)
				}
			}
		})
	}
}

func TestCertifiedRepairs(t *testing.T) {
	certs := []fieldsync.Certificate{
		{Part: "battery", RepairedOn: "2026-01-10", UnderWarranty: true, VisitID: "v1"},
		{Part: "charger", RepairedOn: "2026-01-10", VisitID: "v1"},
		{Part: "battery", RepairedOn: "2026-05-01", VisitID: "v2"},
		{Part: "battery", RepairedOn: "2026-06-01", VisitID: "v3"},
	}
	got := CertifiedRepairs(certs, PartBattery, "v2", "2026-05-20")
	if want := []RequestRepair{{Date: "2026-01-10", UnderWarranty: true}}; !slices.Equal(got, want) {
		t.Errorf("CertifiedRepairs = %v, want %v: the battery's, not the visit's own, none after the day", got, want)
	}
	q := Question{FailedPart: PartBattery, Repairs: []RequestRepair{{Date: "2025-12-01"}}}.WithCertificates(certs, "v9", "2026-07-01")
	if len(q.Repairs) != 4 || q.Repairs[0].Date != "2025-12-01" {
		t.Errorf("WithCertificates = %v, want the stated repair and the three of the battery", q.Repairs)
	}
}

// TestCertificateExplained: a part repaired two months ago, past its own
// warranty, is repaired free again under the certificate, and the
// explanation says so.
func TestCertificateExplained(t *testing.T) {
	p := DefaultPolicy()
	w := &fieldsync.WorkOrder{ID: "wo1", VisitID: "v1", AssetID: "a1", Outcome: "paid_repair",
		CompletedAt: time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC), Work: []fieldsync.WorkLine{{Part: "battery", Qty: 1}}}
	certs := Certify(p, nil, w)
	r := &fieldsync.Report{ID: "r2", VisitID: "v2", Responsibility: fieldsync.ResponsibilityQuality,
		Warranty: &fieldsync.ReportWarranty{Question: []byte(`{"failed_part":"battery","checks":{}}`), VisitDate: "2026-05-01", Decision: []byte(`{}`)}}
	a := &fieldsync.Asset{ID: "a1", Category: "phone", InvoiceDate: "2024-01-01"}
	d, err := Recheck(p, nil, r, a, certs)
	if err != nil {
		t.Fatal(err)
	}
	last := d.Explanation[len(d.Explanation)-1]
	if d.Outcome != FreeRepair || last.Rule != RuleRepair || !strings.Contains(last.Text.ZH, "维修部件保修 6 个月") || !strings.Contains(last.Text.EN, "repaired-part warranty applies") {
		t.Errorf("decision %+v, want free_repair under the repaired-part warranty", d)
	}
	if d, _ := Recheck(p, nil, r, a, nil); d.Outcome != NotCovered {
		t.Errorf("without the certificate: %s, want not_covered", d.Outcome)
	}
}

// TestWorkPartsAreWarrantyParts: a work line's part is a warranty part.
func TestWorkPartsAreWarrantyParts(t *testing.T) {
	for i, p := range Parts {
		if fieldsync.WorkParts[i] != string(p) || len(Parts) != len(fieldsync.WorkParts) {
			t.Fatalf("fieldsync.WorkParts %v, warranty.Parts %v", fieldsync.WorkParts, Parts)
		}
	}
}
