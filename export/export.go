// Package export writes the ledger's events out, in log order, in a form an
// auditor can verify again later without the ledger: every line carries the
// event's position, stream, revision, id, type, data and metadata, whose
// hash chain (see command/chain.go) links it to the previous event of its
// stream. Export streams: it holds one batch of events at a time (and, when
// filtering by creditor, each stream's creditor).
package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fastjson"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// Format of an export.
type Format string

const (
	JSONL Format = "jsonl"
	CSV   Format = "csv"
)

// Filter selects events. Zero fields select everything.
type Filter struct {
	Creditor  string
	Placement uuid.UUID
	From, To  time.Time // on the time the store recorded the event; To is exclusive
}

// Line is one exported event (the JSON Lines form).
type Line struct {
	Position   uint64          `json:"position"`
	Stream     string          `json:"stream"`
	Revision   uint64          `json:"revision"`
	EventID    uuid.UUID       `json:"eventId"`
	Type       string          `json:"type"`
	RecordedAt time.Time       `json:"recordedAt"`
	Data       json.RawMessage `json:"data"`
	Metadata   json.RawMessage `json:"metadata"`
}

// CSVHeader is the header row of a CSV export.
var CSVHeader = []string{"position", "stream", "revision", "event_id", "type", "recorded_at", "hash", "prev_hash", "data", "metadata"}

// Stats says what an export wrote.
type Stats struct {
	Read, Written int
}

// Write exports the events of store that pass filter to w.
func Write(ctx context.Context, store eventstore.Store, w io.Writer, format Format, filter Filter, progress func(pos, head eventstore.Position)) (Stats, error) {
	var st Stats
	if format != JSONL && format != CSV {
		return st, fmt.Errorf("export: format must be jsonl or csv, not %q", format)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if format == CSV {
		cw := csv.NewWriter(bw)
		if err := cw.Write(CSVHeader); err != nil {
			return st, err
		}
		cw.Flush()
	}
	creditorOf := map[string]string{}
	placementStream := ""
	if filter.Placement != uuid.Nil {
		placementStream = journal.PlacementStream(filter.Placement)
	}
	// Each batch is filtered in log order, then its lines are rendered on
	// every core (checking that data and metadata are JSON is most of the
	// work), each worker into its own buffer, and written in order.
	workers := runtime.GOMAXPROCS(0)
	bufs := make([][]byte, workers)
	var selected []eventstore.RecordedEvent
	err := eventstore.ScanAll(ctx, store, eventstore.Start, 5000, func(batch []eventstore.RecordedEvent, head eventstore.Position) error {
		selected = selected[:0]
		for _, rec := range batch {
			st.Read++
			if placementStream != "" && rec.Stream != placementStream {
				continue
			}
			if filter.Creditor != "" && streamCreditor(creditorOf, rec) != filter.Creditor {
				continue
			}
			if (!filter.From.IsZero() && rec.RecordedAt.Before(filter.From)) || (!filter.To.IsZero() && !rec.RecordedAt.Before(filter.To)) {
				continue
			}
			selected = append(selected, rec)
		}
		if err := render(bufs, selected, format); err != nil {
			return err
		}
		for _, b := range bufs {
			if _, err := bw.Write(b); err != nil {
				return err
			}
		}
		st.Written += len(selected)
		if progress != nil {
			progress(batch[len(batch)-1].Position, head)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	return st, bw.Flush()
}

// render renders recs as lines of format into bufs, one contiguous part of
// recs per buffer, the parts on as many goroutines.
func render(bufs [][]byte, recs []eventstore.RecordedEvent, format Format) error {
	per := (len(recs) + len(bufs) - 1) / len(bufs)
	errs := make([]error, len(bufs))
	var wg sync.WaitGroup
	for i := range bufs {
		part := recs[min(i*per, len(recs)):min((i+1)*per, len(recs))]
		bufs[i] = bufs[i][:0]
		if len(part) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			bufs[i], errs[i] = renderPart(bufs[i], part, format)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func renderPart(buf []byte, recs []eventstore.RecordedEvent, format Format) ([]byte, error) {
	if format == JSONL {
		for _, rec := range recs {
			buf = appendLine(buf, rec)
		}
		return buf, nil
	}
	b := bytes.NewBuffer(buf)
	cw := csv.NewWriter(b)
	for _, rec := range recs {
		if err := writeCSV(cw, rec); err != nil {
			return buf, err
		}
	}
	cw.Flush()
	return b.Bytes(), cw.Error()
}

// appendLine appends rec as one JSON line. The line is written by hand:
// encoding/json would validate and compact data and metadata again, which
// rawJSON already checked. Its fields and their order are Line's.
func appendLine(buf []byte, rec eventstore.RecordedEvent) []byte {
	buf = append(buf, `{"position":`...)
	buf = strconv.AppendUint(buf, uint64(rec.Position), 10)
	buf = append(buf, `,"stream":`...)
	buf = appendJSONString(buf, rec.Stream)
	buf = append(buf, `,"revision":`...)
	buf = strconv.AppendUint(buf, rec.Revision, 10)
	buf = append(buf, `,"eventId":"`...)
	buf = append(buf, rec.ID.String()...)
	buf = append(buf, `","type":`...)
	buf = appendJSONString(buf, rec.Type)
	buf = append(buf, `,"recordedAt":"`...)
	buf = rec.RecordedAt.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","data":`...)
	buf = append(buf, rawJSON(rec.Data)...)
	buf = append(buf, `,"metadata":`...)
	buf = append(buf, rawJSON(rec.Metadata)...)
	return append(buf, "}\n"...)
}

func writeCSV(cw *csv.Writer, rec eventstore.RecordedEvent) error {
	data, meta := rawJSON(rec.Data), rawJSON(rec.Metadata)
	hash, prev, _, err := journal.Unseal(rec.Metadata)
	hashS, prevS := "", ""
	if err == nil {
		hashS, prevS = hash.String(), prev.String()
	}
	return cw.Write([]string{strconv.FormatUint(uint64(rec.Position), 10), rec.Stream, strconv.FormatUint(rec.Revision, 10),
		rec.ID.String(), rec.Type, rec.RecordedAt.UTC().Format(time.RFC3339Nano), hashS, prevS, string(data), string(meta)})
}

// appendJSONString appends s as a JSON string (stream names and event types
// are validated UTF-8 without control characters, but quote them properly
// all the same).
func appendJSONString(buf []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(buf, q...)
}

// rawJSON returns b when it is JSON, and a JSON string of it otherwise (the
// ledger writes JSON, but a store may hold other bytes).
func rawJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	if isJSON(b) {
		return b
	}
	q, _ := json.Marshal(string(b))
	return q
}

// isJSON is json.Valid, three times as fast for what the ledger writes:
// fastjson's validator decides for documents without control characters
// or whitespace other than spaces (it lets control characters through inside
// strings, encoding/json does not; the ledger writes compact JSON), and
// encoding/json for the rest and for whatever fastjson rejects
// (FuzzRawJSON checks that the two answers are the same).
func isJSON(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return json.Valid(b)
		}
	}
	return fastjson.ValidateBytes(b) == nil || json.Valid(b)
}

// streamCreditor learns each stream's creditor from its first event.
func streamCreditor(known map[string]string, rec eventstore.RecordedEvent) string {
	if c, ok := known[rec.Stream]; ok {
		return c
	}
	c := ""
	switch {
	case strings.HasPrefix(rec.Stream, journal.PlacementPrefix) && rec.Type == domain.TypePlacementOpened:
		var o struct {
			CreditorID string `json:"creditorId"`
		}
		_ = json.Unmarshal(rec.Data, &o)
		c = o.CreditorID
	case rec.Type == journal.ClaimReservedType:
		var r journal.ClaimNumberReserved
		_ = json.Unmarshal(rec.Data, &r)
		c = r.CreditorID
	default:
		// A creditor's debtor's erasures, its access log and its
		// remittances name the creditor in the stream's name.
		if kind, parts, err := journal.ParseStream(rec.Stream); err == nil && (kind == journal.KindDebtor || kind == journal.KindAccess || kind == journal.KindRemittance) {
			c = parts[0]
		}
	}
	known[rec.Stream] = c
	return c
}
