package verify

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// Export re-checks the hash chains of an export in JSON Lines form, without
// the store, and every placement's postings (balanced per event, the claim's
// money conserved at every position) from its handover on. A stream whose
// export starts after its first event (a time window) is checked from its
// first exported event on. What it keeps per stream and claim beyond what
// its maps hold in memory goes to a scratch store in a temporary directory
// (TMPDIR), removed at the end, so its memory does not grow with the
// export.
//
// The export is read in batches of lines: each line is parsed, its hash
// checked and its event decoded on every core (exportBatch), then the
// batch is checked in order: each stream's links, the remittances, the
// claims' books (exportedPostings).
func Export(ctx context.Context, r io.Reader) (Report, error) {
	start := time.Now()
	v := &verifier{}
	dir, err := os.MkdirTemp("", "ledger-verify-export-")
	if err != nil {
		return v.report, fmt.Errorf("verify: a directory for what verify-export keeps: %w", err)
	}
	defer os.RemoveAll(dir)
	sc, err := openScratch(dir)
	if err != nil {
		return v.report, err
	}
	defer sc.close()
	// As in Run (see foldPasses): the maps every line reads keep more
	// than spillEntries, so that an export of 1.1M events over 100,000
	// placements is checked in memory.
	streams := newStreams(sc, 4*spillEntries)
	ledger := newBooks(sc, 2*spillEntries)
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 1<<20), 16<<20)
	var lines exportBatch
	check := func() {
		lines.parse()
		for i := range lines.lines {
			l := &lines.lines[i]
			if l.err != nil {
				v.add(Finding{Field: "line", Problem: fmt.Sprintf("line %d is not an exported event: %v", l.n, l.err)})
				continue
			}
			raw := l.raw
			st, seen := streams.get(l.key, true)
			if !seen {
				st.next = raw.Revision
				if l.windowed {
					st.hash = l.seal.Prev // the window starts here: trust the first link
				}
			}
			v.link(raw, st, l.seal)
			exportedPostings(v, ledger, raw, l)
			v.report.Events++
			if v.report.Head < uint64(raw.Position) {
				v.report.Head = uint64(raw.Position)
			}
		}
		lines.reset()
	}
	for n := 1; scanner.Scan(); n++ {
		lines.add(n, scanner.Bytes())
		if len(lines.lines) == exportBatchLines {
			check()
			if ctx.Err() != nil {
				return v.report, ctx.Err()
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return v.report, err
	}
	check()
	if err := sc.failed(); err != nil {
		return v.report, err
	}
	v.report.Streams = streams.n
	v.report.Duration = time.Since(start)
	v.report.Seconds = v.report.Duration.Seconds()
	return v.report, nil
}

// exportBatchLines is how many lines of an export are parsed together (a
// variable for tests).
var exportBatchLines = 5000

// exportBatch is a batch of an export's lines (their bytes in text), and
// what parsing each found.
type exportBatch struct {
	text  []byte
	lines []exportedLine
}

// exportedLine is one line of an export, parsed: its event, its stream's
// key, its seal, and for a placement's event the event decoded.
type exportedLine struct {
	n        int // the line's number, from 1
	from, to int // where it is in the batch's text
	err      error
	raw      eventstore.RecordedEvent
	key      streamKey
	seal     journal.Seal
	windowed bool // the metadata's chain prefix reads: seal.Prev is its previous hash
	// placed: the event is in a placement's stream, whose name holds its
	// id (placement); rec and decodeErr are its decoding.
	placed    bool
	placement uuid.UUID
	rec       journal.Record
	decodeErr error
}

func (b *exportBatch) add(n int, line []byte) {
	from := len(b.text)
	b.text = append(b.text, line...)
	b.lines = append(b.lines, exportedLine{n: n, from: from, to: len(b.text)})
}

func (b *exportBatch) reset() {
	b.text, b.lines = b.text[:0], b.lines[:0]
}

// parse parses every line of the batch, on every core.
func (b *exportBatch) parse() {
	onEveryCore(len(b.lines), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b.lines[i].parse(b.text[b.lines[i].from:b.lines[i].to])
		}
	})
}

func (l *exportedLine) parse(text []byte) {
	var e struct {
		Position eventstore.Position `json:"position"`
		Stream   string              `json:"stream"`
		Revision uint64              `json:"revision"`
		EventID  uuid.UUID           `json:"eventId"`
		Type     string              `json:"type"`
		Data     json.RawMessage     `json:"data"`
		Metadata json.RawMessage     `json:"metadata"`
	}
	if l.err = json.Unmarshal(text, &e); l.err != nil {
		return
	}
	l.raw = eventstore.RecordedEvent{ID: e.EventID, Stream: e.Stream, Type: e.Type, Data: e.Data, Metadata: e.Metadata,
		Revision: e.Revision, Position: e.Position}
	l.key = streamKeyOf(e.Stream)
	l.seal = journal.CheckSeal(e.Stream, e.Revision, e.EventID, e.Type, e.Data, e.Metadata)
	l.windowed = l.seal.Field != "metadata" // its chain's prefix reads
	id, isPlacement := strings.CutPrefix(e.Stream, journal.PlacementPrefix)
	if !isPlacement {
		return
	}
	placement, err := uuid.Parse(id)
	if err != nil {
		return // not a placement's stream: its hash chain is still checked
	}
	l.placed, l.placement = true, placement
	l.rec, l.decodeErr = journal.Decode(l.raw)
}
