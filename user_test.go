package fieldsync

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// checkErr fails unless err carries wantCode ("" means no error) and, when
// wantDetail is not empty, a caller-safe detail containing it.
func checkErr(t *testing.T, err error, wantCode, wantDetail string) {
	t.Helper()
	if got := ErrorCode(err); got != wantCode {
		t.Fatalf("ErrorCode = %q, want %q (err: %v)", got, wantCode, err)
	}
	if wantDetail != "" && !strings.Contains(ErrorDetail(err), wantDetail) {
		t.Fatalf("ErrorDetail = %q, want it to contain %q", ErrorDetail(err), wantDetail)
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Role
		code string
	}{
		{"admin is a role", "admin", RoleAdmin, ""},
		{"dispatcher is a role", "dispatcher", RoleDispatcher, ""},
		{"technician is a role", "technician", RoleTechnician, ""},
		{"customer is a role", "customer", RoleCustomer, ""},
		{"an empty role is invalid", "", "", EInvalid},
		{"roles are case-sensitive", "Admin", "", EInvalid},
		{"roles are not trimmed", " admin", "", EInvalid},
		{"an unknown role is invalid", "root", "", EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRole(tt.in)
			checkErr(t, err, tt.code, "")
			if got != tt.want {
				t.Fatalf("ParseRole(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRolesAllParse(t *testing.T) {
	if len(Roles) != 4 {
		t.Fatalf("Roles = %v, want the four roles", Roles)
	}
	for _, r := range Roles {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
}

func TestNormalizeLogin(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a login is lower-cased", "Alice", "alice"},
		{"a login is trimmed", "  bob \t\n", "bob"},
		{"an e-mail login is folded whole", " Zhang.San@Example.COM ", "zhang.san@example.com"},
		{"an empty login stays empty", "", ""},
		{"a blank login becomes empty", "   ", ""},
		{"inner spaces are kept", "a b", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeLogin(tt.in); got != tt.want {
				t.Fatalf("NormalizeLogin(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateNewUser(t *testing.T) {
	const (
		login = "alice"
		name  = "Alice"
		pass  = "correct horse"
	)
	tests := []struct {
		name                  string
		login, uname, passwrd string
		role                  Role
		code, detail          string
	}{
		{"a well-formed user is valid", login, name, pass, RoleTechnician, "", ""},
		{"every role may be created: admin", login, name, pass, RoleAdmin, "", ""},
		{"every role may be created: dispatcher", login, name, pass, RoleDispatcher, "", ""},
		{"every role may be created: customer", login, name, pass, RoleCustomer, "", ""},

		// role
		{"an empty role is invalid", login, name, pass, "", EInvalid, "role"},
		{"an unknown role is invalid", login, name, pass, "root", EInvalid, "role"},
		{"the role is checked before the login", "", name, pass, "root", EInvalid, "role"},

		// login
		{"a login is required", "", name, pass, RoleAdmin, EInvalid, "login is required"},
		{"a blank login is missing", "   ", name, pass, RoleAdmin, EInvalid, "login is required"},
		{"a login is judged after normalizing", "  Alice@Example.com  ", name, pass, RoleAdmin, "", ""},
		{"a login may hold . _ - @ +", "a.b_c-d@e+f", name, pass, RoleAdmin, "", ""},
		{"a login may hold digits", "tech007", name, pass, RoleAdmin, "", ""},
		{"a login of 64 bytes is valid", strings.Repeat("a", MaxLoginLen), name, pass, RoleAdmin, "", ""},
		{"a login of 64 bytes with surrounding spaces is valid", "  " + strings.Repeat("a", MaxLoginLen) + " ", name, pass, RoleAdmin, "", ""},
		{"a login of 65 bytes is too long", strings.Repeat("a", MaxLoginLen+1), name, pass, RoleAdmin, EInvalid, "longer than 64"},
		{"a login may not hold an inner space", "alice smith", name, pass, RoleAdmin, EInvalid, "login may hold only"},
		{"a login may not hold Chinese characters", "张三", name, pass, RoleAdmin, EInvalid, "login may hold only"},
		{"a login may not hold !", "alice!", name, pass, RoleAdmin, EInvalid, "login may hold only"},
		{"a login may not hold /", "a/b", name, pass, RoleAdmin, EInvalid, "login may hold only"},
		{"a login may not hold accented letters", "josé", name, pass, RoleAdmin, EInvalid, "login may hold only"},
		{"a login may not hold invalid UTF-8", "a\xffb", name, pass, RoleAdmin, EInvalid, "login may hold only"},

		// name
		{"a name is optional", login, "", pass, RoleAdmin, "", ""},
		{"a Chinese name is valid", login, "张三", pass, RoleAdmin, "", ""},
		{"a name of 200 bytes is valid", login, strings.Repeat("n", MaxNameLen), pass, RoleAdmin, "", ""},
		{"a name of 201 bytes is too long", login, strings.Repeat("n", MaxNameLen+1), pass, RoleAdmin, EInvalid, "name"},
		{"a name of 67 Chinese characters (201 bytes) is too long", login, strings.Repeat("张", 67), pass, RoleAdmin, EInvalid, "name"},
		{"a name must be valid UTF-8", login, "Al\xffce", pass, RoleAdmin, EInvalid, "name"},

		// password
		{"a password of 7 characters is too short", login, name, "1234567", RoleAdmin, EInvalid, "at least 8"},
		{"an empty password is too short", login, name, "", RoleAdmin, EInvalid, "at least 8"},
		{"a password of 8 characters is valid", login, name, "12345678", RoleAdmin, "", ""},
		{"a password counts characters, not bytes: 8 Chinese characters are valid", login, name, "春眠不觉晓处处闻", RoleAdmin, "", ""},
		{"a password counts characters, not bytes: 7 Chinese characters (21 bytes) are too short", login, name, "春眠不觉晓处处", RoleAdmin, EInvalid, "at least 8"},
		{"a password of 1024 bytes is valid", login, name, strings.Repeat("p", MaxPasswordLen), RoleAdmin, "", ""},
		{"a password of 1025 bytes is too long", login, name, strings.Repeat("p", MaxPasswordLen+1), RoleAdmin, EInvalid, "longer than 1024"},
		{"the password ceiling is in bytes: 342 Chinese characters (1026 bytes) are too long", login, name, strings.Repeat("码", 342), RoleAdmin, EInvalid, "longer than 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, ValidateNewUser(tt.login, tt.uname, tt.passwrd, tt.role), tt.code, tt.detail)
		})
	}
}

func TestValidateDeviceID(t *testing.T) {
	tests := []struct {
		name, id, code string
	}{
		{"a plain device id is valid", "tablet-01", ""},
		{"a UUID device id is valid", "3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f", ""},
		{"a non-ASCII device id is valid", "平板一号", ""},
		{"a device id of 128 bytes is valid", strings.Repeat("d", MaxDeviceIDLen), ""},
		{"a device id is required", "", EInvalid},
		{"a device id of 129 bytes is too long", strings.Repeat("d", MaxDeviceIDLen+1), EInvalid},
		{"a device id may not hold a space", "tablet 01", EInvalid},
		{"a device id may not hold a tab", "tablet\t01", EInvalid},
		{"a device id may not hold a newline", "tablet\n01", EInvalid},
		{"a device id may not hold NUL", "tablet\x0001", EInvalid},
		{"a device id may not hold DEL", "tablet\x7f01", EInvalid},
		{"a device id may not hold a slash", "tablet/01", EInvalid},
		{"a device id may not be a single space", " ", EInvalid},
		{"a device id may not hold a no-break space", "tab\u00a0let", EInvalid},
		{"a device id may not hold an ideographic space", "tab\u3000let", EInvalid},
		{"a device id may not hold a zero-width space", "tab\u200blet", EInvalid},
		{"a device id may not hold a C1 control", "tab\u0085let", EInvalid},
		{"a device id must be valid UTF-8", "tab\xfflet", EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, ValidateDeviceID(tt.id), tt.code, "")
		})
	}
}

func TestDeviceRevoked(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	if (&Device{}).Revoked() {
		t.Error("a device without RevokedAt is revoked")
	}
	if !(&Device{RevokedAt: &now}).Revoked() {
		t.Error("a device with RevokedAt is not revoked")
	}
}

func TestErrorCodeAndDetail(t *testing.T) {
	appErr := Errorf(ENotFound, "visit %s does not exist", "v1")
	tests := []struct {
		name       string
		err        error
		wantCode   string
		wantDetail string
	}{
		{"an *Error gives its code and detail", appErr, ENotFound, "visit v1 does not exist"},
		{"an *Error built by hand gives its code and detail", &Error{Code: EThrottled, Detail: "slow down", RetryAfter: 30}, EThrottled, "slow down"},
		{"a wrapped *Error gives the inner code and detail", fmt.Errorf("loading: %w", appErr), ENotFound, "visit v1 does not exist"},
		{"a twice-wrapped *Error gives the inner code and detail", fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", appErr)), ENotFound, "visit v1 does not exist"},
		{"the first *Error in the chain wins", fmt.Errorf("%w", &Error{Code: EConflict, Detail: "outer"}), EConflict, "outer"},
		{"a joined error gives its *Error's code", errors.Join(errors.New("disk"), appErr), ENotFound, "visit v1 does not exist"},
		{"a plain error is internal and hides its text", errors.New("open /var/lib/fieldsync/db: permission denied"), EInternal, "Internal error."},
		{"an error wrapped with %v loses its code", fmt.Errorf("loading: %v", appErr), EInternal, "Internal error."},
		// ErrorCode documents "" for nil; ErrorDetail has no nil case and
		// falls back to the generic message.
		{"nil has no code and no detail", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := ErrorDetail(tt.err); got != tt.wantDetail {
				t.Errorf("ErrorDetail = %q, want %q", got, tt.wantDetail)
			}
		})
	}
}

func TestErrorfAndErrorString(t *testing.T) {
	e := Errorf(EInvalid, "%s is longer than %d bytes", "name", 200)
	if e.Code != EInvalid || e.Detail != "name is longer than 200 bytes" || e.RetryAfter != 0 {
		t.Fatalf("Errorf = %+v", e)
	}
	if got, want := e.Error(), "invalid: name is longer than 200 bytes"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if got := Errorf(EInvalid, "100%% sure").Detail; got != "100% sure" {
		t.Fatalf("Errorf without args: detail %q", got)
	}
}
