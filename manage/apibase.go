package manage

import (
	"net/netip"
	"net/url"
	"strings"
)

// DefaultAPIBaseDeny is what a team key may never point a model at unless
// the operator allows it explicitly: link-local addresses and the cloud
// metadata services.
var DefaultAPIBaseDeny = []string{
	"169.254.0.0/16", "fe80::/10", // link-local, incl. 169.254.169.254
	"fd00:ec2::254/128",  // AWS IMDS over IPv6
	"100.100.100.200/32", // Alibaba Cloud metadata
	"metadata.google.internal", "metadata.goog", "metadata", "metadata.azure.com",
	"instance-data", "instance-data.ec2.internal",
}

// APIBasePolicy decides which api_base a team key may register
// (general_settings.team_api_base_allow / team_api_base_deny). Entries are
// CIDRs, IP addresses or host names ("example.com", or "*.example.com" /
// ".example.com" for sub-domains). Literal IP hosts are matched as
// addresses (so 0:0:0:0:0:ffff:a9fe:a9fe is 169.254.169.254); DNS names are
// matched by name only and never resolved.
//
// Order: an operator deny entry always denies; when an allow list is set,
// only hosts it matches pass (an explicit allow entry also lifts the
// default deny); otherwise the default deny list applies.
type APIBasePolicy struct {
	Allow []string
	Deny  []string
}

// Check returns a 403 when a team key may not use base. base must already
// be a valid http(s) URL.
func (p APIBasePolicy) Check(base string) *Error {
	u, err := url.Parse(base)
	if err != nil {
		return BadRequest("litellm_params.api_base", "api_base %q is not a valid URL", base)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if addr, ok := parseHostIP(host); !ok && looksNumeric(host) {
		return Forbidden("litellm_params.api_base host %q is an ambiguous numeric address; write the IP address in dotted or IPv6 form", host)
	} else if ok {
		host = addr.String()
	}
	deny := func(why string) *Error {
		return &Error{Status: 403, Param: "litellm_params.api_base", Message: "litellm_params.api_base host " + host + " is not allowed for team keys (" + why +
			"); ask the operator (general_settings.team_api_base_allow / team_api_base_deny) or the master key"}
	}
	if matchAny(host, p.Deny) {
		return deny("general_settings.team_api_base_deny")
	}
	if len(p.Allow) > 0 {
		if matchAny(host, p.Allow) {
			return nil
		}
		return deny("not in general_settings.team_api_base_allow")
	}
	if matchAny(host, DefaultAPIBaseDeny) {
		return deny("link-local and cloud metadata addresses are denied by default")
	}
	return nil
}

func parseHostIP(host string) (netip.Addr, bool) {
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i] // zone
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
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

func matchAny(host string, entries []string) bool {
	addr, isIP := parseHostIP(host)
	for _, e := range entries {
		e = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(e)), ".")
		if e == "" {
			continue
		}
		if pfx, err := netip.ParsePrefix(e); err == nil {
			if isIP && pfx.Contains(addr) {
				return true
			}
			continue
		}
		if a, ok := parseHostIP(e); ok {
			if isIP && a == addr {
				return true
			}
			continue
		}
		if isIP {
			continue
		}
		switch {
		case strings.HasPrefix(e, "*."):
			if strings.HasSuffix(host, e[1:]) {
				return true
			}
		case strings.HasPrefix(e, "."):
			if strings.HasSuffix(host, e) || host == e[1:] {
				return true
			}
		case host == e:
			return true
		}
	}
	return false
}
