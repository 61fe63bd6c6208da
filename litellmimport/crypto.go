package litellmimport

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/nacl/secretbox"
)

// LiteLLM's at-rest encryption of the values it stores (litellm_params of
// models added through its API, read from its
// litellm/proxy/common_utils/encrypt_decrypt_utils.py). The key is its
// salt key: LITELLM_SALT_KEY, else its master key. Three formats, told
// apart by a prefix:
//
//   - "v3:gcm:" + base64url(nonce(12) || AES-256-GCM ciphertext || tag(16)),
//     the key derived with HKDF-SHA256 (no salt, info "litellm-at-rest-v3");
//   - "v2:gcm:" + the same, the key being sha256(salt key);
//   - no prefix: base64url (older values: standard base64) of a NaCl
//     secretbox (XSalsa20-Poly1305) with the 24-byte nonce first and the
//     key sha256(salt key). This is the historical default.
const (
	v3Prefix = "v3:gcm:"
	v2Prefix = "v2:gcm:"
	hkdfInfo = "litellm-at-rest-v3"
	// naclMin is the shortest secretbox value LiteLLM accepts: the
	// 24-byte nonce and the 16-byte tag.
	naclMin = 24 + secretbox.Overhead
	// maxValue bounds a value this package tries to decrypt.
	maxValue = 1 << 20
)

// Errors of Decrypt. None quotes the value.
var (
	ErrNotEncrypted = errors.New("not a LiteLLM ciphertext")
	ErrWrongKey     = errors.New("does not decrypt with the salt key (LITELLM_SALT_KEY, else LITELLM_MASTER_KEY): is it the key LiteLLM ran with?")
	ErrNoKey        = errors.New("is encrypted, but neither LITELLM_SALT_KEY nor LITELLM_MASTER_KEY is set")
)

// LooksEncrypted reports whether v has the shape of a value LiteLLM
// encrypted: a v2/v3 GCM prefix, or base64 of at least a secretbox's
// nonce and tag. A plaintext model name, URL or os.environ/ reference
// never does; a long random plaintext token may.
func LooksEncrypted(v string) bool {
	if strings.HasPrefix(v, v3Prefix) || strings.HasPrefix(v, v2Prefix) {
		return true
	}
	raw, ok := decodeB64(v)
	return ok && len(raw) >= naclMin
}

// Decrypt opens a value LiteLLM encrypted with saltKey. It never panics,
// whatever v holds.
func Decrypt(saltKey, v string) (string, error) {
	if len(v) > maxValue {
		return "", ErrNotEncrypted
	}
	if !LooksEncrypted(v) {
		return "", ErrNotEncrypted
	}
	if saltKey == "" {
		return "", ErrNoKey
	}
	var plain []byte
	var err error
	switch {
	case strings.HasPrefix(v, v3Prefix):
		key, kerr := hkdf.Key(sha256.New, []byte(saltKey), nil, hkdfInfo, 32)
		if kerr != nil {
			return "", ErrWrongKey
		}
		plain, err = openGCM(key, v[len(v3Prefix):])
	case strings.HasPrefix(v, v2Prefix):
		key := sha256.Sum256([]byte(saltKey))
		plain, err = openGCM(key[:], v[len(v2Prefix):])
	default:
		raw, _ := decodeB64(v)
		key := sha256.Sum256([]byte(saltKey))
		var nonce [24]byte
		copy(nonce[:], raw[:24])
		var ok bool
		plain, ok = secretbox.Open(nil, raw[24:], &nonce, &key)
		if !ok {
			err = ErrWrongKey
		}
	}
	if err != nil {
		return "", err
	}
	if !utf8.Valid(plain) {
		return "", ErrWrongKey
	}
	return string(plain), nil
}

func openGCM(key []byte, b64 string) ([]byte, error) {
	raw, ok := decodeB64(b64)
	if !ok || len(raw) < 12+16 {
		return nil, ErrWrongKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrWrongKey
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, ErrWrongKey
	}
	plain, err := gcm.Open(nil, raw[:12], raw[12:], nil)
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}

// decodeB64 decodes base64 as LiteLLM reads it: the URL-safe alphabet,
// with the standard one accepted too (older values), padded or not.
// Unlike Python's lenient decoder it refuses any other character, so a
// plaintext with spaces, dots or colons is never taken for a ciphertext.
func decodeB64(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	if s == "" || len(s)%4 == 1 {
		return nil, false
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
		case c == '-':
			b[i] = '+'
		case c == '_':
			b[i] = '/'
		default:
			return nil, false
		}
	}
	raw, err := base64.RawStdEncoding.DecodeString(string(b))
	if err != nil {
		return nil, false
	}
	return raw, true
}
