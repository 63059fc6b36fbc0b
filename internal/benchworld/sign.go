package benchworld

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync"
	syncproto "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/templates"
)

// SignFields returns the wire fields of the sign action of report r
// (fieldsync.ParseSignAction), as a tablet makes them: the canonical
// document of r on visit v, ticket t and asset a, signed as sig and
// photos say (canon.Build), its hash signed with key. keyID "" names key
// by its id (fieldsync.DeviceKeyID); hash, when not "", is signed
// instead of the document's.
func SignFields(r *fieldsync.Report, v *fieldsync.Visit, t *fieldsync.Ticket, a *fieldsync.Asset, sig fieldsync.Signature, photos []fieldsync.SlotPhoto, key ed25519.PrivateKey, keyID, hash string) (map[string]any, error) {
	signing, err := canon.SigningOf(&sig, photos)
	if err != nil {
		return nil, err
	}
	doc, err := canon.Build(r, v, t, a, signing)
	if err != nil {
		return nil, err
	}
	if hash == "" {
		if hash, err = doc.Hash(); err != nil {
			return nil, err
		}
	}
	if keyID == "" {
		keyID = fieldsync.DeviceKeyID(key.Public().(ed25519.PublicKey))
	}
	digest, err := hex.DecodeString(hash)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{
		"signed_at": sig.SignedAt.Format(time.RFC3339), "hash": hash, "key_id": keyID,
		"signature": base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, digest)),
	}
	if len(photos) > 0 {
		fields["photos"] = photos
	}
	if len(sig.Unphotographed) > 0 {
		fields["unphotographed"] = sig.Unphotographed
	}
	if sig.CustomerName != "" {
		fields["customer_name"] = sig.CustomerName
	}
	return fields, nil
}

// The signed push workload: tablets that each push whole reports, made
// and signed on the device (its answers and its sign action in the same
// push), as a tablet does that worked offline. A report signed without
// photos, with a reason for every required slot, is ready to seal the
// moment its sign action applies.

// SignedTemplate is the template of the signed reports.
const SignedTemplate = "tv-v1"

// SignedAnswers are the answers of a signed report: every step of the
// TV checklist, which answers all its required items.
var SignedAnswers = sync.OnceValue(func() map[string]json.RawMessage {
	all := map[string]json.RawMessage{}
	for _, step := range answerSteps {
		for k, v := range step {
			all[k], _ = json.Marshal(v)
		}
	}
	return all
})

// Records reads what a sign action is checked against.
type Records interface {
	Visit(ctx context.Context, id string) (*fieldsync.Visit, error)
	Ticket(ctx context.Context, id string) (*fieldsync.Ticket, error)
	Asset(ctx context.Context, id string) (*fieldsync.Asset, error)
}

// SignedTablet is a tablet with a device key that pushes Reports signed
// reports a push, each a new report on its visit.
type SignedTablet struct {
	*Tablet
	Key     ed25519.PrivateKey
	Reports int
	num, n  int
	v       *fieldsync.Visit
	t       *fieldsync.Ticket
	a       *fieldsync.Asset
	reasons []fieldsync.SlotReason
	ready   []prepared
	last    string
}

// prepared is a report made and signed on the tablet, not yet pushed.
type prepared struct {
	id           string
	create, sign map[string]json.RawMessage
}

// NewSignedTablet returns tablet n with key, working on visit (read from
// db) and pushing reports signed reports a push.
func NewSignedTablet(ctx context.Context, db Records, n int, visit string, key ed25519.PrivateKey, reports int) (*SignedTablet, error) {
	s := &SignedTablet{Tablet: NewTablet(n, visit), Key: key, Reports: reports, num: n}
	var err error
	if s.v, err = db.Visit(ctx, visit); err == nil && s.v != nil {
		if s.t, err = db.Ticket(ctx, s.v.TicketID); err == nil && s.t != nil {
			s.a, err = db.Asset(ctx, s.t.AssetID)
		}
	}
	if err == nil && (s.v == nil || s.t == nil || s.a == nil) {
		err = fmt.Errorf("visit %s: its visit, ticket or asset is missing", visit)
	}
	if err != nil {
		return nil, err
	}
	tpl, ok := templates.ByID(SignedTemplate)
	if !ok {
		return nil, fmt.Errorf("no template %s", SignedTemplate)
	}
	if missing := tpl.Missing(SignedAnswers()); len(missing) > 0 {
		return nil, fmt.Errorf("signed reports leave %v unanswered", missing)
	}
	for _, slot := range tpl.RequiredSlots() {
		s.reasons = append(s.reasons, fieldsync.SlotReason{Slot: slot, Reason: "客户不在场，无法拍摄"})
	}
	return s, nil
}

// Prepare makes and signs the reports of the tablet's next pushes
// pushes, so that a benchmark times the server's work, not the
// tablet's.
func (s *SignedTablet) Prepare(pushes int) error {
	for range pushes * s.Reports {
		s.n++
		id := ID(1<<42 | uint64(s.num)<<24 | uint64(s.n))
		r := &fieldsync.Report{ID: id, VisitID: s.Visit, TemplateID: SignedTemplate, Answers: SignedAnswers()}
		sig := fieldsync.Signature{SignedAt: time.Now().UTC().Truncate(time.Second), DeviceID: s.Device, Unphotographed: s.reasons}
		sign, err := SignFields(r, s.v, s.t, s.a, sig, nil, s.Key, "", "")
		if err != nil {
			return err
		}
		create := map[string]any{"visit_id": s.Visit, "template_id": SignedTemplate, "answers": SignedAnswers()}
		s.ready = append(s.ready, prepared{id, rawFields(create), rawFields(sign)})
	}
	return nil
}

func rawFields(fields map[string]any) map[string]json.RawMessage {
	raw := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		raw[k], _ = json.Marshal(v)
	}
	return raw
}

// NextSigned returns the tablet's next push: Reports prepared reports,
// each created and signed (2 × Reports mutations). It fails when fewer
// are prepared.
func (s *SignedTablet) NextSigned() ([]syncproto.Mutation, error) {
	if len(s.ready) < s.Reports {
		return nil, fmt.Errorf("%s: %d reports prepared, a push takes %d", s.Device, len(s.ready), s.Reports)
	}
	batch := make([]syncproto.Mutation, 0, 2*s.Reports)
	for _, r := range s.ready[:s.Reports] {
		for _, m := range []syncproto.Mutation{
			{Entity: fieldsync.EntityReport, ID: r.id, Op: syncproto.OpUpsert, Fields: r.create},
			{Entity: fieldsync.EntityReport, ID: r.id, Op: syncproto.OpAction, Action: "sign", Fields: r.sign},
		} {
			s.seq++
			m.Seq, m.HLC = s.seq, s.clock.Now().String()
			batch = append(batch, m)
		}
	}
	s.last = s.ready[s.Reports-1].id
	s.ready = s.ready[s.Reports:]
	return batch, nil
}

// LastReport is the id of the last report NextSigned pushed.
func (s *SignedTablet) LastReport() string { return s.last }

// RunEach runs b.N pushes from one goroutine per tablet, all at once,
// each tablet taking its even share of b.N: prepare(tablet, share) runs
// first, untimed, then push share times. It reports pushes/s and returns
// b.N.
func RunEach[T any](b *testing.B, tablets []T, prepare func(T, int) error, push func(T) error) int64 {
	share := func(i int) int {
		n := b.N / len(tablets)
		if i < b.N%len(tablets) {
			n++
		}
		return n
	}
	for i, t := range tablets {
		if err := prepare(t, share(i)); err != nil {
			b.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	b.ResetTimer()
	for i, t := range tablets {
		wg.Go(func() {
			for range share(i) {
				if err := push(t); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
	return int64(b.N)
}
