package egress

import (
	"net/netip"
	"strings"
	"testing"
)

var own = []netip.Addr{netip.MustParseAddr("10.9.8.7"), netip.MustParseAddr("2001:db8::7")}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	def := New(nil, nil, own)
	cases := []struct {
		pol   *Policy
		base  string
		allow bool
	}{
		{def, "https://my-endpoint.openai.azure.com", true},
		{def, "https://api.openai.com/v1", true},
		{def, "http://[2606:4700::1]:8080/v1", true},
		{def, "http://127.0.0.1:8000/v1", false},
		{def, "http://127.1.2.3/", false},
		{def, "http://[::1]:8000/v1", false},
		{def, "http://localhost:8000/v1", false},
		{def, "http://LOCALHOST./v1", false},
		{def, "http://foo.localhost/v1", false},
		{def, "http://0.0.0.0:5432/", false},
		{def, "http://[::]:5432/", false},
		{def, "http://10.9.8.7:2379/", false}, // the host's own address (etcd)
		{def, "http://[2001:db8::7]:2379/", false},
		{def, "http://10.9.8.6:2379/", true}, // a neighbour
		{def, "http://169.254.169.254/latest/meta-data", false},
		{def, "http://[fe80::1]/", false},
		{def, "http://[fe80::1%25eth0]/", false},
		{def, "http://[::ffff:169.254.169.254]/", false},
		{def, "http://[::ffff:a9fe:a9fe]/", false},
		{def, "http://[::169.254.169.254]/", false},
		{def, "http://[64:ff9b::a9fe:a9fe]/", false},
		{def, "http://[2002:a9fe:a9fe::1]/", false},
		{def, "http://[fd00:ec2::254]/", false},
		{def, "http://[FD00:EC2::254]/", false},
		{def, "http://100.100.100.200/", false},
		{def, "http://metadata.google.internal/computeMetadata/v1", false},
		{def, "http://METADATA.google.internal./", false},
		{def, "http://metadata/", false},
		{def, "http://2852039166/", false},          // 169.254.169.254 in decimal
		{def, "http://0xa9.0xfe.0xa9.0xfe/", false}, // and in hex
		{def, "http://0251.0376.0251.0376/", false}, // and in octal
		{New(nil, []string{"10.0.0.0/8", "*.corp.example"}, nil), "http://10.1.2.3/", false},
		{New(nil, []string{"10.0.0.0/8", "*.corp.example"}, nil), "https://llm.corp.example/", false},
		{New(nil, []string{"10.0.0.0/8", "*.corp.example"}, nil), "https://corp.example.org/", true},
		{New([]string{".openai.azure.com"}, nil, nil), "https://x.openai.azure.com/", true},
		{New([]string{".openai.azure.com"}, nil, nil), "https://openai.azure.com/", true},
		{New([]string{"*.openai.azure.com"}, nil, nil), "https://openai.azure.com/", false},
		{New([]string{".openai.azure.com"}, nil, nil), "https://api.openai.com/", false},
		{New([]string{"10.0.0.0/8"}, nil, nil), "https://vllm.internal/", true},    // judged by its addresses when dialled
		{New([]string{"169.254.10.0/24"}, nil, nil), "http://169.254.10.5/", true}, // explicit allow lifts the default
		{New([]string{"169.254.10.0/24"}, []string{"169.254.10.5"}, nil), "http://169.254.10.5/", false},
		{New([]string{"169.254.0.0/15"}, nil, nil), "http://169.254.169.254/", false}, // wider than the range: no lift
		{New([]string{"0.0.0.0/0", "::/0"}, nil, nil), "http://169.254.169.254/", false},
		{New([]string{"0.0.0.0/0", "::/0"}, nil, nil), "http://127.0.0.1/", false},
		{New([]string{"*"}, nil, nil), "http://169.254.169.254/", false},
		{New([]string{"*"}, nil, nil), "http://localhost/", false},
		{New([]string{"*"}, nil, nil), "https://api.openai.com/", true},
		{New([]string{"127.0.0.1"}, nil, nil), "http://127.0.0.1:9/", true},
		{New([]string{"127.0.0.1"}, nil, nil), "http://localhost:9/", true},     // reached at 127.0.0.1
		{New([]string{"127.0.0.1"}, nil, nil), "https://api.openai.com/", true}, // judged by its addresses when dialled
		{New([]string{"localhost"}, nil, nil), "https://api.openai.com/", false},
		{New([]string{"127.0.0.1", "*"}, nil, nil), "https://api.openai.com/", true},
		{New([]string{"localhost"}, nil, nil), "http://localhost:9/", true},
		{New([]string{"localhost"}, nil, nil), "http://127.0.0.1:9/", false},
		{New([]string{"::1"}, nil, nil), "http://[::1]:9/", true},
		{New([]string{"10.9.8.7"}, nil, own), "http://10.9.8.7:2379/", true},
		{New([]string{"10.0.0.0/8"}, nil, own), "http://10.9.8.7:2379/", false},
		{New([]string{"metadata.google.internal"}, nil, nil), "http://metadata.google.internal/", true}, // its address still needs naming
		{New([]string{"*.google.internal"}, nil, nil), "http://metadata.google.internal/", false},
	}
	for _, c := range cases {
		d := c.pol.CheckURL(c.base)
		if (d == nil) != c.allow {
			t.Errorf("%s with %q: %v, want allow=%v", c.base, c.pol.key, d, c.allow)
		}
		if d != nil && strings.Contains(d.Public(), "169.254") {
			t.Errorf("%s: public message names the address: %s", c.base, d.Public())
		}
	}
}

func TestCheckAddrByName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pol   *Policy
		host  string
		addr  string
		allow bool
	}{
		{New(nil, nil, nil), "evil.example", "169.254.169.254", false},
		{New(nil, nil, nil), "evil.example", "::ffff:169.254.169.254", false},
		{New(nil, nil, nil), "evil.example", "127.0.0.1", false},
		{New(nil, nil, nil), "evil.example", "93.184.215.14", true},
		{New([]string{"*.example"}, nil, nil), "evil.example", "127.0.0.1", false}, // a pattern never lifts
		{New([]string{"evil.example"}, nil, nil), "evil.example", "127.0.0.1", true},
		{New([]string{"evil.example"}, nil, nil), "evil.example", "169.254.169.254", false},
		{New([]string{"10.0.0.0/8"}, nil, nil), "vllm.internal", "10.1.2.3", true},
		{New([]string{"10.0.0.0/8"}, nil, nil), "vllm.internal", "192.168.1.1", false},
		{New(nil, []string{"vllm.internal"}, nil), "vllm.internal", "10.1.2.3", false},
		{New(nil, nil, nil), "metadata.google.internal", "", false},
		{New(nil, nil, nil), "2852039166", "", false},
	}
	for _, c := range cases {
		d := c.pol.CheckName(c.host)
		if d == nil && c.addr != "" {
			d = c.pol.CheckAddr(c.host, netip.MustParseAddr(c.addr))
		}
		if (d == nil) != c.allow {
			t.Errorf("%s at %s with %q: %v, want allow=%v", c.host, c.addr, c.pol.key, d, c.allow)
		}
	}
}

func TestParseEntry(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"*", "10.0.0.0/8", "::1", "[::1]", "fd00::/8", "api.example.com", "*.example.com", ".example.com", "localhost", "EXAMPLE.com."} {
		if err := ParseEntry(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "http://example.com", "127.0.0.1:8080", "a*.example.com", "2852039166", "ex ample.com"} {
		if err := ParseEntry(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPolicyEqual(t *testing.T) {
	t.Parallel()
	a, b := New([]string{"x"}, nil, own), New([]string{"x"}, nil, own)
	if !a.Equal(b) || a.Equal(New([]string{"y"}, nil, own)) || a.Equal(New([]string{"x"}, nil, nil)) {
		t.Error("Equal")
	}
}

func TestHostAddrs(t *testing.T) {
	t.Parallel()
	addrs := HostAddrs()
	found := false
	for _, a := range addrs {
		found = found || a.IsLoopback()
	}
	if len(addrs) > 0 && !found {
		t.Logf("no loopback interface among %v", addrs)
	}
}

func BenchmarkCheckAddr(b *testing.B) {
	p := New([]string{"*", "127.0.0.1"}, []string{"10.0.0.0/8"}, HostAddrs())
	a := netip.MustParseAddr("93.184.215.14")
	for b.Loop() {
		if d := p.CheckAddr("api.example.com", a); d != nil {
			b.Fatal(d)
		}
	}
}
