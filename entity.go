package fieldsync

// Entity names a kind of record wherever records are named by kind: push
// mutations and pull changes, audit entries, the store's keys and feeds.
type Entity string

const (
	EntityUser     Entity = "user"
	EntityDevice   Entity = "device"
	EntityCustomer Entity = "customer"
	EntitySite     Entity = "site"
	EntityAsset    Entity = "asset"
	EntityTicket   Entity = "ticket"
	EntityVisit    Entity = "visit"
	EntityReport   Entity = "report"
	EntityTemplate Entity = "template"
	EntityCalendar Entity = "calendar" // the business calendar, reference data
	EntityPolicy   Entity = "policy"   // the SLA policy, reference data
	// EntityWarrantyPolicy is the warranty (三包) policy, reference data.
	EntityWarrantyPolicy Entity = "warranty_policy"
	EntityPhoto          Entity = "photo"    // a photo attached to a report
	EntityUpload         Entity = "upload"   // a tus upload under way
	EntityLink           Entity = "link"     // a share link of a report
	EntitySignOff        Entity = "signoff"  // a customer's remote sign-off of a report
	EntityFollowUp       Entity = "followup" // the satisfaction follow-up of a completed visit
)

// EntityPriceList is the price list quotes are priced on, reference
// data (quote/).
const EntityPriceList Entity = "price_list"

// EntityComplaint is a customer's complaint about a ticket (complaint.go).
const EntityComplaint Entity = "complaint"

// EntityWorkOrder is the work order of a completed repair, and
// EntityCertificate the warranty certificate of a repaired part, which
// reaches the technicians of the asset's visits (report_work.go).
const (
	EntityWorkOrder   Entity = "workorder"
	EntityCertificate Entity = "certificate"
)

// EntityPickup is a pick-up record: the clock of a return's or an
// exchange's collection, or of an appraisal slip (pickup.go).
const EntityPickup Entity = "pickup"
