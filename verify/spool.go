package verify

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minlz"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/internal/bincodec"
	"github.com/collections-ledger/ledger/journal"
)

// When verify reads a large log in passes (see pass), only the first pass
// reads the log. It copies each event that a later pass is for into that
// pass's spool, a file in verify's temporary directory, and each later pass
// reads its spool instead of the whole log again. Reading the log once per
// pass made the reads grow with the square of the log: at 10M events, seven
// passes read 70M events. With the spools the log is read once and each
// event is written and read back once more (at most twice: an event of a
// stream that is not a placement's is also the last pass's, which checks
// the remittances). The spools are compressed in blocks (MinLZ, as the
// views' bulk build sorts), each with a checksum; each is removed once its
// pass has read it, so the disk they take is at most what the first pass
// wrote.

// spoolBlock is how many bytes of events a spool gathers before it
// compresses them and writes them out.
const spoolBlock = 256 << 10

// maxSpoolBlock bounds a block read back: one is written once it holds
// spoolBlock bytes, so at most that and one event more, and compressing
// adds less than the rest of the bound.
const maxSpoolBlock = spoolBlock + 2*eventstore.MaxEventBytes

// castagnoli is the table of the checksum each spool block carries: the
// spools are on disk while verify runs, and a block damaged there fails
// verify with an error instead of giving findings about events it changed.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// spooler writes the events of the passes after the first into their
// spools, on a goroutine of its own, while the first pass checks them.
type spooler struct {
	dir     string
	n       int
	writers []*spoolWriter // by pass; the first pass has none
	batches chan []eventstore.RecordedEvent
	done    chan error
}

// newSpooler creates the spools of passes 1 to n-1 in dir.
func newSpooler(dir string, n int) (*spooler, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("verify: the passes' spools: %w", err)
	}
	sp := &spooler{dir: dir, n: n, writers: make([]*spoolWriter, n),
		batches: make(chan []eventstore.RecordedEvent, 4), done: make(chan error, 1)}
	for k := 1; k < n; k++ {
		f, err := os.Create(sp.path(k))
		if err != nil {
			sp.closeFiles()
			return nil, fmt.Errorf("verify: the passes' spools: %w", err)
		}
		sp.writers[k] = &spoolWriter{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	}
	go func() { sp.done <- sp.run() }()
	return sp, nil
}

// path is pass k's spool.
func (sp *spooler) path(k int) string {
	return filepath.Join(sp.dir, fmt.Sprintf("pass-%d", k))
}

// add spools a batch the first pass has read. The batch must not change
// afterwards (the log's reads return batches of their own).
func (sp *spooler) add(batch []eventstore.RecordedEvent) { sp.batches <- batch }

// close writes out what is gathered and closes the spools, and returns the
// first error met writing them.
func (sp *spooler) close() error {
	close(sp.batches)
	return <-sp.done
}

func (sp *spooler) run() error {
	var err error
	for batch := range sp.batches {
		if err != nil {
			continue // drain, so that add never blocks
		}
		for i := range batch {
			if err = sp.spool(&batch[i]); err != nil {
				break
			}
		}
	}
	for _, w := range sp.writers[1:] {
		if ferr := w.flush(true); err == nil {
			err = ferr
		}
	}
	if cerr := sp.closeFiles(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("verify: writing the passes' spools: %w", err)
	}
	return nil
}

func (sp *spooler) closeFiles() error {
	var err error
	for _, w := range sp.writers {
		if w != nil && w.f != nil {
			err = errors.Join(err, w.f.Close())
			w.f = nil
		}
	}
	return err
}

// spool writes rec to the spools of the passes after the first that it is
// for: its stream's (see routeOf) and, for a stream that is not a
// placement's, the last pass's, which checks the remittances.
func (sp *spooler) spool(rec *eventstore.RecordedEvent) error {
	r := routeOf(rec.Stream)
	k := passOf(r.owner(), sp.n)
	if k > 0 {
		if err := sp.writers[k].add(rec); err != nil {
			return err
		}
	}
	if last := sp.n - 1; r.other() && k != last {
		return sp.writers[last].add(rec)
	}
	return nil
}

// route is how verify sorts an event by its stream's name: the placement
// whose stream it is (uuid.Nil for another stream), whether the name is a
// placement stream's without a placement id (bad), and for a stream that
// is not a placement's, its key.
type route struct {
	placement uuid.UUID
	bad       bool
	key       streamKey
}

func routeOf(stream string) route {
	if id, ok := strings.CutPrefix(stream, journal.PlacementPrefix); ok {
		pid, err := uuid.Parse(id)
		switch {
		case err != nil:
			return route{bad: true, key: streamKeyOf(stream)}
		case pid != uuid.Nil:
			return route{placement: pid}
		}
	}
	return route{key: streamKeyOf(stream)}
}

// owner is what the stream's pass is chosen by (see pass.owns): the
// placement's id for a placement's stream, so that the pass that folds a
// placement checks its stream's links; else the stream's key.
func (r *route) owner() []byte {
	if r.placement != uuid.Nil {
		return r.placement[:]
	}
	return r.key[:]
}

// other reports whether the stream is neither a placement's nor named as
// one (the remittances, the agency's own streams).
func (r *route) other() bool { return r.placement == uuid.Nil && !r.bad }

// streamKey returns the stream's key, stream being its name.
func (r *route) streamKey(stream string) streamKey {
	if r.placement != uuid.Nil {
		return streamKeyOf(stream)
	}
	return r.key
}

// spoolWriter gathers a spool's events into blocks and writes each block
// compressed, after its length and its checksum.
type spoolWriter struct {
	f          *os.File
	w          *bufio.Writer
	block, enc []byte
}

func (w *spoolWriter) add(rec *eventstore.RecordedEvent) error {
	w.block = appendSpooled(w.block, rec)
	return w.flush(false)
}

// flush writes the block once it is full, or with all, whatever it holds.
func (w *spoolWriter) flush(all bool) error {
	if len(w.block) == 0 || (!all && len(w.block) < spoolBlock) {
		if all {
			return w.w.Flush()
		}
		return nil
	}
	enc, err := minlz.Encode(w.enc[:cap(w.enc)], w.block, minlz.LevelFastest)
	if err != nil {
		return err
	}
	w.enc, w.block = enc, w.block[:0]
	head := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+4), uint64(len(enc)))
	if _, err := w.w.Write(binary.LittleEndian.AppendUint32(head, crc32.Checksum(enc, castagnoli))); err != nil {
		return err
	}
	if _, err := w.w.Write(enc); err != nil {
		return err
	}
	if all {
		return w.w.Flush()
	}
	return nil
}

// appendSpooled appends an event as a spool holds it: every field of it.
func appendSpooled(b []byte, rec *eventstore.RecordedEvent) []byte {
	b = binary.AppendUvarint(b, uint64(rec.Position))
	b = binary.AppendUvarint(b, rec.Revision)
	b = append(binary.AppendUvarint(b, uint64(len(rec.ID))), rec.ID[:]...)
	b = binary.AppendVarint(b, rec.RecordedAt.Unix())
	b = binary.AppendUvarint(b, uint64(rec.RecordedAt.Nanosecond()))
	b = bincodec.AppendString(b, rec.Stream)
	b = bincodec.AppendString(b, rec.Type)
	b = append(binary.AppendUvarint(b, uint64(len(rec.Data))), rec.Data...)
	return append(binary.AppendUvarint(b, uint64(len(rec.Metadata))), rec.Metadata...)
}

// readSpooled reads an event appendSpooled wrote; its data and metadata are
// r's memory. types holds the event types read so far, each string made
// once.
func readSpooled(r *bincodec.Reader, types map[string]string) (rec eventstore.RecordedEvent, err error) {
	rec.Position = eventstore.Position(r.Uvarint())
	rec.Revision = r.Uvarint()
	if id := r.Bytes(); len(id) == len(rec.ID) {
		rec.ID = uuid.UUID(id)
	} else if r.Err() == nil {
		return rec, fmt.Errorf("an event id of %d bytes", len(id))
	}
	sec, nsec := r.Varint(), r.Uvarint()
	rec.RecordedAt = time.Unix(sec, int64(nsec)).UTC()
	rec.Stream = r.String()
	typ := r.Bytes()
	if rec.Type = types[string(typ)]; rec.Type == "" && len(typ) > 0 {
		rec.Type = string(typ)
		types[rec.Type] = rec.Type
	}
	rec.Data, rec.Metadata = r.Bytes(), r.Bytes()
	return rec, r.Err()
}

// readSpool reads pass k's spool in batches, as readAll reads the log (the
// next batch read while the current one is checked), each batch to each;
// and removes the spool.
func (s *scan) readSpool(ctx context.Context, path string, head eventstore.Position, progress func(pos, head eventstore.Position),
	each func([]eventstore.RecordedEvent) eventstore.Position) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify: a pass's spool: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()
	type read struct {
		batch []eventstore.RecordedEvent
		err   error
	}
	reads := make(chan read, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(reads)
		sr := spoolReader{br: bufio.NewReaderSize(f, 64<<10), types: map[string]string{}}
		for {
			batch, err := sr.next()
			if batch == nil && err == nil {
				return
			}
			select {
			case reads <- read{batch, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for r := range reads {
		if r.err != nil {
			return fmt.Errorf("verify: reading a pass's spool: %w", r.err)
		}
		after := each(r.batch)
		if progress != nil {
			progress(after, head)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// spoolBatch is how many events a spool's reader gathers into a batch, at
// least (the blocks are read whole), as readAll reads the log.
const spoolBatch = 5000

// spoolReader reads a spool's blocks back into batches.
type spoolReader struct {
	br *bufio.Reader
	// types holds the event types read so far, each string made once.
	types map[string]string
}

// next returns the next batch: at least spoolBatch events but at the end,
// nil there.
func (sr *spoolReader) next() ([]eventstore.RecordedEvent, error) {
	batch := make([]eventstore.RecordedEvent, 0, 2*spoolBatch)
	for len(batch) < spoolBatch {
		block, err := sr.block()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for r := bincodec.NewReader(block); len(r.Rest()) > 0; {
			rec, err := readSpooled(&r, sr.types)
			if err != nil {
				return nil, err
			}
			batch = append(batch, rec)
		}
	}
	if len(batch) == 0 {
		return nil, nil
	}
	return batch, nil
}

// block reads, checks and decompresses the next block; io.EOF at the end.
// The events read from it are its memory, which is not used again.
func (sr *spoolReader) block() ([]byte, error) {
	n, err := binary.ReadUvarint(sr.br)
	switch {
	case errors.Is(err, io.EOF):
		return nil, io.EOF
	case err != nil:
		return nil, err
	case n > maxSpoolBlock:
		return nil, fmt.Errorf("a block of %d bytes", n)
	}
	enc := make([]byte, 4+n)
	if _, err := io.ReadFull(sr.br, enc); errors.Is(err, io.EOF) {
		return nil, io.ErrUnexpectedEOF // a length with no block: cut short
	} else if err != nil {
		return nil, err
	}
	sum := binary.LittleEndian.Uint32(enc)
	if enc = enc[4:]; crc32.Checksum(enc, castagnoli) != sum {
		return nil, errors.New("a block's checksum does not match it")
	}
	return minlz.Decode(nil, enc)
}
