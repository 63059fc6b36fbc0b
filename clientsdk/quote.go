package clientsdk

import (
	"encoding/json"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
	syncproto "github.com/fieldsync/fieldsync/sync"
)

// PriceList returns the price list the device pulled (the server's, so a
// quote priced on it passes the server's check). ENotFound while the
// device has not pulled it: sync first.
func (c *Client) PriceList() (quote.PriceList, error) {
	var l quote.PriceList
	err := c.view(func(rd *reader) (err error) {
		l, err = rd.priceList()
		return err
	})
	return l, err
}

// PriceQuote prices paid work offline on the pulled price list: a line per
// item (part, labour or the call-out fee) and the total, in integer fen;
// the quote is pending the customer's decision. EInvalid names the item
// that is wrong (an unknown code, a quantity out of bounds); ENotFound
// while the device has not pulled the price list.
func (c *Client) PriceQuote(items []quote.Item) (quote.Quote, error) {
	l, err := c.PriceList()
	if err != nil {
		return quote.Quote{}, err
	}
	return quote.Build(l, items)
}

// priceList returns the price list the device pulled.
func (rd *reader) priceList() (quote.PriceList, error) {
	l, ok, err := cached(rd, fieldsync.EntityPriceList, quote.ListID, quote.Parse)
	if err == nil && !ok {
		err = fieldsync.Errorf(fieldsync.ENotFound, "the price list is not on this device: sync first")
	}
	return l, err
}

// SetQuote prices items offline (as PriceQuote does) and puts the quote
// on the draft report, pending the customer's decision, in one write with
// its outbox entry: the report's quote field, which its signature covers.
// A new quote replaces the report's earlier one, decided or not. On push
// the server prices it again: on its own price list version a line that
// differs is refused (quote_mismatch); a quote priced on a list the
// server has replaced since is kept as priced and flagged quote_stale for
// the dispatcher. EReportSealed for a signed report; errors as PriceQuote.
func (c *Client) SetQuote(reportID string, items []quote.Item) (quote.Quote, error) {
	var q quote.Quote
	fields := map[string]json.RawMessage{}
	err := c.write(fieldsync.EntityReport, reportID, syncproto.OpUpsert, "", fields, func(rd *reader) error {
		if _, _, err := c.draft(rd, reportID); err != nil {
			return err
		}
		l, err := rd.priceList()
		if err != nil {
			return err
		}
		if q, err = quote.Build(l, items); err != nil {
			return err
		}
		fields["quote"], err = quoteField(quote.ToReport(q))
		return err
	})
	return q, err
}

// AcceptQuote records that the customer accepted the report's pending
// quote, now, in one write with its outbox entry; the report can then be
// signed. DeclineQuote records that they declined it, with the reason
// they gave ("" for none); DeclineQuoteAndEnd also ends the visit. Both
// return the decided quote. ENotFound when the report has no quote,
// EConflict when it is decided already (price a new one to ask again),
// EReportSealed for a signed report.
func (c *Client) AcceptQuote(reportID string) (quote.Quote, error) {
	var q quote.Quote
	fields := map[string]json.RawMessage{}
	err := c.write(fieldsync.EntityReport, reportID, syncproto.OpUpsert, "", fields, func(rd *reader) (err error) {
		q, fields["quote"], err = c.decideQuote(rd, reportID, true, "")
		return err
	})
	return q, err
}

// DeclineQuote: see AcceptQuote.
func (c *Client) DeclineQuote(reportID, reason string) (quote.Quote, error) {
	var q quote.Quote
	fields := map[string]json.RawMessage{}
	err := c.write(fieldsync.EntityReport, reportID, syncproto.OpUpsert, "", fields, func(rd *reader) (err error) {
		q, fields["quote"], err = c.decideQuote(rd, reportID, false, reason)
		return err
	})
	return q, err
}

// DeclineQuoteAndEnd records the decline as DeclineQuote does and ends
// the report's visit as completed with end_reason quote_declined, in one
// local write with both outbox entries: declined work ends the visit with
// that recorded. The server applies the decline first and checks it
// before it ends the visit. EInvalidTransition unless the visit is on
// site; errors as DeclineQuote.
func (c *Client) DeclineQuoteAndEnd(reportID, reason string) (quote.Quote, error) {
	if c.isClosed() {
		return quote.Quote{}, ErrClosed
	}
	var q quote.Quote
	err := c.db.Update(func(tx *bbolt.Tx) error {
		rd := &reader{tx: tx, refs: &c.refs}
		q2, raw, err := c.decideQuote(rd, reportID, false, reason)
		if err != nil {
			return err
		}
		r, err := rd.report(reportID)
		if err != nil {
			return err
		}
		v, err := rd.visit(r.VisitID)
		if err != nil {
			return err
		}
		if _, err := fieldsync.NextVisitStatus(v.Status, fieldsync.ActionComplete); err != nil {
			return err
		}
		if err := c.enqueue(tx, fieldsync.EntityReport, reportID, syncproto.OpUpsert, "", map[string]json.RawMessage{"quote": raw}); err != nil {
			return err
		}
		end := map[string]json.RawMessage{"end_reason": jsonString(fieldsync.EndQuoteDeclined), "report_id": jsonString(reportID)}
		if err := c.enqueue(tx, fieldsync.EntityVisit, v.ID, syncproto.OpAction, string(fieldsync.ActionComplete), end); err != nil {
			return err
		}
		q = q2
		return nil
	})
	if err != nil {
		return quote.Quote{}, err
	}
	c.poke(c.changed)
	return q, nil
}

// decideQuote returns the report's quote decided now, and as the report's
// quote field.
func (c *Client) decideQuote(rd *reader, reportID string, accepted bool, reason string) (quote.Quote, json.RawMessage, error) {
	r, _, err := c.draft(rd, reportID)
	if err != nil {
		return quote.Quote{}, nil, err
	}
	if r.Quote == nil {
		return quote.Quote{}, nil, fieldsync.Errorf(fieldsync.ENotFound, "report %s has no quote: price the work first", reportID)
	}
	q, err := quote.Decide(quote.FromReport(*r.Quote), accepted, time.Now().Truncate(time.Second))
	if err != nil {
		return quote.Quote{}, nil, err
	}
	rq := quote.ToReport(q)
	rq.Reason = strings.TrimSpace(reason)
	raw, err := quoteField(rq)
	return q, raw, err
}

// quoteField is q as the report's quote field, checked as the server
// checks it.
func quoteField(q fieldsync.ReportQuote) (json.RawMessage, error) {
	raw, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	return raw, fieldsync.CheckReportField("quote", raw, nil)
}
