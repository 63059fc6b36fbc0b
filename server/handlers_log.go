package server

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/sync/translog"
)

// handleLogHead answers the transparency log's current tree head, a note
// signed with the server's signing key (named translog.KeyName(kid)).
func (s *Server) handleLogHead() echo.HandlerFunc {
	return func(c echo.Context) error {
		key := s.deps.Issuer.Keys.Signing()
		signer, err := translog.NewSigner(key.Kid, key.Private)
		if err != nil {
			return err
		}
		var head []byte
		if err := s.deps.Store.ViewLog(c.Request().Context(), func(r translog.Reader) error {
			head, err = translog.SignedHead(r, signer)
			return err
		}); err != nil {
			return err
		}
		// The head moves with every seal.
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", head)
	}
}

// inclusionProof is the answer of GET /v1/log/proof/inclusion. Each hash
// is the standard base64 of a 32-byte tlog.Hash, as Go's checksum
// database writes them (tlog.Hash's JSON form).
type inclusionProof struct {
	Index int64       `json:"index"`
	Size  int64       `json:"size"`
	Proof []tlog.Hash `json:"proof"`
}

// consistencyProof is the answer of GET /v1/log/proof/consistency.
type consistencyProof struct {
	Old   int64       `json:"old"`
	New   int64       `json:"new"`
	Proof []tlog.Hash `json:"proof"`
}

// handleInclusionProof proves that record index is in the tree of size
// records, the current tree when size is absent.
func (s *Server) handleInclusionProof() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		index, _, err := queryLogSize(q.Get("index"), "index", true)
		if err != nil {
			return err
		}
		size, given, err := queryLogSize(q.Get("size"), "size", false)
		if err != nil {
			return err
		}
		var proof tlog.RecordProof
		if err := s.deps.Store.ViewLog(c.Request().Context(), func(r translog.Reader) error {
			if !given {
				if size, err = r.Size(); err != nil {
					return err
				}
			}
			proof, err = translog.ProveInclusion(r, index, size)
			return err
		}); err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return respond(c, http.StatusOK, inclusionProof{Index: index, Size: size, Proof: nonNil(proof)})
	}
}

// handleConsistencyProof proves that the tree of new records (the current
// tree when new is absent) extends the tree of old records.
func (s *Server) handleConsistencyProof() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		oldSize, _, err := queryLogSize(q.Get("old"), "old", true)
		if err != nil {
			return err
		}
		newSize, given, err := queryLogSize(q.Get("new"), "new", false)
		if err != nil {
			return err
		}
		var proof tlog.TreeProof
		if err := s.deps.Store.ViewLog(c.Request().Context(), func(r translog.Reader) error {
			if !given {
				if newSize, err = r.Size(); err != nil {
					return err
				}
			}
			proof, err = translog.ProveConsistency(r, oldSize, newSize)
			return err
		}); err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return respond(c, http.StatusOK, consistencyProof{Old: oldSize, New: newSize, Proof: nonNil(proof)})
	}
}

// handleLogRecord answers a log record's bytes: with an inclusion proof
// and a head, what a verifier checks a seal against. A record never
// changes once appended.
func (s *Server) handleLogRecord() echo.HandlerFunc {
	return func(c echo.Context) error {
		index, _, err := queryLogSize(c.Param("index"), "index", true)
		if err != nil {
			return err
		}
		var rec []byte
		if err := s.deps.Store.ViewLog(c.Request().Context(), func(r translog.Reader) error {
			rec, err = translog.ReadRecord(r, index)
			return err
		}); err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		return c.Blob(http.StatusOK, "application/octet-stream", rec)
	}
}

// queryLogSize reads a log index or tree size: a whole number from 0.
// The log's own range is checked by translog, which names its limits.
func queryLogSize(v, name string, required bool) (n int64, given bool, err error) {
	if v == "" {
		if required {
			return 0, false, fieldsync.Errorf(fieldsync.EInvalid, "%s is required: a whole number from 0", name)
		}
		return 0, false, nil
	}
	n, err = strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fieldsync.Errorf(fieldsync.EInvalid, "%s must be a whole number from 0, not %q", name, v)
	}
	return n, true, nil
}

// nonNil answers an empty proof as [] rather than null.
func nonNil(p []tlog.Hash) []tlog.Hash {
	if p == nil {
		return []tlog.Hash{}
	}
	return p
}
