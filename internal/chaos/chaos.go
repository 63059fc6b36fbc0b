package chaos

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Config sizes a run.
type Config struct {
	Binary    string  // the fieldsync binary to run as the server
	Data      string  // a fresh directory for the server's data, the devices' files and the logs
	Devices   int     // tablets, three or four to a technician
	Mutations int     // outbox mutations made by the whole fleet
	Photos    int     // photos attached through the SDK
	Cut       float64 // share of connections the proxy cuts, 0..1
	Kills     int     // times the server is killed with SIGKILL and restarted
	Seed      int64   // drives every random choice of the devices and the proxy
	S3        *S3     // photos in S3 (MinIO); nil keeps them in the data directory
	Progress  io.Writer
	// Patience is how long a device may take, once the work is done, to
	// empty its outbox and photo queue; default 2 minutes.
	Patience time.Duration
}

func (c Config) patience() time.Duration {
	if c.Patience > 0 {
		return c.Patience
	}
	return 2 * time.Minute
}

// S3 is where the server keeps photos, as its --s3-* flags say.
type S3 struct {
	Endpoint, Bucket, AccessKey, SecretKey string
}

// Result is what a run measured and found.
type Result struct {
	Devices, Technicians int
	Mutations            int // applied: acknowledged to the devices and in the audit trail
	Refused              int // refused by the server (visit steps another device took first)
	Photos               int // verified and found in the store
	Connections, Cuts    int64
	Kills                int
	Elapsed              time.Duration // the whole run, setup and checks included
	Work                 time.Duration // from the first edit until every device was drained
	Violations           []string
}

// MutationsPerSecond is the applied mutations over the work phase.
func (r Result) MutationsPerSecond() float64 {
	if r.Work <= 0 {
		return 0
	}
	return float64(r.Mutations) / r.Work.Seconds()
}

func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "devices %d (technicians %d), mutations %d applied + %d refused, photos %d\n",
		r.Devices, r.Technicians, r.Mutations, r.Refused, r.Photos)
	fmt.Fprintf(&b, "connections %d, cut %d, server kills %d\n", r.Connections, r.Cuts, r.Kills)
	fmt.Fprintf(&b, "work %s (%.0f mutations/s), whole run %s\n", r.Work.Round(time.Millisecond), r.MutationsPerSecond(), r.Elapsed.Round(time.Millisecond))
	if len(r.Violations) == 0 {
		b.WriteString("violations: none\n")
	} else {
		fmt.Fprintf(&b, "violations: %d\n", len(r.Violations))
		for _, v := range r.Violations {
			fmt.Fprintf(&b, "  %s\n", v)
		}
	}
	return b.String()
}

// ErrViolations is returned with a Result that lists violations.
var ErrViolations = errors.New("chaos: the run found violations")

// Run runs the fleet against the real server with faults and checks the
// outcome. A run that completes returns its Result; a violation found
// makes the error ErrViolations (the Result lists them). Any other error
// means the run could not complete (a device gave up, the server would
// not start).
func Run(ctx context.Context, cfg Config) (Result, error) {
	began := time.Now()
	if cfg.Devices < 1 || cfg.Mutations < 0 || cfg.Photos < 0 || cfg.Kills < 0 || cfg.Cut < 0 || cfg.Cut >= 1 {
		return Result{}, fmt.Errorf("chaos: devices ≥ 1, mutations, photos and kills ≥ 0, cut in [0,1) (got %+v)", cfg)
	}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	say := func(format string, args ...any) {
		fmt.Fprintf(progress, "%s  "+format+"\n", append([]any{time.Since(began).Round(100 * time.Millisecond)}, args...)...)
	}
	dirs := map[string]string{}
	for _, d := range []string{"server", "devices", "photos"} {
		dirs[d] = filepath.Join(cfg.Data, d)
		if err := os.MkdirAll(dirs[d], 0o700); err != nil {
			return Result{}, err
		}
	}
	logs, err := os.Create(filepath.Join(cfg.Data, "server.log"))
	if err != nil {
		return Result{}, err
	}
	defer logs.Close()

	adminPassword := rand.Text()
	add := exec.CommandContext(ctx, cfg.Binary, "admin", "add-user", "--data", dirs["server"], "--role", "admin", "--login", "admin", "--password-stdin")
	add.Stdin = strings.NewReader(adminPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return Result{}, fmt.Errorf("chaos: admin add-user: %v: %s", err, out)
	}
	srv := &server{binary: cfg.Binary, data: dirs["server"], logs: logs}
	blob := localBlob(dirs["server"])
	if cfg.S3 != nil {
		srv.env = []string{"FIELDSYNC_S3_ENDPOINT=" + cfg.S3.Endpoint, "FIELDSYNC_S3_BUCKET=" + cfg.S3.Bucket,
			"FIELDSYNC_S3_ACCESS_KEY=" + cfg.S3.AccessKey, "FIELDSYNC_S3_SECRET_KEY=" + cfg.S3.SecretKey, "FIELDSYNC_S3_INSECURE=true"}
		if blob, err = s3Blob(cfg.S3); err != nil {
			return Result{}, err
		}
	}
	if err := srv.start(ctx); err != nil {
		return Result{}, err
	}
	defer srv.kill()
	direct := srv.url
	px, err := newProxy(func() string { return strings.TrimPrefix(srv.url(), "http://") }, cfg.Cut, uint64(cfg.Seed))
	if err != nil {
		return Result{}, err
	}
	defer px.close()

	techs := max(1, cfg.Devices/3)
	w, err := populate(ctx, direct, adminPassword, techs)
	if err != nil {
		return Result{}, err
	}
	say("server up, %d technicians with %d visits each", techs, visitsPerTech)

	f := &fleet{cfg: cfg, photoDir: dirs["photos"], ledger: ledger{reports: map[string]*reportLedger{}}}
	defer f.close()
	if err := f.open(dirs["devices"], px.url(), w); err != nil {
		return Result{}, err
	}
	if err := f.signIn(ctx); err != nil {
		return Result{}, err
	}
	say("%d devices signed in through the proxy (cutting %.0f%% of connections)", cfg.Devices, cfg.Cut*100)
	workStart := time.Now()
	if err := f.createReports(ctx); err != nil {
		return Result{}, err
	}

	res := Result{Devices: cfg.Devices, Technicians: techs}
	killed := make(chan error, 1)
	wctx, stopKiller := context.WithCancel(ctx)
	go func() { killed <- killer(wctx, srv, f, cfg, &res, say) }()
	werr := f.work(ctx)
	if werr != nil {
		stopKiller()
	}
	if err := <-killed; err != nil && werr == nil {
		werr = err
	}
	stopKiller()
	if werr != nil {
		return res, werr
	}
	say("%d mutations made, %d server kills; draining the devices", f.done.Load(), res.Kills)
	stuck := f.drain(ctx, cfg.patience())
	res.Work = time.Since(workStart)
	res.Connections, res.Cuts = px.conns.Load(), px.cuts.Load()
	say("drained; checking")

	admin, err := login(ctx, direct, "admin", adminPassword, "chaos-admin")
	if err != nil {
		return res, err
	}
	c := &checker{f: f, admin: admin, blob: blob, violations: stuck}
	if err := c.run(ctx); err != nil {
		return res, err
	}
	res.Mutations, res.Refused, res.Photos, res.Violations = c.applied, c.refused, c.photos, c.violations
	res.Elapsed = time.Since(began)
	if len(res.Violations) > 0 {
		return res, ErrViolations
	}
	return res, nil
}

// killer kills the server with SIGKILL and starts it again each time the
// fleet has made another 1/(Kills+1) of its mutations.
func killer(ctx context.Context, srv *server, f *fleet, cfg Config, res *Result, say func(string, ...any)) error {
	for k := 1; k <= cfg.Kills; k++ {
		at := int64(cfg.Mutations) * int64(k) / int64(cfg.Kills+1)
		for f.done.Load() < at {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(20 * time.Millisecond):
			}
		}
		srv.kill()
		res.Kills++
		if err := srv.start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		say("kill %d at %d mutations: server restarted", k, f.done.Load())
	}
	return nil
}

// s3Blob reads photos from the bucket with minio-go, as the server keeps
// them: photos/<sha256>.
func s3Blob(cfg *S3) (func(context.Context, string) ([]byte, error), error) {
	mc, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, sha string) ([]byte, error) {
		obj, err := mc.GetObject(ctx, cfg.Bucket, "photos/"+sha, minio.GetObjectOptions{})
		if err != nil {
			return nil, err
		}
		defer obj.Close()
		return io.ReadAll(obj)
	}, nil
}
