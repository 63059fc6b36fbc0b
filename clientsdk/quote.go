package clientsdk

import (
	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/quote"
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
