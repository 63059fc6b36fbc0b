package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/media"
	"github.com/fieldsync/fieldsync/media/localstore"
	"github.com/fieldsync/fieldsync/media/s3store"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// dataDir is the layout of --data: everything a server keeps.
type dataDir string

func (d dataDir) db() string    { return filepath.Join(string(d), "fieldsync.db") }
func (d dataDir) keys() string  { return filepath.Join(string(d), "keys") }
func (d dataDir) media() string { return filepath.Join(string(d), "media") }
func (d dataDir) spool() string { return filepath.Join(string(d), "spool") }

// openBlobs opens the photo store: S3 when an endpoint is configured, else
// the data directory. It says which, without credentials, for the log.
func openBlobs(ctx context.Context, dir dataDir, s3 s3store.Config) (media.BlobStore, string, error) {
	if err := os.MkdirAll(dir.spool(), 0o700); err != nil {
		return nil, "", err
	}
	if s3.Endpoint == "" {
		st, err := localstore.New(dir.media())
		return st, dir.media(), err
	}
	st, err := s3store.New(ctx, s3)
	return st, "s3://" + s3.Endpoint + "/" + s3.Bucket, err
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	data := fs.String("data", "./data", "data directory: the database, media and signing keys (created if missing)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	bodyLimit := fs.Int64("body-limit", server.DefaultBodyLimit, "largest request body in bytes, after decompression")
	shutdownGrace := fs.Duration("shutdown-grace", 30*time.Second, "time requests in flight get to finish on SIGTERM")
	metricsAddr := fs.String("metrics-addr", "", "address of a separate listener for Prometheus metrics (host:port); empty serves no metrics")
	trustedProxy := fs.String("trusted-proxy", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed; empty trusts none")
	withDemo := fs.Bool("demo", false, "fill a data directory without accounts with the demo data first (as fieldsync demo) and print its logins; a directory with accounts is served as it is")
	var s3 s3store.Config
	fs.StringVar(&s3.Endpoint, "s3-endpoint", "", "S3-compatible endpoint (host:port) for photos; empty keeps them in DATA/media")
	fs.StringVar(&s3.Bucket, "s3-bucket", "fieldsync", "S3 bucket for photos (created if missing)")
	fs.StringVar(&s3.AccessKey, "s3-access-key", "", "S3 access key")
	fs.StringVar(&s3.SecretKey, "s3-secret-key", "", "S3 secret key (prefer FIELDSYNC_S3_SECRET_KEY: flags show in ps)")
	fs.StringVar(&s3.Region, "s3-region", "", "S3 region")
	fs.BoolVar(&s3.Insecure, "s3-insecure", false, "plain HTTP to the S3 endpoint")
	policyFiles := map[string]*string{}
	for _, k := range policyKinds {
		policyFiles[k.name] = fs.String(k.name, "", "JSON file replacing the shipped "+k.name+" (fieldsync policy export writes one to edit); empty keeps the default")
	}
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("%w: --log-level: %v", errUsage, err)
	}
	proxies, err := parseCIDRs(*trustedProxy)
	if err != nil {
		return fmt.Errorf("%w: --trusted-proxy: %v", errUsage, err)
	}
	files := map[string]string{}
	for name, v := range policyFiles {
		files[name] = *v
	}
	pol, err := loadPolicies(files)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	log.Info("policies", pol.logArgs()...)

	dir := dataDir(*data)
	if err := os.MkdirAll(dir.media(), 0o700); err != nil {
		return err
	}
	store, err := bolt.Open(dir.db())
	if err != nil {
		return err
	}
	defer store.Close()
	keys, err := auth.LoadKeySet(dir.keys(), time.Now())
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	if err := publishReference(ctx, store, pol); err != nil {
		return fmt.Errorf("publish reference data: %w", err)
	}
	blobs, where, err := openBlobs(ctx, dir, s3)
	if err != nil {
		return fmt.Errorf("photo storage: %w", err)
	}
	photos := media.New(media.Config{Blobs: blobs, Store: store, SpoolDir: dir.spool(), Logger: log})
	// What a killed process left (spool files, half-written files) goes
	// before any request can make more.
	if n, err := photos.Sweep(ctx); err != nil {
		return fmt.Errorf("photo storage: sweeping leftovers: %w", err)
	} else if n > 0 {
		log.Info("removed files a stopped server left", "files", n)
	}
	// The demo goes in before the server's own services start, through
	// the same photo store; its logins are printed once it listens.
	fresh, err := freshData(ctx, store)
	if err != nil {
		return err
	}
	var logins []*demoLogin
	switch {
	case *withDemo && fresh:
		if logins, err = fillDemo(ctx, demoEnv{store: store, keys: keys, blobs: blobs, dir: dir, pol: pol}, io.Discard); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		log.Info("filled the data directory with the demo data", "data", string(dir))
	case *withDemo:
		log.Info("the demo data was not loaded: the data directory has accounts already; serving what is there", "data", string(dir))
	case fresh:
		log.Warn("no accounts yet: nobody can sign in; stop the server and create the first admin with: "+firstAdmin(dir)+
			" (or start with --demo for demo data)", "data", string(dir))
	}
	issuer := auth.NewIssuer(keys)
	srv := server.New(server.Deps{
		Media:     photos,
		Store:     store,
		Auth:      auth.NewService(store, issuer, nil),
		Issuer:    issuer,
		Logger:    log,
		Version:   buildVersion(),
		BodyLimit: *bodyLimit,
		Calendar:  pol.calendar,
		Policy:    pol.sla,
		Warranty:  pol.warranty,
		Prices:    pol.prices,
		// The client address of login throttling and the logs.
		TrustedProxies: proxies,
	})
	// Reports a crash or a missing key left signed are sealed before any
	// request can sign more.
	if n, err := store.SealWaiting(ctx, time.Now().UTC()); err != nil {
		return fmt.Errorf("sealing signed reports: %w", err)
	} else if n > 0 {
		log.Info("sealed reports signed before the server stopped", "reports", n)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(srv.CloseStreams) // event streams never end by themselves
	loops := []func(context.Context){
		func(ctx context.Context) { pruneLoop(ctx, store, log) },
		func(ctx context.Context) { escalateLoop(ctx, store, time.Minute, log) },
		func(ctx context.Context) {
			if err := photos.Run(ctx, 10*time.Minute); err != nil {
				log.Error("expiring uploads stopped", "error", err.Error())
			}
		},
		// Thumbnails are made off the upload path.
		func(ctx context.Context) { photos.RunThumbnails(ctx, time.Minute) },
	}
	metricsAt := ""
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		metricsAt = mln.Addr().String()
		loops = append(loops, func(ctx context.Context) { serveMetrics(ctx, srv.Metrics(), mln, log) })
	}
	log.Info("listening", "addr", ln.Addr().String(), "metrics", metricsAt, "data", string(dir), "photos", where, "version", buildVersion(), "signing_kid", keys.Signing().Kid)
	if logins != nil {
		printLogins(stdout, logins)
		printURLs(stdout, ln.Addr().String())
	}

	err = serveUntil(ctx, hs, ln, *shutdownGrace, log, loops...)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	log.Info("stopped")
	return nil
}

// serveUntil serves hs on ln and runs each loop on a goroutine of its
// own until ctx is done or Serve fails. On ctx, requests in flight get
// grace to finish. It returns only once Serve and every loop have
// returned, so the caller may close what they use.
func serveUntil(ctx context.Context, hs *http.Server, ln net.Listener, grace time.Duration, log *slog.Logger, loops ...func(context.Context)) error {
	var running sync.WaitGroup
	defer running.Wait()
	loopCtx, stopLoops := context.WithCancel(ctx)
	defer stopLoops() // when Serve fails
	for _, loop := range loops {
		running.Go(func() { loop(loopCtx) })
	}
	errc := make(chan error, 1)
	running.Go(func() { errc <- hs.Serve(ln) })

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("shutdown did not finish in time", "error", err.Error())
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveMetrics serves the metrics on ln until ctx is done, then closes it
// at once: a scrape in flight needs no grace. A listener that fails is
// logged; the API goes on without metrics.
func serveMetrics(ctx context.Context, h http.Handler, ln net.Listener, log *slog.Logger) {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	var serving sync.WaitGroup
	serving.Go(func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "error", err.Error())
		}
	})
	<-ctx.Done()
	hs.Close()
	serving.Wait()
}

// parseCIDRs parses a comma-separated list of CIDRs ("" is none).
func parseCIDRs(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32", c)
		}
		out = append(out, n)
	}
	return out, nil
}

// pruneLoop deletes expired refresh tokens and sync tombstones past their
// horizon, at start and then hourly.
func pruneLoop(ctx context.Context, store *bolt.DB, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := store.PruneRefresh(ctx, time.Now()); err != nil {
			log.Warn("pruning refresh tokens failed", "error", err.Error())
		} else if n > 0 {
			log.Info("pruned expired refresh tokens", "count", n)
		}
		if n, err := store.PruneFeed(ctx, time.Now().Add(-bolt.TombstoneHorizon)); err != nil {
			log.Warn("pruning sync tombstones failed", "error", err.Error())
		} else if n > 0 {
			log.Info("pruned sync tombstones", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// escalateLoop escalates the complaints whose clocks ran out, at start
// and then every interval; reads escalate too, so this only keeps the
// stored levels and the audit trail current when nobody reads.
func escalateLoop(ctx context.Context, store *bolt.DB, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := store.EscalateDue(ctx, time.Now()); err != nil {
			log.Warn("escalating complaints failed", "error", err.Error())
		} else if n > 0 {
			log.Info("escalated complaints past a deadline", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// firstAdmin is the command that creates the first admin of dir.
func firstAdmin(dir dataDir) string {
	return fmt.Sprintf("echo 'choose-a-password' | fieldsync admin add-user --data %s --role admin --login admin --password-stdin", shellQuote(string(dir)))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printURLs prints where to start with a server listening on addr.
func printURLs(w io.Writer, addr string) {
	base := "http://" + addr
	fmt.Fprintf(w, "\nServing at %s:\n  API          %s/v1/\n  API document %s/openapi.json\n  health       %s/healthz\n", base, base, base, base)
	fmt.Fprintf(w, "Sign in: curl -s %s/v1/auth/login -d '{\"login\":\"dispatcher\",\"password\":\"…\",\"device_id\":\"laptop\"}' -H 'Content-Type: application/json'\n", base)
}
