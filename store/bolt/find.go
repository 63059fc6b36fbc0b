package bolt

import (
	"context"
	"encoding/json"

	bbolt "go.etcd.io/bbolt"

	"github.com/fieldsync/fieldsync"
)

// Tickets pages through the ticket queue, newest intake first. With
// customers, it reads only their tickets' index. A malformed cursor is
// EInvalid.
func (s *DB) Tickets(ctx context.Context, f fieldsync.TicketFilter) ([]fieldsync.Ticket, string, error) {
	ls := []listing{{records: bucketTickets, desc: true}}
	if len(f.CustomerIDs) > 0 {
		ls = ls[:0]
		for _, c := range f.CustomerIDs {
			ls = append(ls, listing{records: bucketTickets, index: indexTicketsByCust, prefix: key(c, ""), desc: true})
		}
	}
	keep := func(tx *bbolt.Tx, t *fieldsync.Ticket) (bool, error) {
		var site *fieldsync.Site
		if f.Zone != "" {
			var err error
			if site, err = get[fieldsync.Site](tx.Bucket(bucketSites), t.SiteID); err != nil {
				return false, err
			}
		}
		if !f.Admits(t, site) {
			return false, nil
		}
		if f.Match == nil {
			return true, nil
		}
		visits, err := children[fieldsync.Visit](tx, indexVisitsByTicket, bucketVisits, t.ID)
		if err != nil {
			return false, err
		}
		return f.Match(t, fieldsync.OpenVisit(visits)), nil
	}
	return pageMergedTx(s, ls, f.Cursor, f.Limit, keep, func(t *fieldsync.Ticket) string { return t.ID })
}

// Customers pages through the customers in creation order, those that
// search finds when it is set. A search reads every customer record: it
// matches parts of names and numbers, which no key order serves.
func (s *DB) Customers(ctx context.Context, search *fieldsync.Search, cursor string, limit int) ([]fieldsync.Customer, string, error) {
	var keep func(*fieldsync.Customer) bool
	if search != nil {
		keep = search.Finds
	}
	return page(s, listing{records: bucketCustomers}, cursor, limit, keep)
}

// Sites pages through the sites in creation order; with a customer, only
// theirs, through their index.
func (s *DB) Sites(ctx context.Context, customerID, cursor string, limit int) ([]fieldsync.Site, string, error) {
	l := listing{records: bucketSites}
	if customerID != "" {
		l.index, l.prefix = indexSitesByCust, key(customerID, "")
	}
	return page[fieldsync.Site](s, l, cursor, limit, nil)
}

// Assets pages through the assets in creation order. A serial or a model
// reads only its index; Any reads both.
func (s *DB) Assets(ctx context.Context, f fieldsync.AssetFilter) ([]fieldsync.Asset, string, error) {
	var ls []listing
	switch {
	case f.Serial != "":
		ls = []listing{{records: bucketAssets, index: indexAssetsBySerial, prefix: key(fieldsync.AssetKey(f.Serial), "")}}
	case f.Model != "":
		ls = []listing{{records: bucketAssets, index: indexAssetsByModel, prefix: key(fieldsync.AssetKey(f.Model), "")}}
	case f.Any != "":
		k := key(fieldsync.AssetKey(f.Any), "")
		ls = []listing{{records: bucketAssets, index: indexAssetsBySerial, prefix: k}, {records: bucketAssets, index: indexAssetsByModel, prefix: k}}
	default:
		ls = []listing{{records: bucketAssets}}
	}
	items, next, err := pageMerged(s, ls, f.Cursor, f.Limit, f.Admits, func(a *fieldsync.Asset) string { return a.ID })
	// An asset whose serial equals its model is listed by both indexes.
	items = compactBy(items, func(a *fieldsync.Asset) string { return a.ID })
	return items, next, err
}

// compactBy drops the neighbours of equal id in sorted items.
func compactBy[T any](items []T, id func(*T) string) []T {
	out := items[:0]
	for i := range items {
		if len(out) == 0 || id(&out[len(out)-1]) != id(&items[i]) {
			out = append(out, items[i])
		}
	}
	return out
}

// indexSite lists a new site under its customer.
func indexSite(tx *bbolt.Tx, site *fieldsync.Site) error {
	return tx.Bucket(indexSitesByCust).Put(key(site.CustomerID, site.ID), nil)
}

// indexAsset lists an asset under its serial and model; before, when
// set, is the asset as it was, whose entries go.
func indexAsset(tx *bbolt.Tx, before, after *fieldsync.Asset) error {
	serials, models := tx.Bucket(indexAssetsBySerial), tx.Bucket(indexAssetsByModel)
	if before != nil {
		if err := serials.Delete(key(fieldsync.AssetKey(before.Serial), before.ID)); err != nil {
			return err
		}
		if err := models.Delete(key(fieldsync.AssetKey(before.Model), before.ID)); err != nil {
			return err
		}
	}
	if err := serials.Put(key(fieldsync.AssetKey(after.Serial), after.ID), nil); err != nil {
		return err
	}
	return models.Put(key(fieldsync.AssetKey(after.Model), after.ID), nil)
}

// indexExistingSitesAndAssets fills the site and asset indexes from the
// records stored before them. A file made with only some buckets (as
// tests make them) has nothing to index.
func indexExistingSitesAndAssets(tx *bbolt.Tx) error {
	sites, assets := tx.Bucket(bucketSites), tx.Bucket(bucketAssets)
	if sites == nil || assets == nil {
		return nil
	}
	if err := sites.ForEach(func(_, raw []byte) error {
		var site fieldsync.Site
		if err := json.Unmarshal(raw, &site); err != nil {
			return err
		}
		return indexSite(tx, &site)
	}); err != nil {
		return err
	}
	return assets.ForEach(func(_, raw []byte) error {
		var a fieldsync.Asset
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		return indexAsset(tx, nil, &a)
	})
}
