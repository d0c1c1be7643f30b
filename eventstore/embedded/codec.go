package embedded

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
)

// Key layout. Every key starts with a one-byte prefix so that each kind of key
// is one contiguous, ordered range:
//
//	prefixMeta   + name                                  → meta value (format version)
//	prefixEvent  + be64(position)                        → record (see encodeRecord)
//	prefixStream + be16(len(stream)) + stream + be64(rev) → be64(position)
//	prefixID     + eventID[16]                           → be64(position)
//
// Reading $all is one ordered scan of the prefixEvent range; reading a stream
// is one ordered scan of its prefixStream range (the length prefix keeps one
// stream's keys from interleaving with another's) plus a point read per event;
// the last position and a stream's last revision are each one seek, so opening
// a store never scans its events.
const (
	prefixMeta   byte = 0x01
	prefixEvent  byte = 0x02
	prefixStream byte = 0x03
	prefixID     byte = 0x04
)

// formatVersion is written once when a store is created and checked on every
// open. Change it whenever the key layout or the record encoding changes.
const formatVersion = "collections-ledger/embedded/v1"

var formatKey = []byte{prefixMeta, 'f', 'o', 'r', 'm', 'a', 't'}

// recordVersion is the first byte of every encoded record after its checksum.
const recordVersion byte = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func eventKey(p eventstore.Position) []byte {
	k := make([]byte, 9)
	k[0] = prefixEvent
	binary.BigEndian.PutUint64(k[1:], uint64(p))
	return k
}

func streamPrefix(stream string) []byte {
	k := make([]byte, 0, 3+len(stream)+8)
	k = append(k, prefixStream)
	k = binary.BigEndian.AppendUint16(k, uint16(len(stream)))
	return append(k, stream...)
}

func streamKey(stream string, rev uint64) []byte {
	return binary.BigEndian.AppendUint64(streamPrefix(stream), rev)
}

func idKey(id uuid.UUID) []byte {
	k := make([]byte, 17)
	k[0] = prefixID
	copy(k[1:], id[:])
	return k
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// encodeRecord lays out an event as
//
//	crc32c(be64(position) ‖ body) [4] ‖ body
//	body = recordVersion [1] ‖ id [16] ‖ uvarint(revision) ‖ varint(recordedAt, Unix ns)
//	       ‖ uvarint(len) stream ‖ uvarint(len) type ‖ uvarint(len) data ‖ uvarint(len) metadata
//
// The checksum covers the position (the key) too, so a record that ended up
// under another key is caught as well as a flipped bit.
func encodeRecord(dst []byte, pos eventstore.Position, id uuid.UUID, stream string, rev uint64, at time.Time, e eventstore.EventData) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, recordVersion)
	dst = append(dst, id[:]...)
	dst = binary.AppendUvarint(dst, rev)
	dst = binary.AppendVarint(dst, at.UnixNano())
	dst = binary.AppendUvarint(dst, uint64(len(stream)))
	dst = append(dst, stream...)
	dst = binary.AppendUvarint(dst, uint64(len(e.Type)))
	dst = append(dst, e.Type...)
	dst = binary.AppendUvarint(dst, uint64(len(e.Data)))
	dst = append(dst, e.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(e.Metadata)))
	dst = append(dst, e.Metadata...)
	binary.LittleEndian.PutUint32(dst[start:], recordChecksum(pos, dst[start+4:]))
	return dst
}

func recordChecksum(pos eventstore.Position, body []byte) uint32 {
	// The position's 8 big-endian bytes by the table, as crc32.Update does
	// bytes it has no faster way for: handing crc32 a slice of them moved
	// them to the heap, an allocation for every record read.
	crc := ^uint32(0)
	for shift := 56; shift >= 0; shift -= 8 {
		crc = castagnoli[byte(crc)^byte(uint64(pos)>>shift)] ^ crc>>8
	}
	return crc32.Update(^crc, castagnoli, body)
}

// decodeRecord decodes one record stored under pos (see decoder).
func decodeRecord(pos eventstore.Position, value []byte) (eventstore.RecordedEvent, error) {
	var d decoder
	return d.decode(pos, value)
}

// decoder decodes the records of one read. It copies each value (Pebble
// reuses its buffers) into an arena shared by the batch instead of one
// allocation per event: the arena's chunks start at the first record's size
// and double up to maxArenaChunk, so a one-event read allocates one record's
// worth and a long scan a few large chunks. It also reuses the strings of
// event types and of consecutive events of one stream. A checksum mismatch or
// a malformed record is ErrCorrupt, naming the position.
type decoder struct {
	arena      []byte
	chunk      int
	types      map[string]string
	lastStream string
}

const maxArenaChunk = 256 << 10

func (d *decoder) decode(pos eventstore.Position, value []byte) (eventstore.RecordedEvent, error) {
	corrupt := func(why string) (eventstore.RecordedEvent, error) {
		return eventstore.RecordedEvent{}, fmt.Errorf("%w: event at position %d: %s", eventstore.ErrCorrupt, pos, why)
	}
	if len(value) < 4+1+16 {
		return corrupt("record too short")
	}
	if binary.LittleEndian.Uint32(value) != recordChecksum(pos, value[4:]) {
		return corrupt("checksum mismatch")
	}
	if value[4] != recordVersion {
		return corrupt(fmt.Sprintf("unknown record version %d", value[4]))
	}
	n := len(value) - 5
	if cap(d.arena)-len(d.arena) < n {
		d.chunk = min(max(2*d.chunk, n), maxArenaChunk)
		d.arena = make([]byte, 0, max(n, d.chunk))
	}
	start := len(d.arena)
	d.arena = append(d.arena, value[5:]...)
	buf := d.arena[start:len(d.arena):len(d.arena)]

	r := eventstore.RecordedEvent{Position: pos}
	copy(r.ID[:], buf[:16])
	b := buf[16:]
	rev, k := binary.Uvarint(b)
	if k <= 0 {
		return corrupt("bad revision")
	}
	r.Revision, b = rev, b[k:]
	at, k := binary.Varint(b)
	if k <= 0 {
		return corrupt("bad timestamp")
	}
	r.RecordedAt, b = time.Unix(0, at).UTC(), b[k:]
	var fields [4][]byte
	for i := range fields {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return corrupt("bad field length")
		}
		fields[i], b = b[k:k+int(l):k+int(l)], b[k+int(l):]
	}
	if len(b) != 0 {
		return corrupt("trailing bytes")
	}
	if string(fields[0]) == d.lastStream {
		r.Stream = d.lastStream
	} else {
		r.Stream = string(fields[0])
		d.lastStream = r.Stream
	}
	if t, ok := d.types[string(fields[1])]; ok {
		r.Type = t
	} else {
		if d.types == nil {
			d.types = make(map[string]string)
		}
		r.Type = string(fields[1])
		d.types[r.Type] = r.Type
	}
	if len(fields[2]) > 0 {
		r.Data = fields[2]
	}
	if len(fields[3]) > 0 {
		r.Metadata = fields[3]
	}
	return r, nil
}

func nowUTC() time.Time { return time.Now().UTC() }
