package bolt

import (
	"bytes"
	"encoding/json"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// deviceKey is where a device is stored: under its user, since a device
// id names a device only among that user's devices.
func deviceKey(userID, deviceID string) string { return string(key(userID, deviceID)) }

// soleHolder returns the user whose device is id: ENotFound when nobody
// has such a device, EConflict when several users have one.
func soleHolder(devices *bbolt.Bucket, id string) (string, error) {
	var holders []string
	suffix := append([]byte{0}, id...)
	if err := devices.ForEach(func(k, _ []byte) error {
		if bytes.HasSuffix(k, suffix) {
			holders = append(holders, string(k[:len(k)-len(suffix)]))
		}
		return nil
	}); err != nil {
		return "", err
	}
	switch len(holders) {
	case 0:
		return "", notFound(fieldsync.EntityDevice, id)
	case 1:
		return holders[0], nil
	}
	return "", fieldsync.Errorf(fieldsync.EConflict, "%d users have a device %q: name the user whose device to revoke (user_id)", len(holders), id)
}

// settleInstall returns the install named presented when it is one of the
// same user's device as fresh, else stores and returns fresh with its
// slip prefix.
func settleInstall(tx *bbolt.Tx, presented string, fresh fieldsync.Install) (*fieldsync.Install, error) {
	installs := tx.Bucket(bucketInstalls)
	if presented != "" {
		known, err := get[fieldsync.Install](installs, presented)
		if err != nil {
			return nil, err
		}
		if known != nil && known.UserID == fresh.UserID && known.DeviceID == fresh.DeviceID {
			return known, nil
		}
	}
	if installs.Get([]byte(fresh.ID)) != nil {
		// Ids are random UUIDs; only an id a device chose before installs
		// existed could be taken, and it is never reused.
		return nil, fieldsync.Errorf(fieldsync.EConflict, "install id %q is taken; sign in again", fresh.ID)
	}
	if err := giveSlipPrefix(tx, &fresh); err != nil {
		return nil, err
	}
	return &fresh, put(installs, fresh.ID, fresh)
}

// keyDevicesByUser moves every device under its user and gives each the
// install its seqs were counted in so far: the one named like the device.
// Device ids were unique across users until then, so the push seqs,
// refusals and their indexes, keyed by that id, stay where they are.
func keyDevicesByUser(tx *bbolt.Tx) error {
	devices, installs := tx.Bucket(bucketDevices), tx.Bucket(bucketInstalls)
	var old []fieldsync.Device
	if err := devices.ForEach(func(k, raw []byte) error {
		var d fieldsync.Device
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		if !bytes.Contains(k, []byte{0}) {
			old = append(old, d)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, d := range old {
		if err := devices.Delete([]byte(d.ID)); err != nil {
			return err
		}
		if err := put(devices, deviceKey(d.UserID, d.ID), d); err != nil {
			return err
		}
		if err := put(installs, d.ID, fieldsync.Install{ID: d.ID, UserID: d.UserID, DeviceID: d.ID, CreatedAt: d.CreatedAt}); err != nil {
			return err
		}
	}
	families := tx.Bucket(bucketFamilies)
	var fams []fieldsync.TokenFamily
	if err := families.ForEach(func(_, raw []byte) error {
		var f fieldsync.TokenFamily
		if err := json.Unmarshal(raw, &f); err != nil {
			return err
		}
		if f.InstallID == "" {
			f.InstallID = f.DeviceID
			fams = append(fams, f)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, f := range fams {
		if err := put(families, f.ID, f); err != nil {
			return err
		}
	}
	return nil
}
