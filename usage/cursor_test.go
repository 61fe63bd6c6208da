package usage

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 2, 3, 4, 5, 123456000, time.UTC)
	for _, id := range []string{"", "req-1", "chatcmpl-ü'; DROP TABLE rows;--"} {
		c := EncodeCursor(at, id)
		got, gotID, err := DecodeCursor(c)
		if err != nil || !got.Equal(at) || gotID != id {
			t.Fatalf("DecodeCursor(EncodeCursor(%v, %q)) = %v, %q, %v", at, id, got, gotID, err)
		}
	}
}

func TestCursorForged(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"x", "' OR 1=1 --", "AAAA", strings.Repeat("A", MaxCursor+1), "AQ", "Ag"} {
		_, _, err := DecodeCursor(c)
		if !errors.Is(err, ErrBadQuery) {
			t.Errorf("DecodeCursor(%q) err = %v, want ErrBadQuery", c, err)
		}
		if err != nil && strings.Contains(err.Error(), c) && len(c) > 2 {
			t.Errorf("error echoes the cursor: %v", err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(time.Unix(1700000000, 0), "req-1"))
	f.Add("")
	f.Add("' OR 1=1 --")
	f.Add("AX____________8B")
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := DecodeCursor(s)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("error %v does not wrap ErrBadQuery", err)
			}
			return
		}
		// A valid cursor re-encodes to one that decodes the same.
		at2, id2, err := DecodeCursor(EncodeCursor(at, id))
		if err != nil || !at2.Equal(at) || id2 != id {
			t.Fatalf("re-encode of %q: %v %q %v", s, at2, id2, err)
		}
	})
}
