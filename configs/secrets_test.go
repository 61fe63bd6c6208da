package configs

import (
	"encoding/base64"
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
	for _, bad := range []string{"", "d", "0d", "-1d", "0w", "1y", "1.5d", "1 d", "99999999999999999999s", "9999999999d"} {
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

func TestEncryptBound(t *testing.T) {
	t.Parallel()
	const salt, secret = "test-salt-key", "sk-team-a-upstream"
	a := Binding{TeamID: "team-a", ModelID: "m1"}
	v, err := EncryptBound(salt, a, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "enc:v2:") || strings.Contains(v, secret) {
		t.Fatalf("EncryptBound = %q, want enc:v2: without the plaintext", v)
	}
	if got, err := DecryptBound(salt, a, v); err != nil || got != secret {
		t.Fatalf("DecryptBound = %q, %v", got, err)
	}
	// Moved to another team, another deployment, a global model, or ids
	// that concatenate to the same string: it opens nowhere else.
	for _, b := range []Binding{{"team-b", "m1"}, {"team-a", "m2"}, {"", "m1"}, {"team-am", "1"}, {"team-", "am1"}} {
		if got, err := DecryptBound(salt, b, v); err == nil || got != "" || !strings.Contains(err.Error(), "another team or deployment") {
			t.Errorf("DecryptBound(%v) = %q, %v; want an authentication error", b, got, err)
		}
	}
	if _, err := Decrypt(salt, v); err == nil || !strings.Contains(err.Error(), "bound") {
		t.Errorf("Decrypt of a bound value = %v, want an error naming the binding", err)
	}
	if _, err := DecryptBound(salt, Binding{TeamID: "team-a"}, v); err == nil || !strings.Contains(err.Error(), "model_info.id") {
		t.Errorf("DecryptBound without a model id = %v", err)
	}
	if _, err := EncryptBound(salt, Binding{TeamID: "team-a"}, secret); err == nil {
		t.Error("EncryptBound without a model id succeeded")
	}
	// Versions do not mix: a v1 body under the v2 prefix and the reverse fail.
	v1, _ := Encrypt(salt, secret)
	if _, err := DecryptBound(salt, a, EncBoundPrefix+strings.TrimPrefix(v1, EncPrefix)); err == nil {
		t.Error("a v1 body opened as v2")
	}
	if _, err := Decrypt(salt, EncPrefix+strings.TrimPrefix(v, EncBoundPrefix)); err == nil {
		t.Error("a v2 body opened as v1")
	}
	// A legacy v1 value opens whatever the binding.
	if got, err := DecryptBound(salt, Binding{TeamID: "x", ModelID: "y"}, v1); err != nil || got != secret {
		t.Errorf("DecryptBound(v1) = %q, %v", got, err)
	}
}

func TestSaltKeysOpen(t *testing.T) {
	t.Parallel()
	b := Binding{TeamID: "t", ModelID: "m"}
	old, _ := EncryptBound("old-salt", b, "sk-1")
	cur, _ := EncryptBound("new-salt", b, "sk-2")
	keys := SaltKeys{Current: "new-salt", Previous: "old-salt"}
	if p, prev, err := keys.Open(b, old); err != nil || p != "sk-1" || !prev {
		t.Errorf("previous-key value: %q %v %v", p, prev, err)
	}
	if p, prev, err := keys.Open(b, cur); err != nil || p != "sk-2" || prev {
		t.Errorf("current-key value: %q %v %v", p, prev, err)
	}
	if _, _, err := (SaltKeys{Current: "new-salt"}).Open(b, old); err == nil {
		t.Error("a previous-key value opened without the previous key")
	}
	if _, _, err := keys.Open(Binding{TeamID: "other", ModelID: "m"}, old); err == nil {
		t.Error("the previous key opened a value for another binding")
	}
}

// FuzzDecrypt: decryption never panics on any input, and never returns
// the plaintext of a value that was altered (at the byte level) or moved
// to another binding.
func FuzzDecrypt(f *testing.F) {
	f.Add("sk-secret", "team-a", "m1", "team-b", "m1", uint(5), byte(1), "enc:v2:AAAA")
	f.Add("", "", "m", "", "n", uint(0), byte(0x80), "enc:v1:")
	f.Add("x", "t", "m", "t", "m", uint(40), byte(0xff), "enc:v2:"+strings.Repeat("A", 60))
	f.Add("long secret value", "a\x00b", "c", "a", "\x00bc", uint(12), byte(7), "enc:v1:***")
	f.Fuzz(func(t *testing.T, plain, team, model, team2, model2 string, at uint, flip byte, garbage string) {
		const salt = "fuzz-salt"
		b, b2 := Binding{team, model}, Binding{team2, model2}
		// Arbitrary input: errors only.
		_, _ = Decrypt(salt, garbage)
		_, _ = DecryptBound(salt, b, garbage)
		_, _, _ = SaltKeys{Current: salt, Previous: "p"}.Open(b, garbage)
		if model == "" {
			return
		}
		v, err := EncryptBound(salt, b, plain)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := DecryptBound(salt, b, v); err != nil || got != plain {
			t.Fatalf("round trip: %q, %v", got, err)
		}
		if b2 != b {
			if got, err := DecryptBound(salt, b2, v); err == nil {
				t.Fatalf("opened for another binding %q/%q: %q", team2, model2, got)
			}
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(v, EncBoundPrefix))
		if err != nil {
			t.Fatal(err)
		}
		if flip == 0 {
			flip = 1
		}
		raw[at%uint(len(raw))] ^= flip
		tampered := EncBoundPrefix + base64.RawURLEncoding.EncodeToString(raw)
		if got, err := DecryptBound(salt, b, tampered); err == nil {
			t.Fatalf("a tampered value opened: %q", got)
		}
		if got, err := Decrypt(salt, EncPrefix+strings.TrimPrefix(v, EncBoundPrefix)); err == nil {
			t.Fatalf("a v2 value opened as v1: %q", got)
		}
	})
}
