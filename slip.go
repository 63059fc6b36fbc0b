package fieldsync

import (
	"strconv"
	"strings"
	"time"
)

// Appraisal slip numbers (鉴定单号) are issued offline, on the tablet, as
// "<prefix>-<year>-<counter>", e.g. "K7QM-2026-000042":
//   - prefix: the slip prefix the server gave the install of the app that
//     made the report (SlipPrefixFor), 4 or more characters of
//     SlipAlphabet; no two installs ever get the same one;
//   - year: the year by the device's clock when the report was made, for
//     the reader only (it is not part of what makes the number unique);
//   - counter: the install's own count of the numbers it has issued, from
//     1, never reset and never reused (it is written with the report that
//     takes it), at least 6 digits.
//
// A number is therefore unique across every device without the tablet
// asking anyone: installs never share a prefix, and an install never
// issues a counter twice.

// Codes of a report creation refused for its slip number (push results).
const (
	// ESlipPrefix: the number does not carry the slip prefix of the
	// install that pushed it; only that install issues its numbers.
	ESlipPrefix = "slip_prefix_mismatch"
	// ESlipTaken: another report holds the number already.
	ESlipTaken = "slip_no_taken"
)

// SlipAlphabet is the characters of a slip prefix: digits and capital
// letters without 0, O, 1 and I, which are read for one another.
const SlipAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// Bounds of a slip number's parts.
const (
	MinSlipPrefixLen  = 4
	MaxSlipPrefixLen  = 8
	MinSlipCounterLen = 6
	MaxSlipNoLen      = 32
)

// slipPrefixes is how many 4-character prefixes there are.
const slipPrefixes = 32 * 32 * 32 * 32

// SlipPrefixFor returns the n-th slip prefix the server hands out (n
// from 0): a different one for every n. The first slipPrefixes are 4
// characters, spread over the alphabet (consecutive installs do not get
// look-alike prefixes); later ones are longer.
func SlipPrefixFor(n uint64) string {
	if n < slipPrefixes {
		// Multiplying by an odd number permutes the residues modulo 2^20.
		return slipDigits((n*0x9E3B5)%slipPrefixes, MinSlipPrefixLen)
	}
	return slipDigits(n, MinSlipPrefixLen+1)
}

func slipDigits(n uint64, width int) string {
	var b []byte
	for n > 0 || len(b) < width {
		b = append(b, SlipAlphabet[n%32])
		n /= 32
	}
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// ValidSlipPrefix reports whether p is a slip prefix: 4 to 8 characters
// of SlipAlphabet.
func ValidSlipPrefix(p string) bool {
	if len(p) < MinSlipPrefixLen || len(p) > MaxSlipPrefixLen {
		return false
	}
	for _, c := range []byte(p) {
		if strings.IndexByte(SlipAlphabet, c) < 0 {
			return false
		}
	}
	return true
}

// SlipNo is an appraisal slip number, parsed.
type SlipNo struct {
	Prefix  string
	Year    int
	Counter uint64
}

// NewSlipNo returns the number an install with prefix issues as its
// counter-th, at a time at (the device's clock).
func NewSlipNo(prefix string, at time.Time, counter uint64) SlipNo {
	return SlipNo{Prefix: prefix, Year: at.Year(), Counter: counter}
}

// String is the printed form, "<prefix>-<year>-<counter>".
func (s SlipNo) String() string {
	c := strconv.FormatUint(s.Counter, 10)
	if pad := MinSlipCounterLen - len(c); pad > 0 {
		c = strings.Repeat("0", pad) + c
	}
	return s.Prefix + "-" + strconv.Itoa(s.Year) + "-" + c
}

// ParseSlipNo reads a printed slip number. It takes only the form String
// makes (so a number has one spelling, and a store indexes it as is):
// a valid prefix, a 4-digit year from 2000, a counter of at least 6
// digits from 1, without extra leading zeros. EInvalid says what is wrong.
func ParseSlipNo(s string) (SlipNo, error) {
	bad := func(why string) (SlipNo, error) {
		return SlipNo{}, Errorf(EInvalid, "slip_no %q is not a slip number (PREFIX-YYYY-NNNNNN): %s", clip(s), why)
	}
	if len(s) > MaxSlipNoLen {
		return bad("too long")
	}
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return bad("it has three parts separated by '-'")
	}
	if !ValidSlipPrefix(parts[0]) {
		return bad("the prefix is 4 to 8 of " + SlipAlphabet)
	}
	year, err := strconv.Atoi(parts[1])
	if err != nil || len(parts[1]) != 4 || year < 2000 {
		return bad("the year is 4 digits, from 2000")
	}
	counter, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil || counter == 0 || parts[2][0] == '+' {
		return bad("the counter is a number from 1")
	}
	n := SlipNo{Prefix: parts[0], Year: year, Counter: counter}
	if n.String() != s {
		return bad("the counter has at least 6 digits, without extra leading zeros")
	}
	return n, nil
}

// CheckSlipIssuer returns nil when slip number no may be issued by the
// install whose slip prefix is prefix: EInvalid unless no parses, and
// ESlipPrefix unless it carries that prefix ("" for an install that has
// none, which issues no number).
func CheckSlipIssuer(no, prefix string) error {
	n, err := ParseSlipNo(no)
	if err != nil {
		return err
	}
	if prefix == "" {
		return Errorf(ESlipPrefix, "slip_no %s: this install has no slip prefix; sign in again to get one", no)
	}
	if n.Prefix != prefix {
		return Errorf(ESlipPrefix, "slip_no %s has prefix %s, but this install's slip prefix is %s", no, n.Prefix, prefix)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
