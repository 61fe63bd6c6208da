package usage

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"
)

// MaxCursor bounds a cursor's length (characters); a longer one is refused
// before it is decoded.
const MaxCursor = 512

const cursorVersion = 1

// EncodeCursor is the opaque LogPage.Next after the record (start,
// requestID): the next page holds the records strictly older in the
// order (Start desc, RequestID desc). Times keep microseconds, as the
// stores do.
func EncodeCursor(start time.Time, requestID string) string {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(requestID))
	b = append(b, cursorVersion)
	b = binary.AppendVarint(b, start.UnixMicro())
	b = append(b, requestID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor EncodeCursor wrote. A forged, truncated or
// foreign cursor is an error wrapping ErrBadQuery that does not echo it.
func DecodeCursor(s string) (start time.Time, requestID string, err error) {
	bad := func(why string) (time.Time, string, error) {
		return time.Time{}, "", fmt.Errorf("%w: the cursor is not one this server returned (%s); start again without a cursor", ErrBadQuery, why)
	}
	if len(s) > MaxCursor {
		return bad("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("not base64url")
	}
	if len(b) < 2 || b[0] != cursorVersion {
		return bad("unknown version")
	}
	us, n := binary.Varint(b[1:])
	if n <= 0 {
		return bad("bad time")
	}
	// Years 0001..9999, the range both stores hold.
	const minUs, maxUs = -62135596800 * 1e6, 253402300799 * 1e6
	if us < minUs || us > maxUs {
		return bad("time out of range")
	}
	id := b[1+n:]
	if !utf8.Valid(id) {
		return bad("bad request id")
	}
	return time.UnixMicro(us).UTC(), string(id), nil
}
