package bolt

import "github.com/fieldsync/fieldsync"

// TicketReports returns the reports of the ticket's visits, those this
// push changed as it left them.
func (p *pushTx) TicketReports(ticketID string) ([]*fieldsync.Report, error) {
	return ticketReports(p.tx, ticketID, p.Report)
}
