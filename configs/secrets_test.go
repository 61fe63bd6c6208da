package configs

import (
	"strings"
	"testing"
	"time"
)

func TestEncryptRoundTrip(t *testing.T) {
	const salt, secret = "test-salt-key", "sk-azure-secret-1234"
	a, err := Encrypt(salt, secret)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encrypt(salt, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, "enc:v1:") || strings.Contains(a, secret) {
		t.Fatalf("Encrypt = %q, want enc:v1: without the plaintext", a)
	}
	if a == b {
		t.Errorf("two encryptions are equal; the nonce must be random")
	}
	for _, v := range []string{a, b} {
		got, err := Decrypt(salt, v)
		if err != nil || got != secret {
			t.Errorf("Decrypt(%q) = %q, %v; want %q", v, got, err, secret)
		}
	}
	// A value encrypted once (testdata/good/demo) must stay readable.
	const stored = "enc:v1:AERhAx608-MEvoFEA8lCAtfNn58BSBFS5W2H2ikvhJWN-yPtsKoKDQnbmFs4S_Nk"
	if got, err := Decrypt(salt, stored); err != nil || got != secret {
		t.Errorf("Decrypt(stored) = %q, %v", got, err)
	}
}

func TestDecryptFailures(t *testing.T) {
	const salt = "test-salt-key"
	good, err := Encrypt(salt, "sk-secret")
	if err != nil {
		t.Fatal(err)
	}
	flip := []byte(good)
	if flip[len(flip)-3] == 'A' {
		flip[len(flip)-3] = 'B'
	} else {
		flip[len(flip)-3] = 'A'
	}
	if flip[len(flip)-3] == good[len(good)-3] {
		t.Fatal("tamper did not change the value")
	}
	for _, tc := range []struct{ name, salt, value, want string }{
		{"wrong salt", "other-salt", good, "authentication failed"},
		{"tampered", salt, string(flip), "authentication failed"},
		{"truncated", salt, good[:len(good)-4], "authentication failed"},
		{"no salt", "", good, "no salt key"},
		{"no prefix", salt, strings.TrimPrefix(good, "enc:v1:"), "does not start with"},
		{"bad base64", salt, "enc:v1:***", "base64"},
		{"too short", salt, "enc:v1:AAAA", "too short"},
		{"empty", salt, "enc:v1:", "too short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decrypt(tc.salt, tc.value)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decrypt = %q, %v; want error containing %q", got, err, tc.want)
			}
			if strings.Contains(err.Error(), "sk-secret") {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
	if _, err := Encrypt("", "x"); err == nil {
		t.Error("Encrypt with no salt key succeeded")
	}
}

func TestKeyHelpers(t *testing.T) {
	// sha256("test"), lowercase hex.
	if got := HashKey("test"); got != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" {
		t.Errorf("HashKey = %s", got)
	}
	for _, tc := range []struct{ fn, in, want string }{
		{"MaskKey", "sk-abcdefghijklwxyz", "sk-...wxyz"},
		{"MaskKey", "abcdefghwxyz", "...wxyz"},
		{"MaskKey", "sk-abc", "sk-..."},
		{"MaskSecret", "sk-abcdefghijklwxyz", "sk-a****wxyz"},
		{"MaskSecret", "short", "****"},
		{"MaskSecret", "", "****"},
	} {
		f := MaskKey
		if tc.fn == "MaskSecret" {
			f = MaskSecret
		}
		if got := f(tc.in); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.fn, tc.in, got, tc.want)
		}
	}
}

func TestAddBudgetDuration(t *testing.T) {
	base := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"30s", base.Add(30 * time.Second)},
		{"30m", base.Add(30 * time.Minute)},
		{"30h", base.Add(30 * time.Hour)},
		{"1d", base.Add(24 * time.Hour)},
		{"7d", base.Add(7 * 24 * time.Hour)},
		{"1mo", base.AddDate(0, 1, 0)},
		{"12mo", time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC)},
	} {
		got, err := AddBudgetDuration(base, tc.in)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("AddBudgetDuration(%s) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "d", "0d", "-1d", "1w", "1y", "1.5d", "1 d", "99999999999999999999s", "9999999999d"} {
		if _, err := AddBudgetDuration(base, bad); err == nil {
			t.Errorf("AddBudgetDuration(%q) succeeded, want an error", bad)
		}
	}
}

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		p    Problem
		want string
	}{
		{Problem{Pos: Pos{"teams.d/a.yaml", 3, 5}, Message: "bad"}, "teams.d/a.yaml:3:5: bad"},
		{Problem{Pos: Pos{"teams.d/a.yaml", 3, 5}, Message: "meh", Warning: true}, "teams.d/a.yaml:3:5: warning: meh"},
		{Problem{Pos: Pos{File: "x.yaml"}, Message: "bad"}, "x.yaml: bad"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if HasErrors([]Problem{{Warning: true}}) || !HasErrors([]Problem{{Warning: true}, {}}) {
		t.Error("HasErrors is wrong")
	}
}
