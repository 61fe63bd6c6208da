package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Dialer resolves and connects, applying a policy to every address it is
// about to connect to. Its DialTimeout has the signature of fasthttp's
// DialFuncWithTimeout. The zero value dials without a policy over the
// system resolver, IPv4 and IPv6 alike.
type Dialer struct {
	// Policy returns the policy in force, read once per dial; nil (or a nil
	// result) dials without one.
	Policy func() *Policy
	// Lookup resolves a host name; nil uses net.DefaultResolver.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// Connect opens a TCP connection to an "ip:port" address the policy
	// allowed; nil uses a net.Dialer.
	Connect func(ctx context.Context, address string) (net.Conn, error)
	// OnDeny, when set, is told of every refused dial (for the log).
	OnDeny func(*Denied)
}

var netDialer net.Dialer

// DialTimeout connects to addr ("host:port", IPv6 hosts in brackets)
// within timeout. With a policy, a refused host or a host none of whose
// addresses passes fails with a *Denied error; addresses that fail are
// skipped; the connection is made to a checked address, never by name.
func (d *Dialer) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: invalid port %q", addr, portStr)
	}
	var pol *Policy
	if d.Policy != nil {
		pol = d.Policy()
	}
	deadline := time.Now().Add(timeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	h := NormalizeHost(host)
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a} // keeps a zone, which connecting to link-local needs
	} else if a, ok := ParseIP(h); ok {
		addrs = []netip.Addr{a} // "169.254.169.254." and the like
	} else {
		if pol != nil {
			if den := pol.CheckName(h); den != nil {
				return nil, d.denied(den)
			}
		}
		if addrs, err = d.lookup(ctx, h); err != nil {
			return nil, err
		}
	}
	allowed := addrs
	if pol != nil {
		allowed = make([]netip.Addr, 0, len(addrs))
		var first *Denied
		for _, a := range addrs {
			if den := pol.CheckAddr(h, a); den != nil {
				if first == nil {
					first = den
				}
				continue
			}
			allowed = append(allowed, a)
		}
		if len(allowed) == 0 {
			if first == nil {
				first = &Denied{Host: h, Why: "the name has no address"}
			}
			return nil, d.denied(first)
		}
	}
	if len(allowed) == 0 {
		return nil, &net.DNSError{Err: "no address", Name: h, IsNotFound: true}
	}
	var firstErr error
	for i, a := range allowed {
		now := time.Now()
		if !now.Before(deadline) {
			break
		}
		cctx, ccancel := context.WithDeadline(ctx, partialDeadline(now, deadline, len(allowed)-i))
		conn, err := d.connect(cctx, netip.AddrPortFrom(a, uint16(port)).String())
		ccancel()
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}
	}
	return nil, firstErr
}

func (d *Dialer) denied(den *Denied) error {
	if d.OnDeny != nil {
		d.OnDeny(den)
	}
	return den
}

func (d *Dialer) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if d.Lookup != nil {
		return d.Lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

func (d *Dialer) connect(ctx context.Context, address string) (net.Conn, error) {
	if d.Connect != nil {
		return d.Connect(ctx, address)
	}
	return netDialer.DialContext(ctx, "tcp", address)
}

// partialDeadline shares the time left among the addresses left to try,
// at least 2 s each when there is that much (as net.Dialer does).
func partialDeadline(now, deadline time.Time, left int) time.Time {
	remaining := deadline.Sub(now)
	each := remaining / time.Duration(left)
	const saneMinimum = 2 * time.Second
	if each < saneMinimum {
		each = min(remaining, saneMinimum)
	}
	return now.Add(each)
}

// IsDenied returns the *Denied in err's chain.
func IsDenied(err error) (*Denied, bool) {
	var d *Denied
	ok := errors.As(err, &d)
	return d, ok
}
