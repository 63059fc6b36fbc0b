package clientsdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// secretsOf returns what must never be found in the device's file in
// clear: the customer's name, phone and address as the world's intake
// made them, and the tablet's tokens.
func secretsOf(t *testing.T, c *Client) map[string]string {
	t.Helper()
	out := map[string]string{"name": "刘女士", "phone": "138 0013 8000", "address": "上海市浦东新区世纪大道100号"}
	must(t, c.db.View(func(tx *bbolt.Tx) (err error) {
		if out["refresh token"], err = getSecret(tx, keyRefresh); err != nil {
			return err
		}
		out["access token"], err = getSecret(tx, keyAccess)
		return err
	}))
	return out
}

// inClear fails the test for every secret found in the file's bytes.
func inClear(t *testing.T, path string, secrets map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	must(t, err)
	for what, s := range secrets {
		if s != "" && bytes.Contains(raw, []byte(s)) {
			t.Errorf("the file holds the %s in clear", what)
		}
	}
}

// The device's file, after a real sync with the customer's data, holds
// neither the customer's name, phone and address nor the tokens in clear.
func TestE2EFileHoldsNoCustomerDataOrTokensInClear(t *testing.T) {
	w := newE2EWorld(t)
	tab := w.tablet(t, "tab-a")
	tab.login(t, e2eTechA)
	tab.sync(t)
	must(t, tab.c.Depart(w.visit)) // the outbox too
	b, err := tab.c.Bundle(w.visit)
	must(t, err)
	secrets := secretsOf(t, tab.c)
	if b.Customer.Name != secrets["name"] || b.Customer.Phone != secrets["phone"] || b.Site.Address != secrets["address"] {
		t.Fatalf("the device did not pull the customer: %+v %+v", b.Customer, b.Site)
	}
	if secrets["refresh token"] == "" || secrets["access token"] == "" {
		t.Fatal("the device holds no tokens")
	}
	inClear(t, tab.path, secrets)
	must(t, tab.c.Close())
	inClear(t, tab.path, secrets)
}

// A revoked tablet, on its next contact, forgets every synced record, the
// photos the server verified and its tokens; its unsynced work stays,
// sealed, across a restart, and ExportPending writes it for a dispatcher.
func TestE2ERevokedDeviceForgetsSyncedDataAndExportsItsWork(t *testing.T) {
	w := newPhotoWorld(t, 0)
	tab, _, report := photoTablet(t, w, "tab-a", 1<<20)
	sent := attach(t, tab.c, report, "serial_plate", writeTestFile(t, "plate.jpg", testPhoto(t, 1)))
	tab.sync(t)
	if p := photoOf(t, tab.c, sent.ID); p.Status != PhotoVerified {
		t.Fatalf("the first photo is %s, want verified", p.Status)
	}
	sentFile := photoOf(t, tab.c, sent.ID).Path
	must(t, tab.c.SetAnswer(report, "power_on", true))
	must(t, tab.c.Depart(w.visit))
	kept := attach(t, tab.c, report, "fault", writeTestFile(t, "damage.jpg", testPhoto(t, 2)))
	keptFile := photoOf(t, tab.c, kept.ID).Path
	before := outboxOf(t, tab.c)
	secrets := secretsOf(t, tab.c)

	w.call(w.admin, "POST", "/v1/devices/tab-a/revoke", nil, 200, nil)
	if _, err := tab.c.Sync(context.Background()); !errors.Is(err, ErrDeviceRevoked) {
		t.Fatalf("sync of a revoked device: %v, want ErrDeviceRevoked", err)
	}

	check := func(c *Client) {
		t.Helper()
		if _, err := c.Bundle(w.visit); code(err) != fieldsync.ENotFound {
			t.Errorf("the visit after revocation: %v, want not_found", err)
		}
		if all, err := c.Templates(); err != nil || len(all) != 0 {
			t.Errorf("templates after revocation: %d, %v", len(all), err)
		}
		var tokens []string
		must(t, c.db.View(func(tx *bbolt.Tx) error {
			n := tx.Bucket(bucketRecords).Stats().KeyN
			for _, k := range [][]byte{keyAccess, keyRefresh, keyCursor} {
				if tx.Bucket(bucketMeta).Get(k) != nil {
					tokens = append(tokens, string(k))
				}
			}
			if n != 0 {
				t.Errorf("%d records kept", n)
			}
			return nil
		}))
		if len(tokens) > 0 {
			t.Errorf("kept after revocation: %v", tokens)
		}
		if after := outboxOf(t, c); len(after) != len(before) || after[0].Seq != before[0].Seq {
			t.Errorf("the outbox changed: %+v, was %+v", after, before)
		}
		photos, err := c.Photos()
		must(t, err)
		if len(photos) != 1 || photos[0].ID != kept.ID || photos[0].Status != PhotoQueued {
			t.Errorf("photos after revocation: %+v, want only the unsent one", photos)
		}
		if _, err := os.Stat(sentFile); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the verified photo's file is still there: %v", err)
		}
		if _, err := os.Stat(keptFile); err != nil {
			t.Errorf("the unsent photo's file: %v", err)
		}
		if s := status(t, c); s.SignedIn || s.Pending != len(before) || s.UserID != w.techA {
			t.Errorf("status after revocation: %+v", s)
		}

		var buf bytes.Buffer
		must(t, c.ExportPending(&buf))
		var doc PendingWork
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("the export is not JSON: %v\n%s", err, buf.Bytes())
		}
		if doc.Format != PendingWorkFormat || doc.DeviceID != "tab-a" || doc.UserID != w.techA || len(doc.Mutations) != len(before) {
			t.Errorf("export %+v", doc)
		}
		for i, m := range doc.Mutations {
			if m.Seq != before[i].Seq || m.Entity != before[i].Entity || m.ID != before[i].ID || m.HLC != before[i].HLC {
				t.Errorf("exported mutation %d is %+v, want %+v", i, m, before[i])
			}
		}
		if len(doc.Photos) != 1 || doc.Photos[0].SHA256 != kept.SHA256 || doc.Photos[0].ReportID != report || doc.Photos[0].File != keptFile {
			t.Errorf("exported photos %+v", doc.Photos)
		}
		inClear(t, tab.path, secrets)
	}
	check(tab.c)
	must(t, tab.c.Close())
	tab.open(t) // rewrites the file: no freed page keeps what was forgotten
	must(t, tab.c.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keyCompact) != nil {
			t.Error("the file was not rewritten on open")
		}
		return nil
	}))
	check(tab.c)
	if _, err := tab.c.Sync(context.Background()); !errors.Is(err, ErrDeviceRevoked) {
		t.Fatalf("sync after a restart: %v", err)
	}
}
