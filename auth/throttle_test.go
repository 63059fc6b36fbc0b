package auth

import (
	"fmt"
	"testing"
	"time"
)

var throttleEpoch = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// testThrottle returns a throttle with small limits the rows adjust.
func testThrottle(t *testing.T, adjust func(*Throttle)) *Throttle {
	t.Helper()
	th := &Throttle{LoginLimit: 3, AddrLimit: 10, Window: 15 * time.Minute, LoginDelay: time.Minute, MaxLoginDelay: time.Hour,
		BaseLock: time.Minute, MaxLock: time.Hour, MaxKeys: 1000}
	if adjust != nil {
		adjust(th)
	}
	return th
}

// throttleStep is one event at `at` after throttleEpoch: a failure, a
// success, or (neither set) a check that Wait(login, addr) == wait.
type throttleStep struct {
	at          time.Duration
	fail, ok    bool
	login, addr string
	wait        time.Duration
}

func fail(at time.Duration, login, addr string) throttleStep {
	return throttleStep{at: at, fail: true, login: login, addr: addr}
}

// fails is n failures of login from addr at the same instant.
func fails(n int, at time.Duration, login, addr string) []throttleStep {
	var out []throttleStep
	for range n {
		out = append(out, fail(at, login, addr))
	}
	return out
}

func succeed(login string) throttleStep { return throttleStep{ok: true, login: login} }

func wait(at time.Duration, login, addr string, want time.Duration) throttleStep {
	return throttleStep{at: at, login: login, addr: addr, wait: want}
}

func steps(groups ...any) []throttleStep {
	var out []throttleStep
	for _, g := range groups {
		switch g := g.(type) {
		case throttleStep:
			out = append(out, g)
		case []throttleStep:
			out = append(out, g...)
		default:
			panic(fmt.Sprintf("steps: %T", g))
		}
	}
	return out
}

func TestThrottle(t *testing.T) {
	const m = time.Minute
	tests := []struct {
		name   string
		adjust func(*Throttle)
		steps  []throttleStep
	}{
		{"a fresh login may try at once", nil, steps(
			wait(0, "alice", "10.0.0.1", 0),
		)},
		{"failures below LoginLimit do not lock", nil, steps(
			fails(2, 0, "alice", "10.0.0.1"),
			wait(0, "alice", "10.0.0.1", 0),
		)},
		{"LoginLimit failures lock the login from every address", nil, steps(
			fails(3, 0, "alice", "10.0.0.1"),
			wait(0, "alice", "10.0.0.1", m),
			wait(0, "alice", "192.168.7.7", m),
			wait(30*time.Second, "alice", "192.168.7.7", 30*time.Second),
		)},
		{"a locked login does not lock other logins from its address", nil, steps(
			fails(3, 0, "alice", "10.0.0.1"),
			wait(0, "bob", "10.0.0.1", 0),
		)},
		{"the delay ends after LoginDelay", nil, steps(
			fails(3, 0, "alice", "10.0.0.1"),
			wait(m-time.Nanosecond, "alice", "10.0.0.1", time.Nanosecond),
			wait(m, "alice", "10.0.0.1", 0),
		)},
		{"AddrLimit failures lock the address across different logins", func(th *Throttle) { th.LoginLimit, th.AddrLimit = 100, 3 }, steps(
			fail(0, "alice", "10.0.0.1"),
			fail(0, "bob", "10.0.0.1"),
			wait(0, "carol", "10.0.0.1", 0),
			fail(0, "carol", "10.0.0.1"),
			wait(0, "dave", "10.0.0.1", m),
			wait(0, "dave", "10.0.0.2", 0),
		)},
		{"the longer of the login and address locks applies", func(th *Throttle) { th.LoginLimit, th.AddrLimit = 1, 2 }, steps(
			fail(0, "alice", "10.0.0.1"),
			fail(m, "alice", "10.0.0.1"), // login: 2nd failure, lock 2m; address: 1m
			wait(m, "alice", "10.0.0.1", 2*m),
			wait(m, "bob", "10.0.0.1", m),
		)},
		{"each failure past the limit doubles the lock", nil, steps(
			fails(3, 0, "alice", "10.0.0.1"),
			wait(0, "alice", "10.0.0.1", m),
			fail(m, "alice", "10.0.0.1"),
			wait(m, "alice", "10.0.0.1", 2*m),
			fail(3*m, "alice", "10.0.0.1"),
			wait(3*m, "alice", "10.0.0.1", 4*m),
		)},
		{"the login's delay is capped at MaxLoginDelay", func(th *Throttle) { th.LoginLimit, th.MaxLoginDelay = 1, 5*m }, steps(
			fail(0, "alice", "10.0.0.1"),
			wait(0, "alice", "10.0.0.1", m),
			fail(m, "alice", "10.0.0.1"),
			wait(m, "alice", "10.0.0.1", 2*m),
			fail(3*m, "alice", "10.0.0.1"),
			wait(3*m, "alice", "10.0.0.1", 4*m),
			fail(7*m, "alice", "10.0.0.1"), // 8m, capped
			wait(7*m, "alice", "10.0.0.1", 5*m),
		)},
		{"many failures never overflow the delay past MaxLoginDelay", func(th *Throttle) { th.LoginLimit, th.Window = 1, 1000*time.Hour }, steps(
			fails(100, 0, "alice", "10.0.0.1"),
			wait(0, "alice", "10.0.0.1", time.Hour),
		)},
		{"Succeed resets the login but not the address", func(th *Throttle) { th.LoginLimit, th.AddrLimit = 3, 5 }, steps(
			fails(2, 0, "alice", "10.0.0.1"),
			succeed("alice"),
			fails(2, 0, "alice", "10.0.0.1"), // login at 2 of 3; address at 4 of 5
			wait(0, "alice", "10.0.0.2", 0),
			wait(0, "bob", "10.0.0.1", 0),
			fail(0, "bob", "10.0.0.1"), // address at 5: locked for everyone
			wait(0, "carol", "10.0.0.1", m),
			wait(0, "alice", "10.0.0.2", 0),
		)},
		{"Succeed of one login leaves other logins counted", nil, steps(
			fails(2, 0, "alice", "10.0.0.1"),
			fails(2, 0, "bob", "10.0.0.2"),
			succeed("alice"),
			fail(0, "bob", "10.0.0.2"),
			wait(0, "bob", "10.0.0.3", m),
		)},
		{"failures older than Window are forgotten", func(th *Throttle) { th.Window = 10 * m }, steps(
			fails(2, 0, "alice", "10.0.0.1"),
			fails(2, 10*m+time.Second, "alice", "10.0.0.1"),
			wait(10*m+time.Second, "alice", "10.0.0.1", 0),
		)},
		{"a failure exactly Window after the first still counts", func(th *Throttle) { th.Window = 10 * m }, steps(
			fails(2, 0, "alice", "10.0.0.1"),
			fail(10*m, "alice", "10.0.0.1"),
			wait(10*m, "alice", "10.0.0.1", m),
		)},
		{"address failures older than Window are forgotten", func(th *Throttle) { th.LoginLimit, th.AddrLimit, th.Window = 100, 3, 10*m }, steps(
			fail(0, "alice", "10.0.0.1"),
			fail(0, "bob", "10.0.0.1"),
			fail(11*m, "carol", "10.0.0.1"),
			wait(11*m, "dave", "10.0.0.1", 0),
		)},
		{"the address lock is capped at MaxLock", func(th *Throttle) { th.LoginLimit, th.AddrLimit, th.MaxLock = 100, 1, 3*m }, steps(
			fail(0, "alice", "10.0.0.1"),
			wait(0, "bob", "10.0.0.1", m),
			fail(m, "bob", "10.0.0.1"),
			wait(m, "carol", "10.0.0.1", 2*m),
			fail(3*m, "carol", "10.0.0.1"), // 4m, capped
			wait(3*m, "dave", "10.0.0.1", 3*m),
		)},
		{"the delay and the lock each have their own base", func(th *Throttle) { th.LoginLimit, th.AddrLimit, th.LoginDelay, th.BaseLock = 1, 1, time.Second, m }, steps(
			fail(0, "alice", "10.0.0.1"),
			wait(0, "alice", "10.0.0.2", time.Second),
			wait(0, "bob", "10.0.0.1", m),
		)},
		{"a delay longer than Window is not cut short", func(th *Throttle) { th.LoginLimit, th.Window, th.LoginDelay = 1, m, 10*m }, steps(
			fail(0, "alice", "10.0.0.1"),
			wait(5*m, "alice", "10.0.0.1", 5*m),
			wait(10*m, "alice", "10.0.0.1", 0),
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := testThrottle(t, tt.adjust)
			for i, s := range tt.steps {
				now := throttleEpoch.Add(s.at)
				switch {
				case s.fail:
					th.Fail(s.login, s.addr, now)
				case s.ok:
					th.Succeed(s.login)
				default:
					if got := th.Wait(s.login, s.addr, now); got != s.wait {
						t.Fatalf("step %d: Wait(%q, %q) at +%v = %v, want %v", i, s.login, s.addr, s.at, got, s.wait)
					}
				}
			}
		})
	}
}

func TestThrottleMaxKeys(t *testing.T) {
	const maxKeys = 16
	tests := []struct {
		name string
		run  func(t *testing.T, th *Throttle)
	}{
		{"expired keys are pruned first when the map is full", func(t *testing.T, th *Throttle) {
			th.MaxKeys = 4
			th.Fail("old", "10.0.0.1", throttleEpoch)
			later := throttleEpoch.Add(th.Window + time.Second)
			th.Fail("b", "10.0.0.2", later)
			th.Fail("c", "10.0.0.3", later)
			for _, k := range []string{loginKey("old"), addrKey("10.0.0.1")} {
				if th.keys[k] != nil {
					t.Errorf("expired key %q was kept", k)
				}
			}
			for _, k := range []string{loginKey("b"), addrKey("10.0.0.2"), loginKey("c"), addrKey("10.0.0.3")} {
				if th.keys[k] == nil {
					t.Errorf("live key %q was pruned", k)
				}
			}
		}},
		{"expired keys do not accumulate past MaxKeys", func(t *testing.T, th *Throttle) {
			for i := range 10 * maxKeys {
				th.Fail(fmt.Sprint("user", i), fmt.Sprint("10.0.", i/256, ".", i%256), throttleEpoch.Add(time.Duration(i)*th.Window))
				if len(th.keys) > maxKeys {
					t.Fatalf("after %d failures %d keys are tracked, MaxKeys is %d", i+1, len(th.keys), maxKeys)
				}
			}
		}},
		{"a flood of fresh keys stays within MaxKeys", func(t *testing.T, th *Throttle) {
			for i := range 10 * maxKeys {
				th.Fail(fmt.Sprint("user", i), fmt.Sprint("10.0.", i/256, ".", i%256), throttleEpoch)
				if len(th.keys) > maxKeys {
					t.Fatalf("after %d failures %d keys are tracked, MaxKeys is %d", i+1, len(th.keys), maxKeys)
				}
			}
		}},
		{"a flood of fresh keys does not lift a lock", func(t *testing.T, th *Throttle) {
			for range th.LoginLimit {
				th.Fail("victim", "10.9.9.9", throttleEpoch)
			}
			if th.Wait("victim", "10.1.1.1", throttleEpoch) == 0 {
				t.Fatal("victim is not locked")
			}
			for i := range 10 * maxKeys {
				th.Fail(fmt.Sprint("user", i), fmt.Sprint("10.0.", i/256, ".", i%256), throttleEpoch)
			}
			if len(th.keys) > maxKeys {
				t.Errorf("%d keys tracked, MaxKeys is %d", len(th.keys), maxKeys)
			}
			if th.Wait("victim", "10.1.1.1", throttleEpoch) == 0 {
				t.Error("the flood lifted the victim's lock")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := testThrottle(t, func(th *Throttle) { th.MaxKeys = maxKeys })
			tt.run(t, th)
		})
	}
}

func TestNewThrottleDefaults(t *testing.T) {
	th := NewThrottle()
	if th.LoginLimit != 5 || th.AddrLimit != 20 || th.Window != 15*time.Minute || th.LoginDelay != time.Second || th.MaxLoginDelay != 30*time.Second ||
		th.BaseLock != time.Minute || th.MaxLock != time.Hour || th.MaxKeys <= 0 {
		t.Errorf("NewThrottle() = %+v, want the documented defaults", th)
	}
}
