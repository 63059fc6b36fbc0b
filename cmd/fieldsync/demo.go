package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// demo fills a fresh data directory with a small living dataset. It goes
// through the real API handlers (in process), so the data obeys every
// rule the server enforces; a movable clock lets it open tickets in the
// past, so that some promises are at risk or already broken.
func demo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory to fill (must hold no accounts yet)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	dir := dataDir(*data)
	store, err := bolt.Open(dir.db())
	if err != nil {
		return err
	}
	defer store.Close()
	if users, err := store.Users(ctx, ""); err != nil {
		return err
	} else if len(users) > 0 {
		return fmt.Errorf("%s already has accounts: demo needs a fresh data directory", *data)
	}
	pol, err := loadPolicies(nil) // the shipped defaults
	if err != nil {
		return err
	}
	if err := publishReference(ctx, store, pol); err != nil {
		return err
	}
	keys, err := auth.LoadKeySet(dir.keys(), time.Now())
	if err != nil {
		return err
	}

	clock := time.Now()
	// Tokens live on real time; only the records are dated by the clock.
	issuer := auth.NewIssuer(keys)
	svc := auth.NewService(store, issuer, nil)
	api := &demoAPI{h: server.New(server.Deps{
		Store: store, Auth: svc, Issuer: issuer, Version: buildVersion(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    func() time.Time { return clock },
	})}

	type account struct {
		login, name, password string
		role                  fieldsync.Role
		id                    string
	}
	accounts := []*account{
		{login: "admin", name: "管理员 Admin", role: fieldsync.RoleAdmin},
		{login: "dispatcher", name: "王调度 Wang (dispatcher)", role: fieldsync.RoleDispatcher},
		{login: "tech.li", name: "李师傅 Li", role: fieldsync.RoleTechnician},
		{login: "tech.zhang", name: "张师傅 Zhang", role: fieldsync.RoleTechnician},
		{login: "tech.chen", name: "陈师傅 Chen", role: fieldsync.RoleTechnician},
		{login: "customer.liu", name: "刘女士 Ms Liu", role: fieldsync.RoleCustomer},
	}
	for _, a := range accounts {
		a.password = demoPassword()
		u, err := svc.CreateUser(ctx, a.login, a.name, a.password, a.role)
		if err != nil {
			return err
		}
		a.id = u.ID
	}
	tech := func(i int) string { return accounts[2+i].id }

	// Every call below is the dispatcher's, from the demo's own device.
	sess, err := svc.Login(ctx, auth.Credentials{Login: "dispatcher", Password: accounts[1].password, DeviceID: "demo-setup", DeviceName: "fieldsync demo"})
	if err != nil {
		return err
	}
	api.token = sess.AccessToken

	var cust fieldsync.Customer
	if err := api.post("/v1/customers", map[string]any{"name": "刘女士", "phone": "138 0013 8000", "user_id": accounts[5].id}, &cust); err != nil {
		return err
	}
	type plan struct {
		zone     fieldsync.Zone
		address  string
		category fieldsync.Category
		model    string
		kind     fieldsync.TicketKind
		fault    string
		openedH  int // hours ago the ticket came in
		tech     int
		steps    []fieldsync.VisitAction
		bought   int // days before today the invoice is dated; 0: two months before the ticket
	}
	plans := []plan{
		{fieldsync.ZoneCity, "上海市浦东新区世纪大道100号 1502室", fieldsync.CategoryTV, "Hisense 65E7K", fieldsync.KindRepair, "开机后屏幕有竖线,声音正常", 2, 0, nil, 0},
		{fieldsync.ZoneCity, "上海市徐汇区漕溪北路88号", fieldsync.CategoryAppliance, "Midea MB100V", fieldsync.KindInstall, "新洗衣机需要安装", 20, 1, []fieldsync.VisitAction{fieldsync.ActionDepart}, 0},
		{fieldsync.ZoneSuburb, "上海市松江区新松江路1200弄5号", fieldsync.CategoryPhone, "Huawei Mate 60", fieldsync.KindExchange, "收货7天内屏幕无法触控", 30, 0, []fieldsync.VisitAction{fieldsync.ActionDepart, fieldsync.ActionArrive}, 0},
		{fieldsync.ZoneTownship, "浙江省嘉兴市海盐县澉浦镇六里村", fieldsync.CategoryFurniture, "Sofa L-3", fieldsync.KindInspection, "送货时发现沙发扶手开裂", 360, 2, nil, 0}, // breached on any date
		{fieldsync.ZoneSuburb, "上海市闵行区七宝镇漕宝路3366号", fieldsync.CategoryAppliance, "Haier BCD-470", fieldsync.KindRepair, "冰箱不制冷,压缩机不启动", 50, 1, []fieldsync.VisitAction{fieldsync.ActionDepart, fieldsync.ActionArrive, fieldsync.ActionComplete}, 0},
		{fieldsync.ZoneCity, "上海市静安区南京西路1266号", fieldsync.CategoryTV, "TCL 75Q10K", fieldsync.KindRepair, "主板故障,需要备件", 40, 2, []fieldsync.VisitAction{fieldsync.ActionDepart, fieldsync.ActionArrive, fieldsync.ActionNeedSecondVisit}, 0},
		// Inside the 三包 windows: a phone dropped on day 10 (customer
		// damage, a paid repair) and a TV with a fault on day 20 (an
		// exchange within the TV's 30 days).
		{fieldsync.ZoneCity, "上海市黄浦区人民大道200号", fieldsync.CategoryPhone, "Xiaomi 14", fieldsync.KindRepair, "手机摔落后屏幕碎裂", 3, 1, nil, 10},
		{fieldsync.ZoneCity, "上海市长宁区延安西路1116号", fieldsync.CategoryTV, "Sony X90L", fieldsync.KindExchange, "使用20天后屏幕出现亮线", 4, 1, nil, 20},
	}
	now := time.Now()
	fmt.Fprintf(stdout, "Demo data in %s:\n", *data)
	for i, p := range plans {
		clock = now.Add(-time.Duration(p.openedH) * time.Hour)
		var site fieldsync.Site
		var asset fieldsync.Asset
		var ticket fieldsync.Ticket
		var visit fieldsync.Visit
		if err := api.post("/v1/sites", map[string]any{"customer_id": cust.ID, "address": p.address, "zone": p.zone}, &site); err != nil {
			return err
		}
		invoice := clock.AddDate(0, -2, 0)
		if p.bought > 0 {
			invoice = now.In(cst).AddDate(0, 0, -p.bought)
		}
		if err := api.post("/v1/assets", map[string]any{"customer_id": cust.ID, "category": p.category, "model": p.model,
			"serial": fmt.Sprintf("SN2026%06d", 1000+i), "seller": "京东自营", "invoice_date": invoice.Format(time.DateOnly)}, &asset); err != nil {
			return err
		}
		if err := api.post("/v1/tickets", map[string]any{"customer_id": cust.ID, "site_id": site.ID, "asset_id": asset.ID,
			"channel": fieldsync.ChannelHotline, "kind": p.kind, "description": p.fault}, &ticket); err != nil {
			return err
		}
		clock = clock.Add(time.Hour)
		if err := api.post("/v1/tickets/"+ticket.ID+"/contact", map[string]any{"note": "电话确认上门时间"}, &ticket); err != nil {
			return err
		}
		start := clock.Add(time.Hour).Truncate(time.Hour)
		if err := api.post("/v1/visits", map[string]any{"ticket_id": ticket.ID, "technician_id": tech(p.tech),
			"window_start": start, "window_end": start.Add(2 * time.Hour)}, &visit); err != nil {
			return err
		}
		for _, step := range p.steps {
			clock = clock.Add(90 * time.Minute)
			at := clock.UTC()
			if _, err := store.UpdateVisit(ctx, visit.ID, fieldsync.Actor{UserID: tech(p.tech), DeviceID: "demo-tablet"}, "visit."+string(step), at,
				func(v *fieldsync.Visit) error { return v.Apply(step, at, "") }); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "  %-8s %-9s %-10s visit %s for %s\n", p.zone, p.category, p.kind, visit.ID, accounts[2+p.tech].login)
	}
	fmt.Fprintf(stdout, "\nLogins (passwords are shown once; the server keeps only hashes):\n")
	for _, a := range accounts {
		fmt.Fprintf(stdout, "  %-11s %-13s %s\n", a.role, a.login, a.password)
	}
	fmt.Fprintf(stdout, "\nStart the server: fieldsync serve --data %s\n", *data)
	return nil
}

// demoAPI calls the server's handlers in process.
type demoAPI struct {
	h     http.Handler
	token string
}

func (d *demoAPI) post(path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.token)
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		return fmt.Errorf("demo: POST %s: %d %s", path, rec.Code, rec.Body.String())
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

func demoPassword() string {
	const letters = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 12)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:])
}
