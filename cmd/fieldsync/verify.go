package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fieldsync/fieldsync/sync/bundle"
)

const verifyUsage = `usage: fieldsync verify --keys JWKS.json [--head HEAD.txt] BUNDLE.zip

Checks a report bundle (GET /v1/reports/{id}/bundle) offline against the
server's public keys, saved separately from /.well-known/jwks.json: every
file against the signed report, the device signature, the server's seal,
the seal's place in the transparency log and the log head's signature,
and, when the bundle holds one, the customer's sign-off or refusal (of
exactly this report, sealed, in the same log) with the signature drawn.
--head also checks that the log only grew since a head you saved earlier
(from /v1/log/head). Exits 0 when everything holds, 1 when a check fails,
2 on a usage error.
`

// verify runs `fieldsync verify`: every check on its own line, then a
// summary; an error (exit 1) names what failed.
func verify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, verifyUsage) }
	keys := fs.String("keys", "", "the server's JWKS, obtained separately from /.well-known/jwks.json (required)")
	head := fs.String("head", "", "a log tree head saved earlier, to check the log only grew since")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keys == "" || fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("%w: verify needs --keys JWKS.json and one BUNDLE.zip", errUsage)
	}
	jwks, err := os.ReadFile(*keys)
	if err != nil {
		return fmt.Errorf("%w: --keys: %v", errUsage, err)
	}
	var saved []byte
	if *head != "" {
		if saved, err = os.ReadFile(*head); err != nil {
			return fmt.Errorf("%w: --head: %v", errUsage, err)
		}
	}
	b, err := bundle.ReadFile(fs.Arg(0), bundle.Limits{})
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	res := bundle.Verify(b, jwks, saved)
	for _, f := range res.Findings {
		mark := "✓"
		switch {
		case f.Unchecked:
			mark = "-"
		case !f.OK:
			mark = "✗"
		}
		fmt.Fprintf(stdout, "%s %s\n", mark, f)
	}
	fails := res.Failures()
	if len(fails) == 0 && res.OK() {
		fmt.Fprintf(stdout, "OK: %s verifies\n", fs.Arg(0))
		return nil
	}
	fmt.Fprintf(stdout, "FAILED: %d of %d checks\n", len(fails), len(res.Findings))
	return fmt.Errorf("%s does not verify: %s", fs.Arg(0), fails[0])
}
