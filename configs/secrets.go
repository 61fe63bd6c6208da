package configs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const (
	// EncPrefix marks a value encrypted with the salt key by Encrypt,
	// bound to nothing: the legacy form, still loaded (see EncryptBound).
	EncPrefix = "enc:v1:"
	// EncBoundPrefix marks a value encrypted by EncryptBound: it opens
	// only for the team and deployment it was encrypted for.
	EncBoundPrefix = "enc:v2:"
	// EncAnyPrefix starts every encrypted value, whatever its version.
	EncAnyPrefix = "enc:"
	// EnvPrefix marks a value read from the environment: os.environ/NAME.
	EnvPrefix = "os.environ/"

	encInfo      = "gateway enc:v1"
	encBoundInfo = "gateway enc:v2"
)

// ErrNoSaltKey is returned by Encrypt and Decrypt when no salt key is set.
var ErrNoSaltKey = errors.New("no salt key is set (general_settings.salt_key, e.g. os.environ/GATEWAY_SALT_KEY)")

// errOpen and errOpenBound are the errors of a value that does not
// authenticate: a wrong salt key, an altered value and (enc:v2:) a value
// bound to another owner look the same, by design.
var (
	errOpen      = errors.New("decrypt: authentication failed (wrong salt key or altered value)")
	errOpenBound = errors.New("decrypt: authentication failed (wrong salt key, altered value, or a value encrypted for another team or deployment)")
)

// Binding is the owner an enc:v2: value is bound to: the team that owns
// the deployment ("" for a global deployment) and the deployment's
// model_info.id. It is the authenticated data of the encryption, so the
// value decrypts nowhere else.
type Binding struct {
	TeamID  string
	ModelID string
}

// String is the binding as shown in messages: team "t", model "m".
func (b Binding) String() string {
	team := b.TeamID
	if team == "" {
		team = "(global)"
	}
	return fmt.Sprintf("team %s, model %s", team, b.ModelID)
}

// aad is the authenticated data of a bound value: a domain label and the
// two ids, each length-prefixed so no two bindings share an encoding.
func (b Binding) aad() []byte {
	out := make([]byte, 0, len(encBoundInfo)+2*binary.MaxVarintLen64+len(b.TeamID)+len(b.ModelID))
	out = append(out, encBoundInfo...)
	out = binary.AppendUvarint(out, uint64(len(b.TeamID)))
	out = append(out, b.TeamID...)
	out = binary.AppendUvarint(out, uint64(len(b.ModelID)))
	out = append(out, b.ModelID...)
	return out
}

func encAEAD(saltKey, info string) (cipher.AEAD, error) {
	if saltKey == "" {
		return nil, ErrNoSaltKey
	}
	key, err := hkdf.Key(sha256.New, []byte(saltKey), nil, info, 32)
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

func seal(saltKey, info, prefix string, aad []byte, plaintext string) (string, error) {
	aead, err := encAEAD(saltKey, info)
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("encrypt: nonce: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, []byte(plaintext), aad)
	return prefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

func open(saltKey, info, rest string, aad []byte, failed error) (string, error) {
	aead, err := encAEAD(saltKey, info)
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
	plain, err := aead.Open(nil, nonce, sealed, aad)
	if err != nil {
		return "", failed
	}
	return string(plain), nil
}

// Encrypt seals plaintext with AES-256-GCM under a key derived from saltKey
// (HKDF-SHA256, info "gateway enc:v1") and returns
// "enc:v1:" + base64url(nonce || ciphertext). Every call uses a fresh
// random nonce, so the same plaintext encrypts differently each time.
//
// The result is bound to nothing: it decrypts wherever it is copied. It is
// the legacy form, kept for general_settings.master_key and for existing
// files; upstream keys are encrypted with EncryptBound.
func Encrypt(saltKey, plaintext string) (string, error) {
	return seal(saltKey, encInfo, EncPrefix, nil, plaintext)
}

// EncryptBound seals plaintext like Encrypt, under a key derived with info
// "gateway enc:v2", with b as authenticated data, and returns
// "enc:v2:" + base64url(nonce || ciphertext). The value decrypts only with
// the same salt key and the same binding.
func EncryptBound(saltKey string, b Binding, plaintext string) (string, error) {
	if b.ModelID == "" {
		return "", errors.New("encrypt: a bound value needs the deployment's model id")
	}
	return seal(saltKey, encBoundInfo, EncBoundPrefix, b.aad(), plaintext)
}

// Decrypt opens an enc:v1: value made by Encrypt with the same salt key.
// It fails (never panics) on a missing prefix, bad encoding, a tampered
// value or the wrong salt key, and on a bound (enc:v2:) value, which only
// DecryptBound opens. Error messages never contain the value.
func Decrypt(saltKey, value string) (string, error) {
	rest, ok := strings.CutPrefix(value, EncPrefix)
	if !ok {
		if strings.HasPrefix(value, EncBoundPrefix) {
			return "", errors.New("decrypt: the value is bound to a team and deployment (enc:v2:); it opens only where it was encrypted for")
		}
		return "", fmt.Errorf("decrypt: value does not start with %q", EncPrefix)
	}
	return open(saltKey, encInfo, rest, nil, errOpen)
}

// DecryptBound opens an enc:v2: value encrypted for b, or an enc:v1: value
// (bound to nothing). It fails, never panics, on anything else; a value
// encrypted for another binding fails exactly like a wrong salt key.
func DecryptBound(saltKey string, b Binding, value string) (string, error) {
	if strings.HasPrefix(value, EncPrefix) {
		return Decrypt(saltKey, value)
	}
	rest, ok := strings.CutPrefix(value, EncBoundPrefix)
	if !ok {
		return "", fmt.Errorf("decrypt: value does not start with %q or %q", EncBoundPrefix, EncPrefix)
	}
	if b.ModelID == "" {
		return "", errors.New("decrypt: an enc:v2: value is bound to its deployment's model_info.id, and this deployment has none written")
	}
	return open(saltKey, encBoundInfo, rest, b.aad(), errOpenBound)
}

// SaltKeys are the salt keys a configuration decrypts with: Current (which
// every new value is encrypted with) and, while a rotation is under way,
// Previous (general_settings.salt_key_previous, by default
// GATEWAY_SALT_KEY_PREVIOUS), for decryption only.
type SaltKeys struct {
	Current  string
	Previous string
}

// Open decrypts value (enc:v1: or enc:v2: bound to b) with the current
// salt key, else the previous one. previous reports that only the previous
// key opened it. The error is the current key's when both fail.
func (k SaltKeys) Open(b Binding, value string) (plain string, previous bool, err error) {
	plain, err = DecryptBound(k.Current, b, value)
	if err == nil || k.Previous == "" || k.Previous == k.Current || !(errors.Is(err, errOpen) || errors.Is(err, errOpenBound)) {
		return plain, false, err
	}
	if p, perr := DecryptBound(k.Previous, b, value); perr == nil {
		return p, true, nil
	}
	return "", false, err
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
