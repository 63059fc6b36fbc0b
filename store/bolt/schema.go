package bolt

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// Buckets. Names are part of the file format: never rename one, add a
// migration instead.
var (
	bucketMeta       = []byte("meta")
	bucketUsers      = []byte("users")       // user id -> User
	bucketUserLogins = []byte("user_logins") // normalized login -> user id
	bucketDevices    = []byte("devices")     // user \x00 device id -> Device
	bucketInstalls   = []byte("installs")    // install id -> Install
	bucketRefresh    = []byte("refresh")     // token hash -> RefreshToken
	bucketFamilies   = []byte("families")    // family id -> TokenFamily

	bucketCustomers = []byte("customers") // id -> Customer
	bucketSites     = []byte("sites")     // id -> Site
	bucketAssets    = []byte("assets")    // id -> Asset
	bucketTickets   = []byte("tickets")   // id -> Ticket
	bucketVisits    = []byte("visits")    // id -> Visit
	bucketReports   = []byte("reports")   // id -> Report
	bucketAudit     = []byte("audit")     // entry id (UUIDv7: time order) -> AuditEntry

	// Indexes: composite keys "<parent>\x00<child>" with empty values, so a
	// prefix scan lists a parent's children in creation order.
	indexVisitsByTech    = []byte("idx_visits_tech")      // technician \x00 visit
	indexVisitsByTicket  = []byte("idx_visits_ticket")    // ticket \x00 visit
	indexReportsByVisit  = []byte("idx_reports_visit")    // visit \x00 report
	indexCustomersByUser = []byte("idx_customers_user")   // user \x00 customer
	indexTicketsByCust   = []byte("idx_tickets_customer") // customer \x00 ticket
	indexAuditByEntity   = []byte("idx_audit_entity")     // entity \x00 id \x00 entry

	// Sync. The feed holds, per partition (syncproto.PartitionsFor), each
	// visible record once, at the position of its latest change:
	// partition \x00 seq(8 bytes) -> feedEntry.
	bucketFeed          = []byte("feed")
	bucketFeedPos       = []byte("feed_pos")           // partition \x00 entity \x00 id -> seq
	bucketRevs          = []byte("revs")               // entity \x00 id -> seq of its last change
	bucketDeviceSeq     = []byte("device_seq")         // install id -> highest applied push seq (absent: nothing pushed yet)
	bucketRefused       = []byte("refused")            // install \x00 seq -> Refusal
	indexRefusedByVisit = []byte("idx_refused_visit")  // visit \x00 install \x00 seq
	bucketTemplates     = []byte("templates")          // template id -> Template (reference data)
	bucketTombstones    = []byte("tombstones")         // seq \x00 feed key -> time: deletes and evictions, oldest first
	indexRefusedRecord  = []byte("idx_refused_record") // install \x00 entity \x00 id -> visit id of its first refusal
	bucketCalendars     = []byte("calendars")          // calendar id -> its JSON (reference data)
	bucketPolicies      = []byte("policies")           // policy id -> its JSON (reference data)
	bucketWarranty      = []byte("warranty_policies")  // warranty policy id -> its JSON (reference data)
	bucketPriceLists    = []byte("price_lists")        // price list id -> its JSON (reference data)

	// Media.
	bucketUploads      = []byte("uploads")            // upload id -> tus.Upload (in progress)
	indexUploadsByUser = []byte("idx_uploads_user")   // user \x00 upload
	indexUploadsExpiry = []byte("idx_uploads_expiry") // expiry (8 bytes, unix ns) \x00 upload
	bucketPhotos       = []byte("photos")             // sha256 -> Photo (verified evidence)
	indexReportPhotos  = []byte("idx_report_photos")  // report \x00 slot \x00 sha256
	indexPhotoReports  = []byte("idx_photo_reports")  // sha256 \x00 report
	bucketUploadHeads  = []byte("upload_heads")       // upload id -> its first bytes (written while they grow)
	bucketAttachments  = []byte("photo_attachments")  // "<report>:<slot>:<sha256>" -> Photo on that slot (synced)
	bucketThumbQueue   = []byte("thumbs_pending")     // sha256 -> nothing: photos awaiting a thumbnail (the worker's queue)

	// The transparency log (sync/translog): its records and the stored
	// hashes of its Merkle tree (tlog.StoredHashIndex), keyed by index as
	// 8 big-endian bytes; its size is meta/log_size.
	bucketLogRecords = []byte("log_records")      // index -> record bytes
	bucketLogHashes  = []byte("log_hashes")       // stored hash index -> 32-byte hash
	indexSealWaiting = []byte("idx_seal_waiting") // report id -> nothing: signed reports waiting for their seal (seal.go)

	// Share links and customers' remote sign-offs. A link's token is kept
	// only as its SHA-256.
	bucketLinks      = []byte("links")            // link id -> ShareLink
	indexLinksByHash = []byte("idx_links_hash")   // token SHA-256 (32 bytes) -> link id
	indexLinksByRept = []byte("idx_links_report") // report \x00 link
	bucketSignOffs   = []byte("signoffs")         // report id -> SignOff (one per report)

	// Addenda: the reports that correct a sealed report, in the order they
	// were made (the bucket's sequence counts them).
	indexAddenda = []byte("idx_addenda") // report \x00 seq (8 bytes) -> addendum id

	// Follow-ups: one per completed visit (followups.go). The due index
	// holds only pending ones, so the overdue are read from its start.
	bucketFollowUps       = []byte("followups")              // follow-up id -> FollowUp
	indexFollowUpsByVisit = []byte("idx_followups_visit")    // visit id -> follow-up id
	indexFollowUpsByCust  = []byte("idx_followups_customer") // customer \x00 follow-up
	indexFollowUpsByDue   = []byte("idx_followups_due")      // due (8 bytes, unix ns) \x00 follow-up: pending only

	// Appraisal slip numbers (fieldsync.SlipNo): each install's prefix,
	// given in the order of the bucket's sequence, and the report that
	// holds each number.
	indexSlipPrefixes = []byte("idx_slip_prefixes") // slip prefix -> install id
	indexSlipNumbers  = []byte("idx_slip_numbers")  // slip number -> report id

	// Complaints (complaints.go), with their clocks' deadlines as 8-byte
	// big-endian unix nanoseconds.
	bucketComplaints        = []byte("complaints")              // complaint id -> Complaint
	indexComplaintsByTicket = []byte("idx_complaints_ticket")   // ticket \x00 complaint
	indexComplaintsDue      = []byte("idx_complaints_due")      // deadline of the running clock \x00 complaint
	indexComplaintsEscalate = []byte("idx_complaints_escalate") // deadline of the next clock to escalate \x00 complaint

	// Work orders of completed repairs and the warranty certificates of
	// their repaired parts (workorders.go); certificates are synced.
	bucketWorkOrders         = []byte("workorders")             // work order id -> WorkOrder
	indexWorkOrdersByVisit   = []byte("idx_workorders_visit")   // visit id -> work order id
	indexWorkOrdersByTicket  = []byte("idx_workorders_ticket")  // ticket \x00 work order
	indexWorkOrdersByAsset   = []byte("idx_workorders_asset")   // asset \x00 work order
	bucketCertificates       = []byte("certificates")           // certificate id -> Certificate
	indexCertificatesByAsset = []byte("idx_certificates_asset") // asset \x00 certificate
	// Pick-up records (pickups.go): the source index names what started
	// each one ("ticket" \x00 ticket for a return or exchange, "report"
	// \x00 report for an appraisal slip), so that each is made once.
	bucketPickups        = []byte("pickups")            // pick-up id -> Pickup
	indexPickupsBySource = []byte("idx_pickups_source") // source -> pick-up id
	indexPickupsByTicket = []byte("idx_pickups_ticket") // ticket \x00 pick-up
	// Photo uploads refused for good, kept on the report they were meant
	// for (refused_uploads.go), at most fieldsync.MaxRefusedUploads each.
	bucketRefusedUploads = []byte("refused_uploads") // report \x00 seq (8 bytes) -> RefusedUpload

	// Second visits under the visit each names as previous (previous.go).
	indexVisitsByPrevious = []byte("idx_visits_previous") // previous visit \x00 visit
	// Finding things (find.go): sites by customer, assets by serial and
	// by model as fieldsync.AssetKey folds them.
	indexSitesByCust    = []byte("idx_sites_customer") // customer \x00 site
	indexAssetsBySerial = []byte("idx_assets_serial")  // serial \x00 asset
	indexAssetsByModel  = []byte("idx_assets_model")   // model \x00 asset

	keySchemaVersion = []byte("schema_version")
	keyEpoch         = []byte("epoch")
	keyHorizon       = []byte("horizon") // highest feed seq whose tombstone was pruned

	keyLogSize = []byte("log_size") // records in the transparency log (8 bytes; absent: none)
)

// migrations[i] brings a file from schema version i to i+1. They run in
// one transaction on Open, so a file is never left half-migrated.
var migrations = []func(tx *bbolt.Tx) error{
	// 0 -> 1: accounts, devices and refresh tokens.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketUsers, bucketUserLogins, bucketDevices, bucketRefresh, bucketFamilies} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 1 -> 2: the after-sales domain and its audit trail.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketCustomers, bucketSites, bucketAssets, bucketTickets, bucketVisits, bucketReports, bucketAudit,
			indexVisitsByTech, indexVisitsByTicket, indexReportsByVisit, indexCustomersByUser, indexTicketsByCust, indexAuditByEntity} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 2 -> 3: sync. Every record already stored enters the feed, so devices
	// bootstrapping from this file see it; the epoch names this store in
	// cursors.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketFeed, bucketFeedPos, bucketRevs, bucketDeviceSeq, bucketRefused, indexRefusedByVisit, bucketTemplates, bucketTombstones} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		epoch := make([]byte, 8)
		if _, err := rand.Read(epoch); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keyEpoch, epoch); err != nil {
			return err
		}
		return publishExisting(tx)
	},
	// 3 -> 4: refusals by record, so later edits of a record whose creation
	// was refused are refused the same way and kept with the same visit.
	func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(indexRefusedRecord)
		return err
	},
	// 4 -> 5: calendars and SLA policies join templates as reference data.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketCalendars, bucketPolicies} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 5 -> 6: photo uploads and evidence.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketUploads, indexUploadsByUser, indexUploadsExpiry, bucketPhotos, indexReportPhotos, indexPhotoReports} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 6 -> 7: an upload's first bytes apart from its record, so that a
	// chunk's write does not rewrite them.
	func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketUploadHeads)
		return err
	},
	// 7 -> 8: photo attachments become records of their own, which reach
	// the devices of the visit with the rest of its bundle.
	func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketAttachments); err != nil {
			return err
		}
		var existing [][3]string
		if err := tx.Bucket(indexReportPhotos).ForEach(func(k, _ []byte) error {
			parts := strings.SplitN(string(k), "\x00", 3)
			if len(parts) == 3 {
				existing = append(existing, [3]string{parts[0], parts[1], parts[2]})
			}
			return nil
		}); err != nil {
			return err
		}
		for _, a := range existing {
			p, err := get[fieldsync.Photo](tx.Bucket(bucketPhotos), a[2])
			if err != nil || p == nil {
				return err
			}
			p.ReportID, p.Slot = a[0], a[1]
			if err := putAttachment(tx, p, time.Now().UTC()); err != nil {
				return err
			}
		}
		return nil
	},
	// 8 -> 9: thumbnails are made by a background worker; its queue is
	// kept here so that it survives a restart. Photos stored before were
	// thumbnailed when they arrived, so none is queued.
	func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketThumbQueue)
		return err
	},
	// 9 -> 10: devices are their user's own, and push seqs are counted per
	// install of the app on a device.
	func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketInstalls); err != nil {
			return err
		}
		return keyDevicesByUser(tx)
	},
	// 10 -> 11: the transparency log of seals, empty.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketLogRecords, bucketLogHashes} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 11 -> 12: share links and remote sign-offs, none yet.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketLinks, indexLinksByHash, indexLinksByRept, bucketSignOffs} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 12 -> 13: signed reports waiting for their seal, so the sweep at
	// start (SealWaiting) reads only them. Every report signed with a
	// device signature and not sealed waits.
	func(tx *bbolt.Tx) error {
		waiting, err := tx.CreateBucketIfNotExists(indexSealWaiting)
		if err != nil {
			return err
		}
		reports := tx.Bucket(bucketReports)
		if reports == nil {
			return nil
		}
		return reports.ForEach(func(k, raw []byte) error {
			var r fieldsync.Report
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			if r.Status != fieldsync.ReportSigned || r.Signature == nil {
				return nil
			}
			return waiting.Put(k, nil)
		})
	},
	// 13 -> 14: the addenda of each report. Reports made before name
	// none; any that does is indexed in the order of its creation.
	func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(indexAddenda); err != nil {
			return err
		}
		return indexExistingAddenda(tx)
	},
	// 14 -> 15: follow-ups, none yet. Visits completed before get none: a
	// survey weeks after the work is not the promised follow-up.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketFollowUps, indexFollowUpsByVisit, indexFollowUpsByCust, indexFollowUpsByDue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 15 -> 16: appraisal slip numbers. Every install gets its slip
	// prefix; no report holds a number yet.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{indexSlipPrefixes, indexSlipNumbers} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return giveExistingSlipPrefixes(tx)
	},
	// 16 -> 17: the warranty policy, published at the server's start.
	func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketWarranty)
		return err
	},
	// 17 -> 18: complaints, none yet.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketComplaints, indexComplaintsByTicket, indexComplaintsDue, indexComplaintsEscalate} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 18 -> 19: the price list quotes are priced on, published at the
	// server's start.
	func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketPriceLists)
		return err
	},
	// 19 -> 20: work orders and warranty certificates, none yet: repairs
	// completed before have no record of their work.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketWorkOrders, indexWorkOrdersByVisit, indexWorkOrdersByTicket, indexWorkOrdersByAsset, bucketCertificates, indexCertificatesByAsset} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 20 -> 21: pick-up records, none yet. Returns and exchanges settled
	// before get none: their clocks would start late and read overdue.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketPickups, indexPickupsBySource, indexPickupsByTicket} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 21 -> 22: second visits by the visit each names as previous, from
	// the visits stored, so their technicians receive that visit.
	func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(indexVisitsByPrevious); err != nil {
			return err
		}
		return indexExistingPrevious(tx)
	},
	// 22 -> 23: sites by customer and assets by serial and model, filled
	// from the records stored before.
	func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{indexSitesByCust, indexAssetsBySerial, indexAssetsByModel} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return indexExistingSitesAndAssets(tx)
	},
	// 23 -> 24: refused photo uploads, none yet: refusals before were
	// answered to the device and not kept.
	func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketRefusedUploads)
		return err
	},
	// 24 -> 25: tickets have a status; those stored get the one their
	// visits and pick-up records give them (store/bolt/ticketstatus.go).
	statusExistingTickets,
}

// SchemaVersion is the version a file has after Open.
func SchemaVersion() int { return len(migrations) }

func migrate(db *bbolt.DB) error {
	return db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		v := 0
		if raw := meta.Get(keySchemaVersion); raw != nil {
			if len(raw) != 8 {
				return fmt.Errorf("corrupt schema version record")
			}
			v = int(binary.BigEndian.Uint64(raw))
		}
		if v > len(migrations) {
			return fmt.Errorf("data file has schema version %d, newer than this binary's %d: upgrade fieldsync", v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema %d -> %d: %w", v, v+1, err)
			}
		}
		return meta.Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, uint64(v)))
	})
}
