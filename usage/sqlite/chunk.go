package sqlite

import (
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/llmgateway/gateway/usage"
)

// A chunk is the records of one team from one Write, in one BLOB (the
// usage_chunk_data row) with a Bloom filter of what Logs filters on (the
// usage_chunks row). Encoding, version 1 ("gwc1"); integers are varints
// (encoding/binary), unsigned unless said:
//
//	"gwc1"
//	each record:
//	  start (signed: microseconds after the previous record's start, the
//	  first's after 0), end - start (signed, µs), the request id (the
//	  length of the prefix it shares with the previous record's, then
//	  the rest: length, bytes), dictionary indexes of key id, key alias, key user, user, end
//	  user, route, model, model group, deployment, provider and error type,
//	  status, prompt, completion and cached tokens, the cost (8 bytes, IEEE
//	  754 bits, little endian), latency and time to first token (µs),
//	  flags (1: stream), retries, fallbacks, the number of tags and their
//	  dictionary indexes, the metadata (length, bytes)
//	the dictionary: nstrings, then each string: length, bytes
//	the trailer: the dictionary's offset and the number of records, each
//	  4 bytes, little endian
//
// The team is the chunk's column, not in the blob. Strings repeat within
// a chunk (a team's keys, models and routes), so the dictionary keeps a
// chunk small without a compressor's CPU; coming last, it is appended to
// the records where they were encoded, without a copy.
const chunkMagic = "gwc1"

const chunkTrailer = 8

// chunkWriter encodes one chunk.
type chunkWriter struct {
	team    string
	rollups usage.Rollups
	dict    map[string]uint64
	strs    []string
	last    [refSlots]string // each slot's last value, and its index
	lastIdx [refSlots]uint64
	recs    []byte // the magic, then the records
	n       int
	prev    int64  // the previous record's start (µs)
	prevID  string // and its request id
	terms   bloomTerms

	startMin, startMax, endMin, endMax int64
}

// chunkWriters are reused: a Write's encoding then allocates almost
// nothing (release puts them back).
var chunkWriters = sync.Pool{New: func() any { return &chunkWriter{dict: make(map[string]uint64)} }}

func newChunkWriter(team string) *chunkWriter {
	c := chunkWriters.Get().(*chunkWriter)
	c.team = team
	c.recs = append(c.recs[:0], chunkMagic...)
	return c
}

// release resets c and returns it to the pool; c (and what encode
// returned) must not be used after.
func (c *chunkWriter) release() {
	if cap(c.recs) > 1<<20 {
		return // an outsize chunk is left to the GC
	}
	c.rollups.Reset()
	clear(c.dict)
	clear(c.strs)
	c.strs = c.strs[:0]
	c.last, c.lastIdx = [refSlots]string{}, [refSlots]uint64{}
	c.n, c.prev, c.prevID = 0, 0, ""
	c.terms.reset()
	c.team = ""
	c.startMin, c.startMax, c.endMin, c.endMax = 0, 0, 0, 0
	chunkWriters.Put(c)
}

// refSlots are the record fields ref remembers the last value of.
const refSlots = 11

// ref appends s's dictionary index. slot is the field's (refSlots for
// tags): a field usually repeats the previous record's, which is checked
// before the map.
func (c *chunkWriter) ref(slot int, s string) {
	if slot < refSlots && c.n > 1 && c.last[slot] == s {
		c.recs = binary.AppendUvarint(c.recs, c.lastIdx[slot])
		return
	}
	i, ok := c.dict[s]
	if !ok {
		i = uint64(len(c.strs))
		c.dict[s] = i
		c.strs = append(c.strs, s)
	}
	if slot < refSlots {
		c.last[slot], c.lastIdx[slot] = s, i
	}
	c.recs = binary.AppendUvarint(c.recs, i)
}

func (c *chunkWriter) bytes(b string) {
	c.recs = binary.AppendUvarint(c.recs, uint64(len(b)))
	c.recs = append(c.recs, b...)
}

// add encodes a (Bound) record.
func (c *chunkWriter) add(r *usage.Record) {
	start, end := r.Start.UnixMicro(), r.End.UnixMicro()
	if c.n == 0 {
		c.startMin, c.startMax, c.endMin, c.endMax = start, start, end, end
	} else {
		c.startMin, c.startMax = min(c.startMin, start), max(c.startMax, start)
		c.endMin, c.endMax = min(c.endMin, end), max(c.endMax, end)
	}
	c.n++
	c.recs = binary.AppendVarint(c.recs, start-c.prev)
	c.prev = start
	c.recs = binary.AppendVarint(c.recs, end-start)
	// The request id after what it shares with the previous one (the
	// gateway's ids share a prefix).
	shared := 0
	for shared < len(r.RequestID) && shared < len(c.prevID) && r.RequestID[shared] == c.prevID[shared] {
		shared++
	}
	c.recs = binary.AppendUvarint(c.recs, uint64(shared))
	c.bytes(r.RequestID[shared:])
	c.prevID = r.RequestID
	for slot, s := range [refSlots]string{r.KeyID, r.KeyAlias, r.KeyUserID, r.User, r.EndUser, r.Route, r.Model,
		r.ModelGroup, r.DeploymentID, r.Provider, r.ErrorType} {
		c.ref(slot, s)
	}
	c.recs = binary.AppendUvarint(c.recs, uint64(max(r.Status, 0)))
	c.recs = binary.AppendVarint(c.recs, r.PromptTokens)
	c.recs = binary.AppendVarint(c.recs, r.CompletionTokens)
	c.recs = binary.AppendVarint(c.recs, r.CachedTokens)
	c.recs = binary.LittleEndian.AppendUint64(c.recs, math.Float64bits(finite(r.Cost)))
	c.recs = binary.AppendVarint(c.recs, r.Latency.Microseconds())
	c.recs = binary.AppendVarint(c.recs, r.TTFT.Microseconds())
	var flags uint64
	if r.Stream {
		flags |= 1
	}
	c.recs = binary.AppendUvarint(c.recs, flags)
	c.recs = binary.AppendUvarint(c.recs, uint64(max(r.Retries, 0)))
	c.recs = binary.AppendUvarint(c.recs, uint64(max(r.Fallbacks, 0)))
	c.recs = binary.AppendUvarint(c.recs, uint64(len(r.Tags)))
	for _, t := range r.Tags {
		c.ref(refSlots, t)
	}
	c.bytes(string(r.Metadata))
	c.terms.add(r)
}

// encode is the chunk's blob: it appends the dictionary and the trailer
// to the records; nothing may be added after.
func (c *chunkWriter) encode() []byte {
	b := c.recs
	dictAt := len(b)
	b = binary.AppendUvarint(b, uint64(len(c.strs)))
	for _, s := range c.strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(dictAt))
	b = binary.LittleEndian.AppendUint32(b, uint32(c.n))
	c.recs = b
	return b
}

var errChunk = errors.New("usage store: a stored chunk is malformed")

// chunkReader reads a chunk's blob.
type chunkReader struct {
	b   []byte
	err bool
}

func (d *chunkReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *chunkReader) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a count of items each at least one byte long.
func (d *chunkReader) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.err, d.b = true, nil
		return 0
	}
	return int(v)
}

func (d *chunkReader) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err, d.b = true, nil
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// decodeChunk reads the records of a chunk of team's.
func decodeChunk(team string, blob []byte) ([]usage.Record, error) {
	if len(blob) < len(chunkMagic)+chunkTrailer || string(blob[:len(chunkMagic)]) != chunkMagic {
		return nil, errChunk
	}
	end := len(blob) - chunkTrailer
	dictAt := uint64(binary.LittleEndian.Uint32(blob[end:]))
	n := uint64(binary.LittleEndian.Uint32(blob[end+4:]))
	if dictAt < uint64(len(chunkMagic)) || dictAt > uint64(end) || n > dictAt {
		return nil, errChunk
	}
	dict := &chunkReader{b: blob[dictAt:end]}
	strs := make([]string, dict.count())
	for i := range strs {
		strs[i] = string(dict.bytes())
	}
	if dict.err || len(dict.b) != 0 {
		return nil, errChunk
	}
	d := &chunkReader{b: blob[len(chunkMagic):dictAt]}
	ref := func() string {
		i := d.uvarint()
		if i >= uint64(len(strs)) {
			d.err, d.b = true, nil
			return ""
		}
		return strs[i]
	}
	recs := make([]usage.Record, n)
	var prev int64
	var prevID string
	for i := range recs {
		r := &recs[i]
		r.TeamID = team
		start := prev + d.varint()
		prev = start
		end := start + d.varint()
		r.Start, r.End = time.UnixMicro(start).UTC(), time.UnixMicro(end).UTC()
		shared := d.uvarint()
		suffix := d.bytes()
		if shared > uint64(len(prevID)) {
			return nil, errChunk
		}
		r.RequestID = prevID[:shared] + string(suffix)
		prevID = r.RequestID
		r.KeyID, r.KeyAlias, r.KeyUserID, r.User, r.EndUser = ref(), ref(), ref(), ref(), ref()
		r.Route, r.Model, r.ModelGroup, r.DeploymentID, r.Provider, r.ErrorType = ref(), ref(), ref(), ref(), ref(), ref()
		status := d.uvarint()
		if status > math.MaxInt32 {
			d.err = true
		}
		r.Status = int(status)
		r.PromptTokens, r.CompletionTokens, r.CachedTokens = d.varint(), d.varint(), d.varint()
		if len(d.b) < 8 {
			return nil, errChunk
		}
		r.Cost = math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		r.Latency, r.TTFT = time.Duration(d.varint())*time.Microsecond, time.Duration(d.varint())*time.Microsecond
		flags := d.uvarint()
		r.Stream = flags&1 != 0
		retries, fallbacks := d.uvarint(), d.uvarint()
		if retries > math.MaxInt32 || fallbacks > math.MaxInt32 {
			d.err = true
		}
		r.Retries, r.Fallbacks = int(retries), int(fallbacks)
		if n := d.count(); n > 0 {
			r.Tags = make([]string, n)
			for j := range r.Tags {
				r.Tags[j] = ref()
			}
		}
		if md := d.bytes(); len(md) > 0 {
			r.Metadata = md
		}
		if d.err {
			return nil, errChunk
		}
	}
	if d.err || len(d.b) != 0 {
		return nil, errChunk
	}
	return recs, nil
}
