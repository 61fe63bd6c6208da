package configs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const (
	// EncPrefix marks a value encrypted with the salt key by Encrypt.
	EncPrefix = "enc:v1:"
	// EnvPrefix marks a value read from the environment: os.environ/NAME.
	EnvPrefix = "os.environ/"

	encInfo = "gateway enc:v1"
)

// ErrNoSaltKey is returned by Encrypt and Decrypt when no salt key is set.
var ErrNoSaltKey = errors.New("no salt key is set (general_settings.salt_key, e.g. os.environ/GATEWAY_SALT_KEY)")

func encAEAD(saltKey string) (cipher.AEAD, error) {
	if saltKey == "" {
		return nil, ErrNoSaltKey
	}
	key, err := hkdf.Key(sha256.New, []byte(saltKey), nil, encInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

// Encrypt seals plaintext with AES-256-GCM under a key derived from saltKey
// (HKDF-SHA256, info "gateway enc:v1") and returns
// "enc:v1:" + base64url(nonce || ciphertext). Every call uses a fresh
// random nonce, so the same plaintext encrypts differently each time.
func Encrypt(saltKey, plaintext string) (string, error) {
	aead, err := encAEAD(saltKey)
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("encrypt: nonce: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return EncPrefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Decrypt opens a value made by Encrypt with the same salt key. It fails
// (never panics) on a missing prefix, bad encoding, a tampered value or the
// wrong salt key. Error messages never contain the value.
func Decrypt(saltKey, value string) (string, error) {
	rest, ok := strings.CutPrefix(value, EncPrefix)
	if !ok {
		return "", fmt.Errorf("decrypt: value does not start with %q", EncPrefix)
	}
	aead, err := encAEAD(saltKey)
	if err != nil {
		return "", fmt.Errorf("decrypt: %w", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil {
		return "", errors.New("decrypt: value is not valid base64url")
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", errors.New("decrypt: value is too short")
	}
	nonce, sealed := raw[:aead.NonceSize()], raw[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, nil)
	if err != nil {
		return "", errors.New("decrypt: authentication failed (wrong salt key or altered value)")
	}
	return string(plain), nil
}

// HashKey returns the lowercase hex sha256 of the whole key string ("sk-"
// included): the only form in which virtual keys are stored.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// MaskKey returns the display form of a virtual key stored as key_name:
// "sk-...wxyz" (its "sk-" prefix, if any, and its last 4 characters).
func MaskKey(key string) string {
	prefix := ""
	if strings.HasPrefix(key, "sk-") {
		prefix = "sk-"
	}
	if len(key)-len(prefix) < 8 {
		return prefix + "..."
	}
	return prefix + "..." + key[len(key)-4:]
}

// MaskSecret returns a secret safe to show: its first and last 4
// characters around "****" ("sk-a****wxyz"), or just "****" when the secret
// is shorter than 12 characters.
func MaskSecret(s string) string {
	if len(s) < 12 {
		return "****"
	}
	return s[:4] + "****" + s[len(s)-4:]
}
