package sqlite

import "github.com/llmgateway/gateway/usage"

// A chunk's filter is a Bloom filter of the values Logs filters on (the
// key, the user (usage.UserOf) and the model (usage.ModelOf) of each
// record), and a batch's the request ids of its records, so a filtered
// /spend/logs reads only the chunks that may hold a match. Encoding: one
// byte, the number of hash functions, then the bit array. A chunk's
// filter has 10 bits per value (about 1% false positives, each costing a
// chunk read); a batch's 16 (about 0.05%: a false positive there costs
// reading every chunk of the batch).
type bloomShape struct{ bitsPer, hashes int }

var (
	chunkBloom = bloomShape{10, 7}
	batchBloom = bloomShape{16, 11}
)

// Term kinds: a value is hashed after its kind, so a key id and a user
// with the same text are different terms.
const (
	termKey     = 'k'
	termUser    = 'u'
	termModel   = 'm'
	termRequest = 'r'
)

// termHash is FNV-1a over kind and s, then a 64-bit finalizer (so the
// two halves the filter uses are independent enough).
func termHash(kind byte, s string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	h = (h ^ uint64(kind)) * prime
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * prime
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// bloomTerms collects a chunk's term hashes as records are added: all of
// them for the filter, and the distinct key, user and model ones for
// usage_chunk_terms.
type bloomTerms struct {
	hashes                    []uint64
	indexed                   []uint64
	seen                      map[uint64]struct{}
	any                       bool
	lastKey, lastUser, lastMd string
}

func (t *bloomTerms) add(r *usage.Record) {
	user, model := usage.UserOf(r), usage.ModelOf(r)
	if !t.any || r.KeyID != t.lastKey {
		t.index(termHash(termKey, r.KeyID))
		t.lastKey = r.KeyID
	}
	if !t.any || user != t.lastUser {
		t.index(termHash(termUser, user))
		t.lastUser = user
	}
	if !t.any || model != t.lastMd {
		t.index(termHash(termModel, model))
		t.lastMd = model
	}
	t.any = true
}

func (t *bloomTerms) reset() {
	t.hashes, t.indexed = t.hashes[:0], t.indexed[:0]
	clear(t.seen)
	t.any = false
	t.lastKey, t.lastUser, t.lastMd = "", "", ""
}

// index adds an indexed term (once).
func (t *bloomTerms) index(h uint64) {
	if t.seen == nil {
		t.seen = make(map[uint64]struct{})
	}
	if _, ok := t.seen[h]; ok {
		return
	}
	t.seen[h] = struct{}{}
	t.hashes = append(t.hashes, h)
	t.indexed = append(t.indexed, h)
}

// filter is the encoded Bloom filter of the collected terms.
func (t *bloomTerms) filter(shape bloomShape) []byte {
	m := max(64, len(t.hashes)*shape.bitsPer)
	f := make([]byte, 1+(m+7)/8)
	f[0] = byte(shape.hashes)
	bits := f[1:]
	nbits := uint64(len(bits)) * 8
	for _, h := range t.hashes {
		h1, h2 := h&0xffffffff, h>>32|1
		for i := range uint64(shape.hashes) {
			b := (h1 + i*h2) % nbits
			bits[b/8] |= 1 << (b % 8)
		}
	}
	return f
}

// mayContain reports whether filter may hold the term hashed h. A
// malformed filter answers true: the chunk is read and checked.
func mayContain(filter []byte, h uint64) bool {
	if len(filter) < 2 || filter[0] == 0 || filter[0] > 32 {
		return true
	}
	k, bits := uint64(filter[0]), filter[1:]
	nbits := uint64(len(bits)) * 8
	h1, h2 := h&0xffffffff, h>>32|1
	for i := range k {
		b := (h1 + i*h2) % nbits
		if bits[b/8]&(1<<(b%8)) == 0 {
			return false
		}
	}
	return true
}
