package egress

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Reference classification, written independently of policy.go: the
// address ranges that must never be reached by default.
var refMetadata = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("100.100.100.200/32"),
}

// refIsMetadata reports an address that reaches a link-local or metadata
// address: directly, IPv4-mapped, IPv4-compatible, through NAT64 or 6to4.
func refIsMetadata(a netip.Addr) bool {
	a = a.WithZone("")
	cands := []netip.Addr{a, a.Unmap()}
	if a.Is6() {
		b := a.As16()
		last4 := netip.AddrFrom4([4]byte(b[12:16]))
		if netip.MustParsePrefix("::/96").Contains(a) || netip.MustParsePrefix("64:ff9b::/96").Contains(a) {
			cands = append(cands, last4)
		}
		if netip.MustParsePrefix("2002::/16").Contains(a) {
			cands = append(cands, netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	for _, c := range cands {
		for _, p := range refMetadata {
			if p.Contains(c) {
				return true
			}
		}
	}
	return false
}

// refReadings are the addresses a liberal resolver could read host as:
// brackets, zones, trailing dots and case ignored; IPv6 and IPv4 literals;
// inet_aton forms (1 to 4 parts, each decimal, octal or hex).
func refReadings(host string) []netip.Addr {
	h := strings.TrimRight(strings.ToLower(strings.Trim(host, "[]")), ".")
	if i := strings.IndexByte(h, '%'); i >= 0 {
		h = h[:i]
	}
	var out []netip.Addr
	if a, err := netip.ParseAddr(h); err == nil {
		out = append(out, a)
	}
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return out
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base, s := 10, p
		switch {
		case strings.HasPrefix(p, "0x"):
			base, s = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, s = 8, p[1:]
		}
		if s == "" && base != 16 {
			return out
		}
		if s == "" {
			s = "0"
		}
		v, err := strconv.ParseUint(s, base, 32)
		if err != nil {
			return out
		}
		vals[i] = v
	}
	var v uint64
	switch len(vals) {
	case 1:
		v = vals[0]
	case 2:
		v = vals[0]<<24 | vals[1]&0xffffff
	case 3:
		v = vals[0]<<24 | (vals[1]&0xff)<<16 | vals[2]&0xffff
	case 4:
		v = (vals[0]&0xff)<<24 | (vals[1]&0xff)<<16 | (vals[2]&0xff)<<8 | vals[3]&0xff
	}
	return append(out, netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}))
}

// fuzzPolicies are operator settings that name no link-local or metadata
// address explicitly (wide CIDRs and wildcards included).
var fuzzPolicies = []*Policy{
	New(nil, nil, nil),
	New([]string{"*"}, nil, nil),
	New([]string{"*", "localhost", "127.0.0.1", "::1", "*.example.com", "metadata.example.com"}, []string{"10.0.0.0/8"}, nil),
	New([]string{"0.0.0.0/0", "::/0", "169.254.0.0/15", "fe80::/9", "fd00::/8", "100.64.0.0/10"}, nil, nil),
	New([]string{".google.internal", "*.internal", ".goog", "*.azure.com"}, nil, nil),
}

// FuzzAPIBasePolicy: under any policy that does not name them, link-local
// and metadata addresses are never allowed, however the api_base spells
// them, neither by the API-time check nor at dial time, where the
// connection is made only to a checked address whatever DNS answers.
func FuzzAPIBasePolicy(f *testing.F) {
	for _, s := range []string{
		"http://169.254.169.254/latest/meta-data", "http://169.254.169.254.:80/", "http://[::ffff:169.254.169.254]/",
		"http://[::ffff:a9fe:a9fe]/", "http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "http://[::169.254.169.254]/",
		"http://[fe80::1%25eth0]:8080/", "http://[FE80::A9FE:A9FE]/", "http://[fd00:ec2::254]/", "http://[FD00:EC2:0::254]/",
		"http://100.100.100.200/", "http://2852039166/", "http://0xa9fea9fe/", "http://0xa9.0xfe.0xa9.0xfe/",
		"http://0251.0376.0251.0376/", "http://169.254.43518/", "http://169.16689662/", "http://METADATA.GOOGLE.INTERNAL./",
		"http://metadata/", "http://metadata.google.internal./computeMetadata/v1", "http://[64:ff9b::a9fe:a9fe]/",
		"http://[2002:a9fe:a9fe::]/", "https://api.openai.com/v1", "http://user@169.254.169.254@evil.com/",
		"http://evil.com\\@169.254.169.254/", "http://localhost:8000/v1", "http://[::1]:8000/v1",
		"http://0XA9.0XFE.0XA9.0XFE/", "http://169.254.169.0254/", "http://[::FFFF:169.254.169.254]:80/",
		"http://[fe80::a9fe:a9fe%25ETH0]/", "http://169.254.169.254../",
	} {
		f.Add(s, []byte{169, 254, 169, 254}, uint8(0))
		f.Add(s, []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint8(2))
		f.Add(s, []byte{93, 184, 215, 14}, uint8(3))
	}
	f.Fuzz(func(t *testing.T, base string, answer []byte, which uint8) {
		pol := fuzzPolicies[int(which)%len(fuzzPolicies)]

		// API time: an api_base whose host reads as a metadata address, or
		// is a metadata name, is refused.
		if u, err := url.Parse(base); err == nil && u.Host != "" {
			host := u.Hostname()
			bad := false
			for _, a := range refReadings(host) {
				bad = bad || refIsMetadata(a)
			}
			name := strings.TrimRight(strings.ToLower(host), ".")
			for _, m := range MetadataNames {
				bad = bad || name == m
			}
			if bad && pol.CheckURL(base) == nil {
				t.Fatalf("CheckURL(%q) allowed a metadata host under %q", base, pol.key)
			}
		}

		// Dial time: whatever the URL parser of the HTTP client reads as the
		// host, and whatever DNS answers, no connection to a metadata
		// address is made.
		var uri fasthttp.URI
		if uri.Parse(nil, []byte(base)) != nil || len(uri.Host()) == 0 {
			return
		}
		var dnsAnswer []netip.Addr
		if a, ok := netip.AddrFromSlice(answer); ok {
			dnsAnswer = append(dnsAnswer, a, netip.MustParseAddr("93.184.215.14"))
		}
		d := &Dialer{
			Policy: func() *Policy { return pol },
			Lookup: func(context.Context, string) ([]netip.Addr, error) { return dnsAnswer, nil },
			Connect: func(_ context.Context, address string) (net.Conn, error) {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					t.Fatalf("connect by name %q", address)
				}
				if refIsMetadata(ap.Addr()) {
					t.Fatalf("%q (answer %v) connected to %s under %q", base, dnsAnswer, address, pol.key)
				}
				return nil, net.ErrClosed
			},
		}
		_, _ = d.DialTimeout(fasthttp.AddMissingPort(string(uri.Host()), string(uri.Scheme()) == "https"), 100*time.Millisecond)
	})
}
