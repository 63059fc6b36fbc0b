package fieldsync

import "slices"

// Viewer is who reads records: a user, their role and, for a customer
// login, the customer records linked to it (Customer.UserID).
type Viewer struct {
	UserID      string
	Role        Role
	CustomerIDs []string
}

// Sees is the one rule of who may read what. A record of a ticket (the
// ticket itself, its visits, their reports and the reports' photos) is
// seen by admins and dispatchers; by the customer whose ticket it is; and,
// for a visit and what hangs under it, by the visit's technician. visit
// is nil when the record is the ticket itself, which no technician reads
// on its own. A record the viewer may not see is answered as one that
// does not exist (ENotFound), so ids cannot be probed.
func (v Viewer) Sees(t *Ticket, visit *Visit) bool {
	switch v.Role {
	case RoleAdmin, RoleDispatcher:
		return true
	case RoleTechnician:
		return visit != nil && visit.TechnicianID == v.UserID
	case RoleCustomer:
		return t != nil && slices.Contains(v.CustomerIDs, t.CustomerID)
	}
	return false
}

// Internal reports whether the viewer sees the records' internals: the
// device clocks and receipt times of steps, the fields kept for newer
// clients, and the work the server refused. Customers read the outcome,
// not the bookkeeping of how it reached the server.
func (v Viewer) Internal() bool { return v.Role != RoleCustomer }

// ForCustomer returns the visit as a customer reads it: without the
// receipt times and clock skew of its steps.
func (visit Visit) ForCustomer() Visit {
	visit.Received, visit.ClockSkew = nil, nil
	return visit
}

// ForCustomer returns the report as a customer reads it: without its
// merge clocks, the fields kept for newer clients, the receipt times and
// clock skew of its steps, the server's warranty check and its flag on a
// quote priced on an older price list. The quote itself is the
// customer's: they accepted or declined it.
func (r Report) ForCustomer() Report {
	r.Clocks, r.Extra, r.Received, r.ClockSkew = nil, nil, nil, nil
	// The customer signed the device's warranty decision; the server's
	// second opinion is the dispatcher's to settle.
	r.WarrantyServer, r.WarrantyDisputed = nil, false
	r.QuoteStale = ""
	// The settled outcome is the customer's to know; who settled it is not.
	if s := r.WarrantySettled; s != nil {
		r.WarrantySettled = &WarrantySettlement{Outcome: s.Outcome, Note: s.Note, At: s.At}
	}
	return r
}

// ForStaff returns the report as the HTTP API shows it to staff and
// technicians: without its merge clocks, the HLC stamps by which drafts
// merge on sync (a sync pull keeps them; nobody judges a report by them).
// The receipt times and clock skew of its steps stay: they are how a
// dispatcher judges a step logged late or on a wrong clock. The fields
// kept for newer clients stay too: they are work a technician entered.
func (r Report) ForStaff() Report {
	r.Clocks = nil
	return r
}
