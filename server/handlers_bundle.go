package server

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/bundle"
	"github.com/fieldsync/fieldsync/sync/canon"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// bundlePath is where routes.go serves a report's bundle: a ZIP of
// photos, not gzip-compressed again (isBulk).
const bundlePath = "/v1/reports/:id/bundle"

// handleReportBundle streams a sealed report's bundle (sync/bundle) to
// those who may see the report: the canonical document, the seal, the
// device's and the server's public keys, the log head with the seal's
// inclusion proof (and, with ?since=N, the proof that the head extends
// the tree of N entries), every photo and both signatures, and the
// customer's remote sign-off or refusal when there is one, with its
// inclusion proof in the same head and the signature it names.
func (s *Server) handleReportBundle() echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		r, vb, err := s.seenReport(c, id, fieldsync.EntityReport, id)
		if err != nil {
			return err
		}
		since, err := querySince(c)
		if err != nil {
			return err
		}
		return s.streamBundle(c, r, vb, since)
	}
}

// querySince reads a bundle's since: the size of a tree head the caller
// saved, 0 when not given.
func querySince(c echo.Context) (int64, error) {
	since, given, err := queryLogSize(c.QueryParam("since"), "since", false)
	if err != nil {
		return 0, err
	}
	if given && since < 1 {
		return 0, fieldsync.Errorf(fieldsync.EInvalid, "since must be the size of a saved tree head: from 1 to the log's size")
	}
	return since, nil
}

// streamBundle answers report r's bundle, or 409 while r is not sealed:
// for any route that has decided the caller may see r.
func (s *Server) streamBundle(c echo.Context, r *fieldsync.Report, vb *fieldsync.VisitBundle, since int64) error {
	if r.Seal == nil || r.Signature == nil {
		return fieldsync.Errorf(fieldsync.EConflict, "report %s is %s, not sealed: its bundle exists once the server has sealed it", r.ID, r.Status)
	}
	p, size, err := s.bundleParts(c.Request().Context(), r, vb, since)
	if err != nil {
		return err
	}
	b, err := bundle.New(p)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set("Content-Disposition", `attachment; filename="report-`+r.ID+`.zip"`)
	h.Set("Cache-Control", "private, no-store") // the head moves with every seal
	// Photos take as long to send as a backup of their size.
	grace := 2*time.Minute + time.Duration(size/backupRate)*time.Second
	if err := http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(grace)); err != nil {
		s.log.Warn("bundle keeps the server's write timeout", "error", err.Error())
	}
	c.Response().WriteHeader(http.StatusOK)
	if err := bundle.Write(c.Response(), b); err != nil {
		// The answer has begun: cut it short, which a reader of the ZIP
		// sees as a broken file.
		s.log.Warn("bundle cut short", "request_id", requestID(c), "report", r.ID, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
	return nil
}

// bundleParts gathers what report r's bundle holds, its photos as
// streams from the blob store, and the photos' bytes in all.
func (s *Server) bundleParts(ctx context.Context, r *fieldsync.Report, vb *fieldsync.VisitBundle, since int64) (p bundle.Parts, size int64, err error) {
	signing, err := canon.SigningOf(r.Signature, r.SignedPhotos)
	if err != nil {
		return p, 0, err
	}
	doc, err := canon.Build(r, &vb.Visit, &vb.Ticket, &vb.Asset, signing)
	if err != nil {
		return p, 0, err
	}
	if h, err := doc.Hash(); err != nil || h != r.Seal.Hash {
		return p, 0, fieldsync.Errorf(fieldsync.EInternal, "report %s: its document no longer hashes to the sealed %s", r.ID, r.Seal.Hash)
	}
	p = bundle.Parts{Document: doc, Seal: *r.Seal, Signatures: map[string][]byte{}}
	if p.DeviceKey, err = s.deviceKey(ctx, r.Seal.DeviceID, r.Seal.DeviceKeyID); err != nil {
		return p, 0, err
	}
	if p.ServerKeys, err = s.deps.Issuer.Keys.JWKS(); err != nil {
		return p, 0, err
	}
	// Read before the log's view: a sign-off is committed with its log
	// entry, so the head below covers it.
	signoffs, err := s.deps.Store.SignOffs(ctx, []string{r.ID})
	if err != nil {
		return p, 0, err
	}
	if so, ok := signoffs[r.ID]; ok {
		p.SignOff = &so
		if so.SignatureSHA256 != "" {
			if p.Signatures[bundle.RoleCustomerSignOff], err = s.signOffBytes(ctx, so.SignatureSHA256); err != nil {
				return p, 0, err
			}
		}
	}
	if err := s.logProofs(ctx, &p, since); err != nil {
		return p, 0, err
	}
	for _, sp := range doc.Photos {
		photo, err := s.media.Exists(ctx, sp.SHA256)
		if err != nil {
			return p, 0, err
		}
		size += photo.Size
		p.Photos = append(p.Photos, bundle.Photo{Slot: sp.Slot, SHA256: sp.SHA256, Ext: bundle.Ext(photo.Type),
			Open: func() (io.ReadCloser, error) { return s.media.Open(ctx, photo, false) }})
	}
	for role, sha := range map[string]string{bundle.RoleCustomer: doc.CustomerSignature, bundle.RoleTechnician: doc.TechnicianSignature} {
		if sha == "" {
			continue
		}
		if p.Signatures[role], err = s.photoBytes(ctx, sha); err != nil {
			return p, 0, err
		}
	}
	return p, size, nil
}

// deviceKey finds the key keyID of device deviceID. A key id is the key's
// thumbprint, so whichever account the device is registered under, the
// key it names is the one that signed.
func (s *Server) deviceKey(ctx context.Context, deviceID, keyID string) (fieldsync.DeviceKey, error) {
	devices, err := s.deps.Store.Devices(ctx)
	if err != nil {
		return fieldsync.DeviceKey{}, err
	}
	for _, d := range devices {
		if d.ID == deviceID {
			if k := d.Key(keyID); k != nil {
				return *k, nil
			}
		}
	}
	return fieldsync.DeviceKey{}, fieldsync.Errorf(fieldsync.EInternal, "device %s has no key %s", deviceID, keyID)
}

// logProofs adds the current signed head, the seal's (and sign-off's)
// inclusion proof in it and, from since > 0, the consistency proof, all
// of one tree.
func (s *Server) logProofs(ctx context.Context, p *bundle.Parts, since int64) error {
	key := s.deps.Issuer.Keys.Signing()
	signer, err := translog.NewSigner(key.Kid, key.Private)
	if err != nil {
		return err
	}
	return s.deps.Store.ViewLog(ctx, func(r translog.Reader) error {
		if p.Size, err = r.Size(); err != nil {
			return err
		}
		if p.Head, err = translog.SignedHead(r, signer); err != nil {
			return err
		}
		if p.Inclusion, err = translog.ProveInclusion(r, p.Seal.LogIndex, p.Size); err != nil {
			return err
		}
		if p.SignOff != nil {
			if p.SignOffInclusion, err = translog.ProveInclusion(r, p.SignOff.LogIndex, p.Size); err != nil {
				return err
			}
		}
		if since > 0 {
			var proof tlog.TreeProof
			if proof, err = translog.ProveConsistency(r, since, p.Size); err != nil {
				return err
			}
			p.Since, p.SinceProof = since, proof
		}
		return nil
	})
}

// photoBytes reads a stored photo whole: a signature image, a few KiB.
func (s *Server) photoBytes(ctx context.Context, sha string) ([]byte, error) {
	photo, err := s.media.Exists(ctx, sha)
	if err != nil {
		return nil, err
	}
	return readWhole(s.media.Open(ctx, photo, false))
}

// signOffBytes reads the signature a customer drew to sign off, kept
// apart from the photos (media.SignOffKey).
func (s *Server) signOffBytes(ctx context.Context, sha string) ([]byte, error) {
	photo, err := s.media.SignOff(ctx, sha)
	if err != nil {
		return nil, err
	}
	return readWhole(s.media.OpenSignOff(ctx, photo, false))
}

func readWhole(rc io.ReadSeekCloser, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
