package bolt

import "github.com/fieldsync/fieldsync"

// TicketReports returns the reports of the ticket's visits, those this
// push changed as it left them.
func (p *pushTx) TicketReports(ticketID string) ([]*fieldsync.Report, error) {
	var out []*fieldsync.Report
	err := scanPrefix(p.tx.Bucket(indexVisitsByTicket), key(ticketID, ""), "", func(visitID string) (bool, error) {
		return true, scanPrefix(p.tx.Bucket(indexReportsByVisit), key(visitID, ""), "", func(id string) (bool, error) {
			r, err := p.Report(id)
			if err == nil && r != nil {
				out = append(out, r)
			}
			return true, err
		})
	})
	return out, err
}
