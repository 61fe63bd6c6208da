package respid

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
)

// Prefix starts every id the gateway hands out, as OpenAI's response ids
// start with "resp_".
const Prefix = "resp_"

// info binds the derived key to this one use of the salt key.
const info = "gateway response id v1"

// maxID bounds an id Open reads, so a huge path costs nothing.
const maxID = 4096

// Codec seals and opens response ids. The first key seals; every key
// opens. It is safe for concurrent use.
type Codec struct {
	aeads []cipher.AEAD
	// nonceKey makes the nonce of the first key's seals: an HMAC of the
	// plaintext, so one object always gets the same id (a client compares
	// the id GET returns with the one it kept) while different objects
	// never share a nonce.
	nonceKey []byte
}

// New derives a codec from secrets, the current one first ("" entries
// are skipped). Without any secret it uses a random key: ids then stop
// opening when the process restarts.
func New(secrets ...string) (*Codec, error) {
	c := &Codec{}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		key, err := hkdf.Key(sha256.New, []byte(s), nil, info, 64)
		if err != nil {
			return nil, err
		}
		if err := c.add(key); err != nil {
			return nil, err
		}
	}
	if len(c.aeads) == 0 {
		key := make([]byte, 64)
		_, _ = rand.Read(key)
		if err := c.add(key); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// add adds a key: its first 32 bytes encrypt, the rest make nonces.
func (c *Codec) add(key []byte) error {
	if c.nonceKey == nil {
		c.nonceKey = key[32:]
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	c.aeads = append(c.aeads, aead)
	return nil
}

// Ref is what an id carries.
type Ref struct {
	Team       string // the team the id was made for ("" for the master key)
	Deployment string // model_info.id of the deployment that created it
	Upstream   string // the upstream's own id
}

// Seal returns the client's id for r.
func (c *Codec) Seal(r Ref) string {
	plain := make([]byte, 0, 8+len(r.Team)+len(r.Deployment)+len(r.Upstream))
	plain = binary.AppendUvarint(plain, uint64(len(r.Team)))
	plain = append(plain, r.Team...)
	plain = binary.AppendUvarint(plain, uint64(len(r.Deployment)))
	plain = append(plain, r.Deployment...)
	plain = append(plain, r.Upstream...)
	aead := c.aeads[0]
	mac := hmac.New(sha256.New, c.nonceKey)
	mac.Write(plain)
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	copy(nonce, mac.Sum(nil))
	sealed := aead.Seal(nonce, nonce, plain, []byte(Prefix))
	return Prefix + base64.RawURLEncoding.EncodeToString(sealed)
}

// ErrNotOurs is returned for an id the gateway did not make (or made under
// a salt key it no longer has).
var ErrNotOurs = errors.New("not a response id of this gateway")

// Open reads an id made by Seal.
func (c *Codec) Open(id string) (Ref, error) {
	if len(id) > maxID || !strings.HasPrefix(id, Prefix) {
		return Ref{}, ErrNotOurs
	}
	raw, err := base64.RawURLEncoding.DecodeString(id[len(Prefix):])
	if err != nil {
		return Ref{}, ErrNotOurs
	}
	for _, aead := range c.aeads {
		n := aead.NonceSize()
		if len(raw) < n+aead.Overhead() {
			return Ref{}, ErrNotOurs
		}
		plain, err := aead.Open(nil, raw[:n], raw[n:], []byte(Prefix))
		if err != nil {
			continue
		}
		return decode(plain)
	}
	return Ref{}, ErrNotOurs
}

func decode(b []byte) (Ref, error) {
	var r Ref
	var ok bool
	if r.Team, b, ok = field(b); !ok {
		return Ref{}, ErrNotOurs
	}
	if r.Deployment, b, ok = field(b); !ok {
		return Ref{}, ErrNotOurs
	}
	r.Upstream = string(b)
	return r, nil
}

func field(b []byte) (string, []byte, bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return "", nil, false
	}
	return string(b[w : w+int(n)]), b[w+int(n):], true
}
