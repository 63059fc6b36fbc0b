package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fieldsync/fieldsync/internal/chaos"
)

// chaosRun is `fieldsync chaos`: the fault run (internal/chaos) with this
// very binary as the server.
func chaosRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := chaos.Config{Progress: stderr}
	data := fs.String("data", "", "fresh directory for the run: server data, device files, server.log (default: a new temporary directory)")
	fs.IntVar(&cfg.Devices, "devices", 10, "tablets, three or four to a technician")
	fs.IntVar(&cfg.Mutations, "mutations", 1000, "outbox mutations made by the whole fleet")
	fs.IntVar(&cfg.Photos, "photos", 50, "photos attached through the SDK")
	fs.Float64Var(&cfg.Cut, "cut", 0.2, "share of connections the proxy cuts mid-request or mid-response")
	fs.IntVar(&cfg.Kills, "kills", 2, "times the server is killed with SIGKILL and restarted")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed of the devices' and the proxy's random choices")
	var s3 chaos.S3
	fs.StringVar(&s3.Endpoint, "s3-endpoint", "", "S3 endpoint (host:port, plain HTTP) for the server's photos; empty keeps them in the data directory")
	fs.StringVar(&s3.Bucket, "s3-bucket", "fieldsync-chaos", "S3 bucket")
	fs.StringVar(&s3.AccessKey, "s3-access-key", "", "S3 access key")
	fs.StringVar(&s3.SecretKey, "s3-secret-key", "", "S3 secret key — prefer the variable FIELDSYNC_S3_SECRET_KEY")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: chaos takes no arguments", errUsage)
	}
	if s3.Endpoint != "" {
		cfg.S3 = &s3
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.Binary, cfg.Data = bin, *data
	if cfg.Data == "" {
		if cfg.Data, err = os.MkdirTemp("", "fieldsync-chaos-"); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "run directory: %s\n", cfg.Data)
	} else if entries, err := os.ReadDir(cfg.Data); err == nil && len(entries) > 0 {
		return fmt.Errorf("%w: --data %s is not empty: the run needs a fresh directory", errUsage, cfg.Data)
	}
	fmt.Fprintf(stdout, "fieldsync chaos --devices %d --mutations %d --photos %d --cut %g --kills %d --seed %d (photos in %s)\n",
		cfg.Devices, cfg.Mutations, cfg.Photos, cfg.Cut, cfg.Kills, cfg.Seed, map[bool]string{true: "S3", false: "the data directory"}[cfg.S3 != nil])
	start := time.Now()
	res, err := chaos.Run(ctx, cfg)
	if err != nil && !errors.Is(err, chaos.ErrViolations) {
		return fmt.Errorf("chaos run did not complete after %s: %w", time.Since(start).Round(time.Second), err)
	}
	fmt.Fprint(stdout, res)
	return err
}
