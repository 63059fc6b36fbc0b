package chaos

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync"
)

// world is what setup made: the accounts and each technician's visits.
type world struct {
	adminPassword string
	dispatcher    *apiClient
	techs         []*tech
}

type tech struct {
	id, login, password string
	visits              []string
}

// visitsPerTech is how many visits each technician holds; the devices of a
// technician share them, so every report is edited from several devices.
const visitsPerTech = 3

// populate creates, as the admin and then a dispatcher, demo-like data:
// technicians, and for each a few TV repair tickets with visits assigned
// to them, exactly as a dispatcher's console would.
func populate(ctx context.Context, base func() string, adminPassword string, techs int) (*world, error) {
	admin, err := login(ctx, base, "admin", adminPassword, "chaos-admin")
	if err != nil {
		return nil, err
	}
	w := &world{adminPassword: adminPassword}
	dispPassword := rand.Text()
	var u fieldsync.User
	if err := admin.post(ctx, "/v1/users", map[string]any{"login": "dispatcher", "password": dispPassword, "role": fieldsync.RoleDispatcher, "name": "Chaos dispatcher"}, &u); err != nil {
		return nil, err
	}
	for i := range techs {
		t := &tech{login: fmt.Sprintf("tech.%03d", i), password: rand.Text()}
		if err := admin.post(ctx, "/v1/users", map[string]any{"login": t.login, "password": t.password, "role": fieldsync.RoleTechnician, "name": "Technician " + t.login}, &u); err != nil {
			return nil, err
		}
		t.id = u.ID
		w.techs = append(w.techs, t)
	}
	if w.dispatcher, err = login(ctx, base, "dispatcher", dispPassword, "chaos-dispatch"); err != nil {
		return nil, err
	}
	d := w.dispatcher
	var cust fieldsync.Customer
	if err := d.post(ctx, "/v1/customers", map[string]any{"name": "刘女士", "phone": "138 0013 8000"}, &cust); err != nil {
		return nil, err
	}
	start := time.Now().Add(time.Hour).Truncate(time.Hour)
	for ti, t := range w.techs {
		for vi := range visitsPerTech {
			n := ti*visitsPerTech + vi
			var site fieldsync.Site
			var asset fieldsync.Asset
			var ticket fieldsync.Ticket
			var visit fieldsync.Visit
			if err := d.post(ctx, "/v1/sites", map[string]any{"customer_id": cust.ID, "address": fmt.Sprintf("上海市浦东新区世纪大道%d号", 100+n), "zone": fieldsync.ZoneCity}, &site); err != nil {
				return nil, err
			}
			if err := d.post(ctx, "/v1/assets", map[string]any{"customer_id": cust.ID, "category": fieldsync.CategoryTV, "model": "Hisense 65E7K",
				"serial": fmt.Sprintf("SN2026%06d", n), "seller": "京东自营", "invoice_date": time.Now().AddDate(0, -2, 0).Format(time.DateOnly)}, &asset); err != nil {
				return nil, err
			}
			if err := d.post(ctx, "/v1/tickets", map[string]any{"customer_id": cust.ID, "site_id": site.ID, "asset_id": asset.ID,
				"channel": fieldsync.ChannelHotline, "kind": fieldsync.KindRepair, "description": "开机后屏幕有竖线,声音正常"}, &ticket); err != nil {
				return nil, err
			}
			if err := d.post(ctx, "/v1/tickets/"+ticket.ID+"/contact", map[string]any{"note": "电话确认上门时间"}, &ticket); err != nil {
				return nil, err
			}
			if err := d.post(ctx, "/v1/visits", map[string]any{"ticket_id": ticket.ID, "technician_id": t.id,
				"window_start": start, "window_end": start.Add(2 * time.Hour)}, &visit); err != nil {
				return nil, err
			}
			t.visits = append(t.visits, visit.ID)
		}
	}
	return w, nil
}
