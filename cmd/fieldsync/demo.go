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
	"os"
	"sync/atomic"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/s3store"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// demo fills a fresh data directory with a small living dataset; its
// photos go to the data directory's media (DATA/media).
func demo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory to fill (must hold no accounts yet); the default is serve's")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	dir := dataDir(*data)
	if err := os.MkdirAll(dir.media(), 0o700); err != nil {
		return err
	}
	store, err := bolt.Open(dir.db())
	if err != nil {
		return err
	}
	defer store.Close()
	if fresh, err := freshData(ctx, store); err != nil {
		return err
	} else if !fresh {
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
	blobs, _, err := openBlobs(ctx, dir, s3store.Config{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Demo data in %s:\n", *data)
	logins, err := fillDemo(ctx, demoEnv{store: store, keys: keys, blobs: blobs, dir: dir, pol: pol}, stdout)
	if err != nil {
		return err
	}
	printLogins(stdout, logins)
	fmt.Fprintf(stdout, "\nStart the server: fieldsync serve --data %s\n", *data)
	return nil
}

// freshData tells whether the store holds no accounts: demo data may go
// in, and nobody can sign in yet.
func freshData(ctx context.Context, store *bolt.DB) (bool, error) {
	users, err := store.Users(ctx, "")
	return len(users) == 0, err
}

// demoEnv is what the demo fills: an open store with the reference data
// published, the server's signing keys and the photo store.
type demoEnv struct {
	store *bolt.DB
	keys  *auth.KeySet
	blobs media.BlobStore
	dir   dataDir
	pol   policies
}

// demoLogin is a demo account and its password, shown once.
type demoLogin struct {
	login, name, password string
	role                  fieldsync.Role
	id                    string
}

func printLogins(w io.Writer, logins []*demoLogin) {
	fmt.Fprintf(w, "\nLogins (passwords are shown once; the server keeps only hashes):\n")
	for _, a := range logins {
		fmt.Fprintf(w, "  %-11s %-13s %s\n", a.role, a.login, a.password)
	}
}

// fillDemo fills a store without accounts with the demo's accounts,
// tickets and visits, printing a line per visit to out. It goes through
// the real API handlers (in process), so the data obeys every rule the
// server enforces; a movable clock lets it open tickets in the past, so
// that some promises are at risk or already broken. The visits done on
// site are done by the technicians' tablets (clientsdk) syncing with the
// same handlers over loopback, so their reports are answered, signed,
// photographed and sealed as a real day leaves them.
func fillDemo(ctx context.Context, env demoEnv, out io.Writer) ([]*demoLogin, error) {
	store := env.store
	var clockNanos atomic.Int64
	clockNanos.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, clockNanos.Load()) }
	setClock := func(t time.Time) { clockNanos.Store(t.UnixNano()) }
	// Tokens live on real time; only the records are dated by the clock.
	issuer := auth.NewIssuer(env.keys)
	svc := auth.NewService(store, issuer, nil)
	photos := media.New(media.Config{Blobs: env.blobs, Store: store, SpoolDir: env.dir.spool(), Now: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	handler := server.New(server.Deps{
		Media: photos, Store: store, Auth: svc, Issuer: issuer, Version: buildVersion(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    clock, Calendar: env.pol.calendar, Policy: env.pol.sla, Warranty: env.pol.warranty, Prices: env.pol.prices,
	})
	api := &demoAPI{h: handler}
	// The tablets reach the handlers over loopback, as a tablet would.
	loopback := httptest.NewServer(handler)
	defer loopback.Close()
	tablets := &demoTablets{server: loopback.URL, clock: clock, dir: env.dir}
	defer tablets.close()

	accounts := []*demoLogin{
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
			return nil, err
		}
		a.id = u.ID
	}
	tech := func(i int) string { return accounts[2+i].id }

	// Every call below is the dispatcher's, from the demo's own device.
	sess, err := svc.Login(ctx, auth.Credentials{Login: "dispatcher", Password: accounts[1].password, DeviceID: "demo-setup", DeviceName: "fieldsync demo"})
	if err != nil {
		return nil, err
	}
	api.token = sess.AccessToken

	var cust fieldsync.Customer
	if err := api.post("/v1/customers", map[string]any{"name": "刘女士", "phone": "138 0013 8000", "user_id": accounts[5].id}, &cust); err != nil {
		return nil, err
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
		// onSite is what the technician's tablet does after steps.
		onSite demoWork
	}
	plans := []plan{
		{fieldsync.ZoneCity, "上海市浦东新区世纪大道100号 1502室", fieldsync.CategoryTV, "Hisense 65E7K", fieldsync.KindRepair, "开机后屏幕有竖线,声音正常", 2, 0, nil, 0, nil},
		{fieldsync.ZoneCity, "上海市徐汇区漕溪北路88号", fieldsync.CategoryAppliance, "Midea MB100V", fieldsync.KindInstall, "新洗衣机需要安装", 20, 1, []fieldsync.VisitAction{fieldsync.ActionDepart}, 0, nil},
		{fieldsync.ZoneSuburb, "上海市松江区新松江路1200弄5号", fieldsync.CategoryPhone, "Huawei Mate 60", fieldsync.KindExchange, "收货7天内屏幕无法触控", 30, 0, []fieldsync.VisitAction{fieldsync.ActionDepart, fieldsync.ActionArrive}, 0, nil},
		{fieldsync.ZoneTownship, "浙江省嘉兴市海盐县澉浦镇六里村", fieldsync.CategoryFurniture, "Sofa L-3", fieldsync.KindInspection, "送货时发现沙发扶手开裂", 360, 2, nil, 0, nil}, // breached on any date
		{fieldsync.ZoneSuburb, "上海市闵行区七宝镇漕宝路3366号", fieldsync.CategoryAppliance, "Haier BCD-470", fieldsync.KindRepair, "冰箱不制冷,压缩机不启动", 50, 1, []fieldsync.VisitAction{fieldsync.ActionDepart, fieldsync.ActionArrive, fieldsync.ActionComplete}, 0, nil},
		{fieldsync.ZoneCity, "上海市静安区南京西路1266号", fieldsync.CategoryTV, "TCL 75Q10K", fieldsync.KindRepair, "主板故障,需要备件", 40, 2, []fieldsync.VisitAction{fieldsync.ActionDepart, fieldsync.ActionArrive},
			0, secondVisit(fieldsync.SecondVisit{Parts: []fieldsync.PartNeed{{Code: "tv-mainboard", Qty: 1}}, Note: "主板烧毁,带主板上门更换"})},
		// Inside the 三包 windows: a phone dropped on day 10 (customer
		// damage, a paid repair) and a TV with a fault on day 20 (an
		// exchange within the TV's 30 days).
		{fieldsync.ZoneCity, "上海市黄浦区人民大道200号", fieldsync.CategoryPhone, "Xiaomi 14", fieldsync.KindRepair, "手机摔落后屏幕碎裂", 3, 1, nil, 10, nil},
		{fieldsync.ZoneCity, "上海市长宁区延安西路1116号", fieldsync.CategoryTV, "Sony X90L", fieldsync.KindExchange, "使用20天后屏幕出现亮线", 4, 1, nil, 20, nil},
		// Done yesterday on site, with the reports to read.
		{fieldsync.ZoneCity, "上海市杨浦区国定路335号", fieldsync.CategoryAppliance, "Midea MG100V", fieldsync.KindRepair, "洗衣机不排水,显示E30", 28, 2, nil, 0,
			completeWith(demoReport{findings: "排水泵不转,泵腔内有异物,清理后仍无法启动", cause: "排水泵电机损坏", part: "major",
				work: []fieldsync.WorkLine{{Part: "major", Code: "wm-drain-pump", Qty: 1, Note: "更换排水泵,试机排水正常"}}, customer: "刘女士"})},
		{fieldsync.ZoneSuburb, "上海市嘉定区博乐路70号", fieldsync.CategoryTV, "Hisense 55E3K", fieldsync.KindRepair, "电视无法开机,指示灯闪烁", 52, 2, nil, 0,
			completeWith(demoReport{findings: "电源板滤波电容鼓包,输出电压不稳", cause: "电源板故障", part: "major",
				work: []fieldsync.WorkLine{{Part: "major", Code: "tv-psu", Qty: 1, Note: "更换电源板,开机测试2小时正常"}}, customer: "刘女士"})},
	}
	now := time.Now()
	var complainOn string
	for i, p := range plans {
		setClock(now.Add(-time.Duration(p.openedH) * time.Hour))
		var site fieldsync.Site
		var asset fieldsync.Asset
		var ticket fieldsync.Ticket
		var visit fieldsync.Visit
		if err := api.post("/v1/sites", map[string]any{"customer_id": cust.ID, "address": p.address, "zone": p.zone}, &site); err != nil {
			return nil, err
		}
		invoice := clock().AddDate(0, -2, 0)
		if p.bought > 0 {
			invoice = now.In(cst).AddDate(0, 0, -p.bought)
		}
		if err := api.post("/v1/assets", map[string]any{"customer_id": cust.ID, "category": p.category, "model": p.model,
			"serial": fmt.Sprintf("SN2026%06d", 1000+i), "seller": "京东自营", "invoice_date": invoice.Format(time.DateOnly)}, &asset); err != nil {
			return nil, err
		}
		if err := api.post("/v1/tickets", map[string]any{"customer_id": cust.ID, "site_id": site.ID, "asset_id": asset.ID,
			"channel": fieldsync.ChannelHotline, "kind": p.kind, "description": p.fault}, &ticket); err != nil {
			return nil, err
		}
		setClock(clock().Add(time.Hour))
		if err := api.post("/v1/tickets/"+ticket.ID+"/contact", map[string]any{"note": "电话确认上门时间"}, &ticket); err != nil {
			return nil, err
		}
		start := clock().Add(time.Hour).Truncate(time.Hour)
		if err := api.post("/v1/visits", map[string]any{"ticket_id": ticket.ID, "technician_id": tech(p.tech),
			"window_start": start, "window_end": start.Add(2 * time.Hour)}, &visit); err != nil {
			return nil, err
		}
		for _, step := range p.steps {
			setClock(clock().Add(90 * time.Minute))
			at := clock().UTC()
			if _, err := store.UpdateVisit(ctx, visit.ID, fieldsync.Actor{UserID: tech(p.tech), DeviceID: "demo-tablet"}, "visit."+string(step), at,
				func(v *fieldsync.Visit) error { return v.Apply(step, at, "") }); err != nil {
				return nil, err
			}
		}
		if p.onSite != nil {
			tab, err := tablets.of(ctx, accounts[2+p.tech])
			if err != nil {
				return nil, err
			}
			if err := p.onSite(ctx, demoSite{tab: tab, visit: visit, start: start, clock: clock, setClock: setClock, photos: tablets.tmp}); err != nil {
				return nil, fmt.Errorf("demo: %s on visit %s: %w", accounts[2+p.tech].login, visit.ID, err)
			}
		}
		if p.steps != nil && p.steps[len(p.steps)-1] == fieldsync.ActionComplete {
			complainOn = ticket.ID
		}
		fmt.Fprintf(out, "  %-8s %-9s %-10s visit %s for %s\n", p.zone, p.category, p.kind, visit.ID, accounts[2+p.tech].login)
	}
	// The customer of the fridge still not cold complains, a day later.
	setClock(now.Add(-2 * time.Hour))
	var complaint fieldsync.Complaint
	if err := api.post("/v1/tickets/"+complainOn+"/complaints", map[string]any{"text": "师傅来过后冰箱还是不制冷,要求尽快处理"}, &complaint); err != nil {
		return nil, err
	}
	// Thumbnails, as the server's loop would make them.
	if _, err := photos.MakeThumbnails(ctx); err != nil {
		return nil, err
	}
	return accounts, nil
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
