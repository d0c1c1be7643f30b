package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/internal/plainjson"
)

// The hash chain. Every event the ledger writes carries, at the start of its
// metadata, the SHA-256 of its canonical content and the hash of the
// previous event of its stream (all zeros for a stream's first event):
//
//	metadata = {"hash":"<hash>","prevHash":"<hash>",<core…
//
// Each <hash> is the 32 bytes in unpadded base64url (43 characters) since
// metadata schema 2, and in hexadecimal (64 characters) before; readers take
// both. The prefix is not hashed, so the encoding does not change a hash.
//
// where core is the rest of the metadata JSON, exactly the bytes that were
// hashed (core starts with the '{' that the prefix replaces). The hash is
//
//	SHA-256( "collections-ledger/event/v1\n"
//	         ‖ prevHash (32 raw bytes)
//	         ‖ stream "\n" ‖ revision (decimal) "\n" ‖ event id (36 characters) "\n" ‖ type "\n"
//	         ‖ len(data) (decimal) "\n" ‖ data
//	         ‖ core )
//
// So changing any byte of an event's data, type, id, metadata or place in its
// stream, or removing or reordering events, breaks the chain from that event
// on. The chain is computed by the ledger, not the store, so it works the
// same on both engines.

// Hash is a SHA-256 digest in the chain.
type Hash [32]byte

// String is h in hexadecimal, encoded on the stack (one allocation, the
// string, where hex.EncodeToString makes two).
func (h Hash) String() string {
	var b [2 * len(Hash{})]byte
	hex.Encode(b[:], h[:])
	return string(b[:])
}

const chainDomain = "collections-ledger/event/v1\n"

// EventHash computes an event's hash from its parts.
//
// It hashes one buffer with sha256.Sum256, on the stack for an event of up
// to about 3 KB: every command and every event verify reads hashes one, and
// a hash.Hash and fmt's formatting cost allocations each time.
func EventHash(prev Hash, stream string, revision uint64, id uuid.UUID, eventType string, data, core []byte) Hash {
	return eventHash(prev, stream, revision, id, eventType, data, nil, core)
}

// eventHash is EventHash of the core open and rest together, without
// joining them first (CheckSeal: the stored metadata holds the core's
// rest after the chain's prefix).
func eventHash(prev Hash, stream string, revision uint64, id uuid.UUID, eventType string, data, open, rest []byte) Hash {
	var stack [3072]byte
	b := append(stack[:0], chainDomain...)
	b = append(b, prev[:]...)
	b = append(append(b, stream...), '\n')
	b = append(strconv.AppendUint(b, revision, 10), '\n')
	b = append(plainjson.AppendUUID(b, id), '\n')
	b = append(append(b, eventType...), '\n')
	b = append(strconv.AppendInt(b, int64(len(data)), 10), '\n')
	b = append(append(append(b, data...), open...), rest...)
	return sha256.Sum256(b)
}

var (
	// coreOpen begins the core that is hashed, which the stored metadata
	// holds after the chain's prefix.
	coreOpen = []byte(`{`)
	sealHash = []byte(`{"hash":"`)
	sealPrev = []byte(`","prevHash":"`)
	sealEnd  = []byte(`",`)
)

// seal returns the metadata to store: the chain prefix and core.
func seal(hash, prev Hash, core []byte) []byte {
	out := make([]byte, 0, len(core)+2*base64URLLen+32)
	out = append(out, sealHash...)
	out = base64.RawURLEncoding.AppendEncode(out, hash[:])
	out = append(out, sealPrev...)
	out = base64.RawURLEncoding.AppendEncode(out, prev[:])
	out = append(out, sealEnd...)
	return append(out, core[1:]...)
}

const base64URLLen = 43 // 32 bytes in unpadded base64url

// parseHash reads a hash as the chain writes it, base64url or hexadecimal,
// at the start of b up to the closing quote, and returns what follows it.
func parseHash(b []byte, name string) (Hash, []byte, error) {
	var h Hash
	end := bytes.IndexByte(b, '"')
	if end < 0 {
		return h, nil, fmt.Errorf("%s is not a string", name)
	}
	// Only the canonical spelling of a hash is taken (base64url with its
	// unused bits zero, lowercase hexadecimal), so that no stored byte can
	// change without verification noticing.
	var err error
	switch end {
	case base64URLLen:
		var n int
		n, err = base64.RawURLEncoding.Strict().Decode(h[:], b[:end])
		if err == nil && n != len(h) {
			err = fmt.Errorf("short")
		}
	case 2 * len(h):
		if _, err = hex.Decode(h[:], b[:end]); err == nil && hex.EncodeToString(h[:]) != string(b[:end]) {
			err = fmt.Errorf("not lowercase")
		}
	default:
		err = fmt.Errorf("wrong length")
	}
	if err != nil {
		return h, nil, fmt.Errorf("%s is neither 43 base64url nor 64 lowercase hexadecimal characters", name)
	}
	return h, b[end:], nil
}

// unsealHashes reads the chain prefix of stored metadata: its hash, its
// previous hash, and the rest after the prefix's closing `",`.
func unsealHashes(meta []byte) (hash, prev Hash, rest []byte, err error) {
	rest, ok := bytes.CutPrefix(meta, sealHash)
	if !ok {
		return hash, prev, nil, fmt.Errorf("metadata does not start with the hash chain")
	}
	if hash, rest, err = parseHash(rest, "hash"); err != nil {
		return hash, prev, nil, err
	}
	if rest, ok = bytes.CutPrefix(rest, sealPrev); !ok {
		return hash, prev, nil, fmt.Errorf("metadata has no prevHash after its hash")
	}
	if prev, rest, err = parseHash(rest, "prevHash"); err != nil {
		return hash, prev, nil, err
	}
	if rest, ok = bytes.CutPrefix(rest, sealEnd); !ok {
		return hash, prev, nil, fmt.Errorf("metadata is malformed after prevHash")
	}
	return hash, prev, rest, nil
}

// Unseal splits stored metadata into its hash, its previous hash and the
// core that was hashed.
func Unseal(meta []byte) (hash, prev Hash, core []byte, err error) {
	hash, prev, rest, err := unsealHashes(meta)
	if err != nil {
		return hash, prev, nil, err
	}
	core = make([]byte, 0, len(rest)+1)
	core = append(append(core, coreOpen...), rest...)
	return hash, prev, core, nil
}

// Seal is what one event's stored metadata says about the chain, and whether
// its content matches: everything about an event that can be checked
// without looking at the event before it (so it can be computed in
// parallel). Field and Err are set when the event itself is broken.
type Seal struct {
	Hash, Prev Hash
	Field      string
	Err        error
}

// CheckSeal checks one event's own hash against its content, using the
// previous hash its metadata names. Whether that previous hash is the
// previous event's is the caller's check (Seal.Prev against it).
func CheckSeal(stream string, revision uint64, id uuid.UUID, eventType string, data, meta []byte) Seal {
	hash, prev, rest, err := unsealHashes(meta)
	if err != nil {
		return Seal{Field: "metadata", Err: err}
	}
	if want := eventHash(prev, stream, revision, id, eventType, data, coreOpen, rest); want != hash {
		return Seal{Hash: hash, Prev: prev, Field: "hash", Err: fmt.Errorf("stored hash %s does not match the content, which hashes to %s", hash, want)}
	}
	return Seal{Hash: hash, Prev: prev}
}

// CheckLink verifies one event against the hash of the event before it in
// its stream. It returns the event's hash and, when the link is broken, which
// field is wrong: "metadata" (no chain), "prevHash" (the link to the previous
// event) or "hash" (the event's own content).
func CheckLink(prev Hash, stream string, revision uint64, id uuid.UUID, eventType string, data, meta []byte) (Hash, string, error) {
	s := CheckSeal(stream, revision, id, eventType, data, meta)
	switch {
	case s.Field == "metadata":
		return s.Hash, s.Field, s.Err
	case s.Prev != prev:
		return s.Hash, "prevHash", fmt.Errorf("prevHash %s does not match the previous event's hash %s", s.Prev, prev)
	}
	return s.Hash, s.Field, s.Err
}

// LastHash returns the hash in an event's metadata (zero if it has none).
func LastHash(meta []byte) Hash {
	h, _, _, err := unsealHashes(meta)
	if err != nil {
		return Hash{}
	}
	return h
}

// Chain builds the stored form of an event: its metadata m (without Hash
// and PrevHash) is the core that is hashed with the event and the hash of
// the event before it in its stream (prev; zero for a stream's first), and
// is stored behind the hash chain's prefix, in the schema this code writes
// (domain.SchemaVersion, set here). It returns the event and its hash, the
// prev of the stream's next event.
func Chain(prev Hash, stream string, revision uint64, id uuid.UUID, eventType string, data []byte, m Metadata) (eventstore.EventData, Hash, error) {
	m.SchemaVersion = domain.SchemaVersion
	m.compact()
	core, err := marshalMetadata(&m)
	if err != nil {
		return eventstore.EventData{}, Hash{}, err
	}
	hash := EventHash(prev, stream, revision, id, eventType, data, core)
	return eventstore.EventData{ID: id, Type: eventType, Data: data, Metadata: seal(hash, prev, core)}, hash, nil
}
