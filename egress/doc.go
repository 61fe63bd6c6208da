// Package egress decides which network addresses the gateway may connect to
// on behalf of a team, and dials only those.
//
// A team may bring its own upstream (litellm_params.api_base of a deployment
// with model_info.team_id). Such an endpoint must not let the team reach what
// only the gateway host can reach: the cloud metadata service (and with it
// the host's cloud credentials), or a database, etcd or admin port on the
// host itself. Deployments the operator wrote as global deployments are not
// restricted.
//
// # The policy
//
// A Policy is compiled from general_settings.team_api_base_allow and
// team_api_base_deny plus the gateway host's own addresses (HostAddrs: every
// interface address, which includes every address the gateway listens on).
// Entries are IP addresses, CIDRs, host names ("api.example.com"),
// sub-domain patterns ("*.example.com" matches sub-domains,
// ".example.com" also the domain itself) and "*" (every host).
// A host is judged together with each address it is about to be reached at:
//
//  1. An operator deny entry that matches the host name or the address
//     denies.
//  2. With an allow list, the host name or the address must match an allow
//     entry ("*" matches everything).
//  3. Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10,
//     fd00:ec2::254, 100.100.100.200) are denied unless an allow entry that
//     is an address or CIDR inside that range names them. Metadata host
//     names (metadata.google.internal, ...) are denied unless an allow entry
//     is exactly that name.
//  4. Loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::) and the
//     host's own addresses are denied unless an allow entry that is an
//     address or CIDR inside that range names them, or an allow entry is
//     exactly the host name ("localhost").
//  5. Everything else is allowed.
//
// Wildcards ("*", "*.example.com", a CIDR wider than the restricted range
// such as 0.0.0.0/0) never lift rules 3 and 4: those need an entry that
// names the address or the host explicitly, so that a DNS answer cannot turn
// a trusted pattern into a path to the metadata service.
//
// Addresses are compared in every spelling that reaches the same IPv4
// address: IPv4-mapped and IPv4-compatible IPv6, NAT64 (64:ff9b::/96), 6to4
// (2002::/16) and Teredo clients; zones are ignored; host names are compared
// in lower case without a trailing dot; a host whose last label is numeric
// ("2852039166", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376") is refused
// because resolvers disagree on what address it is.
//
// # Where it applies
//
// CheckURL applies the policy to an api_base as written, without DNS: the
// management API uses it for a fast 403 when a team deployment is created or
// its api_base changed. It is only a first answer; the authority is the
// Dialer.
//
// Dialer.DialTimeout is the dial function of the HTTP client that carries
// team deployments. For every new connection it resolves the host itself,
// checks every address of the answer against the policy in force at that
// moment and connects only to an address that passed, by address. A DNS
// answer that changes between the check and the connection (DNS rebinding)
// therefore cannot bypass the policy: the address checked is the address
// connected to. When no address passes the dial fails with a *Denied error,
// whose Error() (for logs) names the address and whose Public() (for
// clients) does not. The same Dialer without a policy serves the operator's
// deployments, so IPv6 upstreams work for both.
//
// Keep-alive connections are reused without any check: the cost is one
// resolution and a few prefix comparisons per new connection, nothing per
// request. The package imports nothing from the project; manage and
// providers use it.
package egress
