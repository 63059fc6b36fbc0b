// Command fieldsync is the one binary of Fieldsync: the server, its admin
// tools and its version. Run `fieldsync help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "fieldsync:", err)
	}
	if code := exitCode(err); code != 0 {
		os.Exit(code)
	}
}

// exitCode is the exit status for what run returned: 0 for success, 2 for
// a usage error, 3 for a tech sync that went through with refused work, 1
// for any other failure.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp), errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errSyncRefused):
		return exitSyncRefused
	}
	return 1
}

var errUsage = errors.New("usage")

const usage = `fieldsync — after-sales field service server

Commands:
  serve                      run the server (see: fieldsync serve -h)
  serve --demo               fill an empty data directory with the demo, then serve it
  demo [--data DIR]          fill a fresh data directory (default ./data) with a living demo dataset
  admin add-user             create an account (password on stdin)
  admin disable-user         disable an account (--login): refused everywhere, sessions end
  admin enable-user          enable a disabled account again (--login)
  admin reset-password       set an account's password (--login, on stdin): sessions end
  admin revoke-device ID     revoke a user's tablet (--user LOGIN if several have that id)
  admin add-key              add a signing key (signs from the next start)
  admin list-keys            list signing keys, newest (signing) first
  admin remove-key KID       remove a signing key: its tokens stop verifying
  admin backup               save a running server's store (--server URL --out FILE; password on stdin)
  admin restore FILE         put a backup in place of the store (server stopped)
  policy export DIR          write the shipped policy files to edit (fieldsync policy -h)
  policy check FILE...       validate policy files before a serve --calendar/--sla-policy/…
  tech                       a technician's tablet on the command line (fieldsync tech -h)
  verify --keys JWKS BUNDLE  check a report bundle offline (fieldsync verify -h)
  chaos                      a fault run: real server, SDK fleet, cut connections, kills (fieldsync chaos -h)
  version                    print the version
`

// run is the whole program; main only supplies the process's environment
// so that tests can call it the same way.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: a command is required", errUsage)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "admin":
		return admin(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "policy":
		return policyCmd(args[1:], stdout, stderr)
	case "tech":
		return tech(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "demo":
		return demo(ctx, args[1:], getenv, stdout, stderr)
	case "chaos":
		return chaosRun(ctx, args[1:], getenv, stdout, stderr)
	case "verify":
		return verify(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "fieldsync", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func buildVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		v += " (" + bi.GoVersion + ")"
	}
	return v
}

// parseFlags parses args, then fills every flag not given on the command
// line from its environment variable FIELDSYNC_<NAME> (dashes become
// underscores): flags win over the environment, which wins over defaults.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%w: %s=%q: %v", errUsage, name, v, e)
			}
		}
	})
	return err
}

func envName(flagName string) string {
	return "FIELDSYNC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
