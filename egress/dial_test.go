package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a Dialer whose DNS answers are scripted and whose
// connections are recorded instead of made.
type recorder struct {
	mu       sync.Mutex
	answers  [][]netip.Addr // one per lookup, the last repeats
	lookups  int
	connects []string
}

func (r *recorder) dialer(p *Policy) *Dialer {
	return &Dialer{
		Policy: func() *Policy { return p },
		Lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			a := r.answers[min(r.lookups, len(r.answers)-1)]
			r.lookups++
			return a, nil
		},
		Connect: func(_ context.Context, address string) (net.Conn, error) {
			r.mu.Lock()
			r.connects = append(r.connects, address)
			r.mu.Unlock()
			c1, c2 := net.Pipe()
			_ = c2.Close()
			return c1, nil
		},
	}
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, x := range s {
		out[i] = netip.MustParseAddr(x)
	}
	return out
}

func TestDialChecksEveryResolvedAddress(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pol     *Policy
		answer  []netip.Addr
		connect []string // "" entry: refused with *Denied
	}{
		{"metadata answer", New(nil, nil, nil), addrs("169.254.169.254"), nil},
		{"mapped metadata answer", New(nil, nil, nil), addrs("::ffff:169.254.169.254"), nil},
		{"loopback answer", New(nil, nil, nil), addrs("127.0.0.1", "::1"), nil},
		{"mixed answer connects to the allowed one only", New(nil, nil, nil), addrs("169.254.169.254", "93.184.215.14"), []string{"93.184.215.14:443"}},
		{"public v6", New(nil, nil, nil), addrs("2606:4700::1"), []string{"[2606:4700::1]:443"}},
		{"allowed address", New([]string{"127.0.0.1"}, nil, nil), addrs("::1", "127.0.0.1"), []string{"127.0.0.1:443"}},
		{"no policy", nil, addrs("127.0.0.1"), []string{"127.0.0.1:443"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{answers: [][]netip.Addr{c.answer}}
			conn, err := r.dialer(c.pol).DialTimeout("api.example.com:443", time.Second)
			if c.connect == nil {
				if _, ok := IsDenied(err); !ok || conn != nil {
					t.Fatalf("dial: %v, want *Denied", err)
				}
				if len(r.connects) != 0 {
					t.Fatalf("connected to %v", r.connects)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_ = conn.Close()
			if strings.Join(r.connects, ",") != strings.Join(c.connect, ",") {
				t.Fatalf("connected to %v, want %v", r.connects, c.connect)
			}
		})
	}
}

// TestDialRebinding: the address checked is the address connected to, so
// an answer that changes between two dials (or between a check and a
// connect) never reaches a denied address.
func TestDialRebinding(t *testing.T) {
	t.Parallel()
	r := &recorder{answers: [][]netip.Addr{addrs("93.184.215.14"), addrs("169.254.169.254"), addrs("93.184.215.14")}}
	d := r.dialer(New(nil, nil, nil))
	for i, wantOK := range []bool{true, false, true} {
		conn, err := d.DialTimeout("rebind.example:80", time.Second)
		if (err == nil) != wantOK {
			t.Fatalf("dial %d: %v", i, err)
		}
		if conn != nil {
			_ = conn.Close()
		}
	}
	for _, a := range r.connects {
		if a != "93.184.215.14:80" {
			t.Fatalf("connected to %s", a)
		}
	}
	if r.lookups != 3 {
		t.Fatalf("%d lookups, want one per dial", r.lookups)
	}
}

func TestDialRefusesByName(t *testing.T) {
	t.Parallel()
	r := &recorder{answers: [][]netip.Addr{addrs("93.184.215.14")}}
	var logged []*Denied
	d := r.dialer(New(nil, []string{"*.corp.example"}, nil))
	d.OnDeny = func(den *Denied) { logged = append(logged, den) }
	for _, host := range []string{"metadata.google.internal:80", "METADATA.GOOGLE.INTERNAL.:80", "llm.corp.example:443", "2852039166:80", "0xa9.0xfe.0xa9.0xfe:80"} {
		if _, err := d.DialTimeout(host, time.Second); err == nil {
			t.Errorf("%s: dialled", host)
		} else if _, ok := IsDenied(err); !ok {
			t.Errorf("%s: %v, want *Denied", host, err)
		}
	}
	if r.lookups != 0 || len(r.connects) != 0 {
		t.Fatalf("a refused name was resolved or connected: %d %v", r.lookups, r.connects)
	}
	if len(logged) != 5 {
		t.Fatalf("OnDeny saw %d refusals", len(logged))
	}
}

func listen(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("this machine cannot listen on %s (%v); the test needs it", addr, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// TestDialIPv6Literal: an IPv6 literal is dialled over IPv6.
func TestDialIPv6Literal(t *testing.T) {
	t.Parallel()
	ln := listen(t, "tcp6", "[::1]:0")
	go func() {
		if c, err := ln.Accept(); err == nil {
			_, _ = c.Write([]byte("hi"))
			_ = c.Close()
		}
	}()
	for _, pol := range []*Policy{nil, New([]string{"::1"}, nil, nil)} {
		d := &Dialer{Policy: func() *Policy { return pol }}
		conn, err := d.DialTimeout(ln.Addr().String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if conn.RemoteAddr().(*net.TCPAddr).IP.To4() != nil {
			t.Fatalf("connected to %v", conn.RemoteAddr())
		}
		_ = conn.Close()
	}
	d := &Dialer{Policy: func() *Policy { return New(nil, nil, nil) }}
	if _, err := d.DialTimeout(ln.Addr().String(), time.Second); err == nil {
		t.Fatal("::1 dialled without being allowed")
	}
}

// TestDialLocalhostRefused: a real name that resolves to loopback is
// refused before any connection reaches the listener.
func TestDialLocalhostRefused(t *testing.T) {
	t.Parallel()
	ln := listen(t, "tcp4", "127.0.0.1:0")
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			_ = c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	d := &Dialer{Policy: func() *Policy { return New(nil, nil, nil) }}
	_, err := d.DialTimeout("localhost:"+port, time.Second)
	den, ok := IsDenied(err)
	if !ok {
		t.Fatalf("%v, want *Denied", err)
	}
	if strings.Contains(den.Public(), "127.0.0.1") || !strings.Contains(den.Error(), "127.0.0.1") && !strings.Contains(den.Error(), "::1") {
		t.Fatalf("public %q / log %q", den.Public(), den.Error())
	}
	select {
	case <-accepted:
		t.Fatal("the listener was reached")
	case <-time.After(50 * time.Millisecond):
	}
	d = &Dialer{Policy: func() *Policy { return New([]string{"localhost"}, nil, nil) }}
	conn, err := d.DialTimeout("localhost:"+port, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
}

func TestDialTimeoutIsANetTimeout(t *testing.T) {
	t.Parallel()
	d := &Dialer{Connect: func(ctx context.Context, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
	}}
	start := time.Now()
	_, err := d.DialTimeout("192.0.2.1:80", 50*time.Millisecond)
	if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
		t.Fatalf("%v, want a timeout", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("the timeout was not honoured")
	}
}

// BenchmarkDialPolicy is the policy's cost on a new connection (resolution
// and connection faked): the whole of what a team deployment adds per dial.
func BenchmarkDialPolicy(b *testing.B) {
	p := New([]string{"*", "127.0.0.1"}, []string{"10.0.0.0/8"}, HostAddrs())
	c1, _ := net.Pipe()
	answer := addrs("93.184.215.14", "2606:4700::1")
	d := &Dialer{
		Policy:  func() *Policy { return p },
		Lookup:  func(context.Context, string) ([]netip.Addr, error) { return answer, nil },
		Connect: func(context.Context, string) (net.Conn, error) { return c1, nil },
	}
	for b.Loop() {
		if _, err := d.DialTimeout("api.example.com:443", time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
