package egress

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The settings a refusal points the operator at.
const (
	AllowSetting = "general_settings.team_api_base_allow"
	DenySetting  = "general_settings.team_api_base_deny"
)

// Class is why an address is restricted.
type Class uint8

// Address classes, from unrestricted to the most restricted.
const (
	Public      Class = iota
	Own               // one of the gateway host's own addresses
	Unspecified       // 0.0.0.0/8, ::
	Loopback          // 127.0.0.0/8, ::1
	Metadata          // link-local and cloud metadata
)

func (c Class) String() string {
	switch c {
	case Own:
		return "one of the gateway host's own addresses"
	case Unspecified:
		return "an unspecified address"
	case Loopback:
		return "a loopback address"
	case Metadata:
		return "a link-local or cloud metadata address"
	}
	return "a public address"
}

type restricted struct {
	prefix netip.Prefix
	class  Class
}

var restrictedRanges = []restricted{
	{netip.MustParsePrefix("169.254.0.0/16"), Metadata}, // link-local, incl. 169.254.169.254 (AWS, GCP, Azure, ...)
	{netip.MustParsePrefix("fe80::/10"), Metadata},
	{netip.MustParsePrefix("fd00:ec2::254/128"), Metadata},  // AWS IMDS over IPv6
	{netip.MustParsePrefix("100.100.100.200/32"), Metadata}, // Alibaba Cloud metadata
	{netip.MustParsePrefix("127.0.0.0/8"), Loopback},
	{netip.MustParsePrefix("::1/128"), Loopback},
	{netip.MustParsePrefix("0.0.0.0/8"), Unspecified},
	{netip.MustParsePrefix("::/128"), Unspecified},
}

// MetadataNames are host names of cloud metadata services.
var MetadataNames = []string{
	"metadata.google.internal", "metadata.goog", "metadata", "metadata.azure.com",
	"instance-data", "instance-data.ec2.internal",
}

// loopbackNames resolve to loopback by definition (RFC 6761): CheckURL
// judges them by these addresses without asking DNS.
var loopbackAddrs = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}

func isLoopbackName(h string) bool { return h == "localhost" || strings.HasSuffix(h, ".localhost") }

// entry is one compiled allow or deny entry.
type entry struct {
	raw    string
	prefix netip.Prefix // address entries
	name   string       // exact host name
	suffix string       // ".example.com" of "*.example.com" / ".example.com"
	apex   bool         // ".example.com": the domain itself matches too
	any    bool         // "*"
}

// ParseEntry checks one team_api_base_allow / team_api_base_deny entry.
func ParseEntry(s string) error {
	_, err := parseEntry(s)
	return err
}

func parseEntry(s string) (entry, error) {
	raw := s
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	e := entry{raw: raw}
	switch {
	case s == "":
		return e, fmt.Errorf("an empty entry; write an IP address, a CIDR, a host name, *.domain or *")
	case s == "*":
		e.any = true
		return e, nil
	case strings.Contains(s, "://"):
		return e, fmt.Errorf("%q is a URL; write only its host (or an IP address, a CIDR, *.domain)", raw)
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return e, fmt.Errorf("%q is not a CIDR; write e.g. 10.0.0.0/8 or fd00::/8", raw)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		e.prefix = p.Masked()
		return e, nil
	}
	if a, ok := ParseIP(s); ok {
		e.prefix = netip.PrefixFrom(a, a.BitLen())
		return e, nil
	}
	if strings.ContainsAny(s, ":[]%@ \t") {
		return e, fmt.Errorf("%q is neither an IP address, a CIDR nor a host name (no scheme, port or path)", raw)
	}
	if looksNumeric(s) {
		return e, fmt.Errorf("%q is an ambiguous numeric address; write the IP address in dotted or IPv6 form", raw)
	}
	switch {
	case strings.HasPrefix(s, "*."):
		e.suffix = s[1:]
	case strings.HasPrefix(s, "."):
		e.suffix, e.apex = s, true
	default:
		if strings.Contains(s, "*") {
			return e, fmt.Errorf("%q: a wildcard is only allowed as \"*\" or a leading \"*.\"", raw)
		}
		e.name = s
	}
	return e, nil
}

func (e *entry) matchName(h string) bool {
	switch {
	case e.any:
		return true
	case e.name != "":
		return h == e.name
	case e.suffix != "":
		return strings.HasSuffix(h, e.suffix) || (e.apex && h == e.suffix[1:])
	}
	return false
}

// Policy is a compiled api_base policy for team deployments. The zero value
// and nil are not valid; use New. A Policy is immutable.
type Policy struct {
	allow, deny []entry
	own         []netip.Addr
	key         string
}

// New compiles the operator's allow and deny lists; own are the gateway
// host's addresses (HostAddrs). Invalid entries (see ParseEntry; the
// configuration refuses them) are skipped.
func New(allow, deny []string, own []netip.Addr) *Policy {
	p := &Policy{}
	var key strings.Builder
	for _, s := range allow {
		if e, err := parseEntry(s); err == nil {
			p.allow = append(p.allow, e)
			key.WriteString("+" + s + "\n")
		}
	}
	for _, s := range deny {
		if e, err := parseEntry(s); err == nil {
			p.deny = append(p.deny, e)
			key.WriteString("-" + s + "\n")
		}
	}
	for _, a := range own {
		a = a.Unmap().WithZone("")
		if a.IsValid() {
			p.own = append(p.own, a)
			key.WriteString("=" + a.String() + "\n")
		}
	}
	p.key = key.String()
	return p
}

// Equal reports whether p and q decide the same way.
func (p *Policy) Equal(q *Policy) bool {
	if p == nil || q == nil {
		return p == q
	}
	return p.key == q.key
}

var hostAddrs struct {
	sync.Mutex
	at    time.Time
	addrs []netip.Addr
}

// HostAddrs returns the addresses of the gateway host's interfaces (and so
// every address it can listen on), read at most once a minute.
func HostAddrs() []netip.Addr {
	hostAddrs.Lock()
	defer hostAddrs.Unlock()
	if time.Since(hostAddrs.at) < time.Minute && hostAddrs.at != (time.Time{}) {
		return hostAddrs.addrs
	}
	var out []netip.Addr
	if ifs, err := net.InterfaceAddrs(); err == nil {
		for _, ia := range ifs {
			if n, ok := ia.(*net.IPNet); ok {
				if a, ok := netip.AddrFromSlice(n.IP); ok {
					out = append(out, a.Unmap())
				}
			}
		}
	}
	hostAddrs.at, hostAddrs.addrs = time.Now(), out
	return out
}

// Denied is a connection the policy refused.
type Denied struct {
	Host string     // the host as written in api_base (normalized)
	Addr netip.Addr // the refused address; invalid when the name itself was refused
	// Why, for people: "a loopback address", "not in general_settings.team_api_base_allow", ...
	Why string
}

// Error names the address: for logs only.
func (d *Denied) Error() string {
	s := "egress policy refused team api_base host " + d.Host
	if d.Addr.IsValid() && d.Addr.String() != d.Host {
		s += " at " + d.Addr.String()
	}
	return s + ": " + d.Why
}

// Public says why without naming an address, for clients.
func (d *Denied) Public() string {
	return "its api_base is not allowed for team deployments (" + d.Why + "); ask the operator to name it in " +
		AllowSetting + ", or point api_base at a public endpoint"
}

// NormalizeHost lowers a host name and drops a trailing dot and IPv6
// brackets; it leaves a zone on an IPv6 literal.
func NormalizeHost(host string) string {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.TrimRight(strings.ToLower(host), ".")
}

// ParseIP parses a literal IP host (an IPv6 zone allowed) into its
// canonical form: unmapped, no zone.
func ParseIP(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// validName reports a DNS host name: letters, digits, '-', '_' and
// non-empty dot-separated labels.
func validName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			label++
			if label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return label > 0
}

// looksNumeric reports a host whose last label is numeric (decimal, octal
// or 0x-hex): DNS names never end so, but some resolvers read such hosts as
// IPv4 addresses ("2852039166", "0xa9.0xfe.0xa9.0xfe").
func looksNumeric(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	s := strings.TrimPrefix(last, "0x")
	if s == "" {
		return true
	}
	hex := last != s
	for _, c := range s {
		if !(c >= '0' && c <= '9') && !(hex && (c >= 'a' && c <= 'f')) {
			return false
		}
	}
	return true
}

// views are the addresses a reaches: a itself (unmapped, no zone) and any
// IPv4 address embedded in it by a translation or tunnelling scheme.
func views(a netip.Addr) []netip.Addr {
	a = a.WithZone("").Unmap()
	out := []netip.Addr{a}
	if !a.Is6() {
		return out
	}
	b := a.As16()
	v4 := func(x []byte) netip.Addr { return netip.AddrFrom4([4]byte{x[0], x[1], x[2], x[3]}) }
	switch {
	case b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0 &&
		b[8] == 0 && b[9] == 0 && b[10] == 0 && b[11] == 0 && (b[12]|b[13]|b[14]) != 0: // IPv4-compatible ::a.b.c.d (not :: or ::1)
		out = append(out, v4(b[12:]))
	case b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b: // NAT64 64:ff9b::/96 and 64:ff9b:1::/48
		out = append(out, v4(b[12:]))
	case b[0] == 0x20 && b[1] == 0x02: // 6to4 2002:a.b.c.d::/48
		out = append(out, v4(b[2:]))
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0: // Teredo: server, and the client XOR 0xff
		out = append(out, v4(b[4:]), netip.AddrFrom4([4]byte{b[12] ^ 0xff, b[13] ^ 0xff, b[14] ^ 0xff, b[15] ^ 0xff}))
	}
	return out
}

// Classify returns the most restricted class of a (in any of its views).
func (p *Policy) Classify(a netip.Addr) Class {
	c, _, _ := p.classify(a)
	return c
}

// classify returns the most restricted class among a's views, the view and
// the restricted range it falls in.
func (p *Policy) classify(a netip.Addr) (Class, netip.Addr, netip.Prefix) {
	best, bv, br := Public, netip.Addr{}, netip.Prefix{}
	for _, v := range views(a) {
		for _, r := range restrictedRanges {
			if r.class > best && r.prefix.Contains(v) {
				best, bv, br = r.class, v, r.prefix
			}
		}
		if best < Own {
			for _, o := range p.own {
				if o == v {
					best, bv, br = Own, v, netip.PrefixFrom(v, v.BitLen())
				}
			}
		}
	}
	return best, bv, br
}

// lifted reports whether an allow address entry names v explicitly: it
// contains v and lies inside the restricted range r.
func (p *Policy) lifted(v netip.Addr, r netip.Prefix) bool {
	for i := range p.allow {
		e := &p.allow[i]
		if e.prefix.IsValid() && e.prefix.Bits() >= r.Bits() && e.prefix.Contains(v) {
			return true
		}
	}
	return false
}

func (p *Policy) allowsName(h string, exact bool) bool {
	for i := range p.allow {
		e := &p.allow[i]
		if exact {
			if e.name != "" && e.name == h {
				return true
			}
		} else if e.matchName(h) {
			return true
		}
	}
	return false
}

func (p *Policy) hasAllowAddrs() bool {
	for i := range p.allow {
		if p.allow[i].prefix.IsValid() {
			return true
		}
	}
	return false
}

// CheckName applies the rules that depend on a host name alone (h
// normalized, not an IP literal). A nil result means the name may be
// resolved; each address must still pass CheckAddr.
func (p *Policy) CheckName(h string) *Denied {
	if _, ok := ParseIP(h); ok {
		return nil
	}
	deny := func(why string) *Denied { return &Denied{Host: h, Why: why} }
	if !validName(h) {
		return deny("not a valid host name")
	}
	if looksNumeric(h) {
		return deny("an ambiguous numeric address; write the IP address in dotted or IPv6 form")
	}
	for i := range p.deny {
		if p.deny[i].matchName(h) {
			return deny("named in " + DenySetting)
		}
	}
	for _, m := range MetadataNames {
		if h == m || strings.HasSuffix(h, "."+m) && m != "metadata" {
			if !p.allowsName(h, true) {
				return deny("a cloud metadata host")
			}
		}
	}
	return nil
}

// CheckAddr applies the policy to host h (normalized; a name or an IP
// literal) reached at address a.
func (p *Policy) CheckAddr(h string, a netip.Addr) *Denied {
	_, literal := ParseIP(h)
	isName := !literal
	deny := func(why string) *Denied { return &Denied{Host: h, Addr: a, Why: why} }
	vs := views(a)
	for i := range p.deny {
		e := &p.deny[i]
		if e.any || isName && e.matchName(h) {
			return deny("named in " + DenySetting)
		}
		if e.prefix.IsValid() {
			for _, v := range vs {
				if e.prefix.Contains(v) {
					return deny("named in " + DenySetting)
				}
			}
		}
	}
	if len(p.allow) > 0 {
		ok := false
		for i := range p.allow {
			e := &p.allow[i]
			if e.any || isName && e.matchName(h) {
				ok = true
				break
			}
			if e.prefix.IsValid() && e.prefix.Contains(vs[0]) {
				ok = true
				break
			}
		}
		if !ok {
			return deny("not in " + AllowSetting)
		}
	}
	for _, v := range vs {
		c, _, r := p.classify(v)
		switch c {
		case Public:
			continue
		case Metadata:
			if !p.lifted(v, r) {
				return deny(c.String())
			}
		default:
			if !p.lifted(v, r) && !(isName && p.allowsName(h, true)) {
				return deny(c.String())
			}
		}
	}
	return nil
}

// CheckURL applies the policy to an http(s) api_base as written, without
// DNS: a literal IP is judged as an address, "localhost" as loopback, a
// metadata name as refused, and any other name by the name rules and the
// allow list (a name the allow list can only admit by its addresses passes
// here and is judged when dialled).
func (p *Policy) CheckURL(base string) *Denied {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return &Denied{Host: base, Why: "not an http(s) URL"}
	}
	h := NormalizeHost(u.Hostname())
	if a, ok := ParseIP(h); ok {
		return p.CheckAddr(a.String(), a)
	}
	if d := p.CheckName(h); d != nil {
		return d
	}
	if isLoopbackName(h) {
		var first *Denied
		for _, a := range loopbackAddrs {
			d := p.CheckAddr(h, a)
			if d == nil {
				return nil
			}
			if first == nil {
				first = &Denied{Host: h, Why: d.Why} // no address: it is implied
			}
		}
		return first
	}
	if len(p.allow) > 0 && !p.allowsName(h, false) && !p.hasAllowAddrs() {
		return &Denied{Host: h, Why: "not in " + AllowSetting}
	}
	return nil
}
