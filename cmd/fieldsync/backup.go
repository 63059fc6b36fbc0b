package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/fieldsync/fieldsync/auth/authproto"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// adminBackup saves a running server's store through its API, signed in
// as an admin with the password on stdin: access tokens last minutes, so a
// scheduled backup could not keep one, while a password file can feed
// stdin. The copy is written beside --out and renamed into place only
// once it is whole and checks out, so a cut never leaves a file that looks
// like a backup.
func adminBackup(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "URL of the running server (http://host:port)")
	out := fs.String("out", "", "file to write the backup to (replaced only when the new one is whole)")
	login := fs.String("login", "admin", "login of an admin account")
	host, _ := os.Hostname()
	device := fs.String("device", "backup-"+host, "device id to sign in from")
	fromStdin := fs.Bool("password-stdin", false, "read the admin's password from the first line of standard input")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	switch {
	case *server == "" || *out == "":
		return fmt.Errorf("%w: backup needs --server URL and --out FILE", errUsage)
	case !*fromStdin:
		return fmt.Errorf("%w: backup needs --password-stdin (passwords are never taken as arguments)", errUsage)
	case fs.NArg() != 0:
		return fmt.Errorf("%w: backup takes no operands", errUsage)
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	base := strings.TrimRight(*server, "/")
	var tokens authproto.Tokens
	if err := callJSON(ctx, "POST", base+"/v1/auth/login", "", authproto.LoginRequest{Login: *login, Password: password, DeviceID: *device, DeviceName: "fieldsync admin backup"}, &tokens); err != nil {
		return fmt.Errorf("sign in as %s: %w", *login, err)
	}
	// The session ends with the backup; failing to end it only leaves a
	// refresh token that expires on its own.
	defer callJSON(context.WithoutCancel(ctx), "POST", base+"/v1/auth/logout", "", authproto.RefreshRequest{RefreshToken: tokens.RefreshToken}, nil)

	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/admin/backup", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return problemError(res)
	}
	if res.ContentLength <= 0 {
		return errors.New("the server did not say the backup's size")
	}
	n, version, err := saveBackup(res.Body, res.ContentLength, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %d bytes (schema %d) to %s\n", n, version, *out)
	return nil
}

// saveBackup writes exactly size bytes of r to a temporary file beside
// out, checks it is a whole store, and renames it to out.
func saveBackup(r io.Reader, size int64, out string) (int64, int, error) {
	dir := filepath.Dir(out)
	f, err := os.CreateTemp(dir, filepath.Base(out)+".*.partial")
	if err != nil {
		return 0, 0, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, there is nothing there
	n, err := io.Copy(f, io.LimitReader(r, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("the backup was cut: %d of %d bytes", n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, 0, err
	}
	version, err := bolt.CheckBackup(tmp)
	if err != nil {
		return n, 0, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return n, 0, err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename, on disk
		d.Close()
	}
	return n, version, nil
}

// adminRestore puts a backup in place of the data directory's store. The
// server must be stopped; the replaced file is kept beside it.
func adminRestore(data string, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: restore takes one FILE (a backup)", errUsage)
	}
	version, err := bolt.CheckBackup(args[0])
	if err != nil {
		return err
	}
	aside, err := bolt.Restore(dataDir(data).db(), args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s (schema %d) to %s\n", args[0], version, dataDir(data).db())
	if aside != "" {
		fmt.Fprintf(stdout, "the replaced store is kept at %s\n", aside)
	}
	fmt.Fprintln(stdout, "tablets download their data again at their next sync; work they sent after the backup was taken is not in it")
	return nil
}

// callJSON sends in as JSON (nil for no body) and decodes a 2xx answer
// into out (nil to drop it); any other answer is its problem's error.
func callJSON(ctx context.Context, method, url, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return problemError(res)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// problemError turns a refusal into an error with the server's words.
func problemError(res *http.Response) error {
	var p struct{ Code, Detail string }
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if json.Unmarshal(raw, &p) != nil || p.Code == "" {
		return fmt.Errorf("the server answered %s", res.Status)
	}
	return fmt.Errorf("the server answered %s: %s: %s", res.Status, p.Code, p.Detail)
}
