package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// admin runs the offline administration commands. They open the data
// directory directly, so they refuse to run while a server holds it.
func admin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: admin needs a subcommand", errUsage)
	}
	if args[0] == "backup" {
		return adminBackup(ctx, args[1:], getenv, stdin, stdout, stderr)
	}
	// Changes made here are audited as the admin command's.
	host, _ := os.Hostname()
	ctx = fieldsync.WithActor(ctx, fieldsync.Actor{UserID: "admin-command", DeviceID: host})
	fs := flag.NewFlagSet("admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory of the server")
	switch args[0] {
	case "add-user":
		role := fs.String("role", "", "admin, dispatcher, technician or customer")
		login := fs.String("login", "", "login name")
		name := fs.String("name", "", "display name")
		fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
		if err := parseFlags(fs, args[1:], getenv); err != nil {
			return err
		}
		if !*fromStdin {
			return fmt.Errorf("%w: add-user needs --password-stdin (passwords are never taken as arguments)", errUsage)
		}
		password, err := readPassword(stdin)
		if err != nil {
			return err
		}
		return withStore(*data, func(store *bolt.DB) error {
			svc := auth.NewService(store, nil, nil)
			u, err := svc.CreateUser(ctx, *login, *name, password, fieldsync.Role(*role))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created %s %s (id %s)\n", u.Role, u.Login, u.ID)
			return nil
		})
	case "disable-user", "enable-user", "reset-password":
		return adminAccount(ctx, args[0], fs, data, args[1:], getenv, stdin, stdout)
	case "revoke-device":
		user := fs.String("user", "", "login of the device's user (needed when several users have a device of that id)")
		if err := parseFlags(fs, args[1:], getenv); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: revoke-device takes one DEVICE_ID", errUsage)
		}
		return withStore(*data, func(store *bolt.DB) error {
			userID := ""
			if *user != "" {
				u, err := store.UserByLogin(ctx, fieldsync.NormalizeLogin(*user))
				if err != nil {
					return err
				}
				userID = u.ID
			}
			d, err := store.RevokeDevice(ctx, userID, fs.Arg(0), time.Now().UTC())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked device %s of user %s at %s\n", d.ID, d.UserID, local(*d.RevokedAt))
			return nil
		})
	case "add-key":
		if err := parseFlags(fs, args[1:], getenv); err != nil {
			return err
		}
		k, err := auth.NewKey(time.Now())
		if err != nil {
			return err
		}
		if err := auth.WriteKey(dataDir(*data).keys(), k); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added key %s; it signs from the server's next start, older keys keep verifying\n", k.Kid)
		return nil
	case "list-keys":
		if err := parseFlags(fs, args[1:], getenv); err != nil {
			return err
		}
		keys, err := auth.ReadKeys(dataDir(*data).keys())
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			fmt.Fprintln(stdout, "no keys yet: the server makes one on first start")
			return nil
		}
		ks, err := auth.NewKeySet(keys...)
		if err != nil {
			return err
		}
		for i, k := range ks.Keys() {
			mark := ""
			if i == 0 {
				mark = " (signing)"
			}
			fmt.Fprintf(stdout, "%s  %s%s\n", k.Kid, local(k.Created), mark)
		}
		return nil
	case "remove-key":
		if err := parseFlags(fs, args[1:], getenv); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: remove-key takes one KID", errUsage)
		}
		if err := auth.RemoveKey(dataDir(*data).keys(), fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed key %s; restart the server to stop accepting its tokens\n", fs.Arg(0))
		return nil
	case "restore":
		if err := parseFlags(fs, args[1:], getenv); err != nil {
			return err
		}
		return adminRestore(*data, fs.Args(), stdout)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown admin command %q", errUsage, args[0])
}

// readPassword reads a password from the first line of stdin.
func readPassword(stdin io.Reader) (string, error) {
	password, err := bufio.NewReader(io.LimitReader(stdin, fieldsync.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(password, "\r\n"), nil
}

func withStore(data string, fn func(*bolt.DB) error) error {
	store, err := bolt.Open(dataDir(data).db())
	if err != nil {
		return err
	}
	if err := fn(store); err != nil {
		store.Close()
		return err
	}
	return store.Close()
}
