package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/store/bolt"
)

// adminAccount runs disable-user, enable-user and reset-password on the
// account named by --login. Each ends sessions as its API route does.
func adminAccount(ctx context.Context, cmd string, fs *flag.FlagSet, data *string, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	login := fs.String("login", "", "login name of the account")
	fromStdin := new(bool)
	if cmd == "reset-password" {
		fs.BoolVar(fromStdin, "password-stdin", false, "read the new password from the first line of standard input")
	}
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if *login == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: %s takes --login LOGIN and no arguments", errUsage, cmd)
	}
	var password string
	if cmd == "reset-password" {
		if !*fromStdin {
			return fmt.Errorf("%w: reset-password needs --password-stdin (passwords are never taken as arguments)", errUsage)
		}
		var err error
		if password, err = readPassword(stdin); err != nil {
			return err
		}
	}
	return withStore(*data, func(store *bolt.DB) error {
		u, err := store.UserByLogin(ctx, *login)
		if err != nil {
			return err
		}
		svc := auth.NewService(store, nil, nil)
		switch cmd {
		case "disable-user":
			if _, err := svc.DisableUser(ctx, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "disabled %s (id %s); their sessions have ended\n", u.Login, u.ID)
		case "enable-user":
			if _, err := svc.EnableUser(ctx, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "enabled %s (id %s)\n", u.Login, u.ID)
		case "reset-password":
			if _, err := svc.ResetPassword(ctx, u.ID, password); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "set a new password for %s (id %s); their sessions have ended\n", u.Login, u.ID)
		}
		return nil
	})
}
