// Package export writes the ledger's events out, in log order, in a form an
// auditor can verify again later without the ledger: every line carries the
// event's position, stream, revision, id, type, data and metadata, whose
// hash chain (see command/chain.go) links it to the previous event of its
// stream. Export streams: it holds one batch of events at a time (and, when
// filtering by creditor, each stream's creditor).
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

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
	var cw *csv.Writer
	if format == CSV {
		cw = csv.NewWriter(bw)
		if err := cw.Write(CSVHeader); err != nil {
			return st, err
		}
	}
	creditorOf := map[string]string{}
	placementStream := ""
	if filter.Placement != uuid.Nil {
		placementStream = journal.PlacementStream(filter.Placement)
	}
	err := eventstore.ScanAll(ctx, store, eventstore.Start, 5000, func(batch []eventstore.RecordedEvent, head eventstore.Position) error {
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
			if err := writeOne(bw, cw, rec); err != nil {
				return err
			}
			st.Written++
		}
		if progress != nil {
			progress(batch[len(batch)-1].Position, head)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return st, err
		}
	}
	return st, bw.Flush()
}

func writeOne(w *bufio.Writer, cw *csv.Writer, rec eventstore.RecordedEvent) error {
	data, meta := rawJSON(rec.Data), rawJSON(rec.Metadata)
	if cw == nil {
		// The line is written by hand: encoding/json would validate and
		// compact data and metadata again, which rawJSON already checked.
		// Its fields and their order are Line's.
		buf := w.AvailableBuffer()
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
		buf = append(buf, data...)
		buf = append(buf, `,"metadata":`...)
		buf = append(buf, meta...)
		buf = append(buf, "}\n"...)
		_, err := w.Write(buf)
		return err
	}
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
	if json.Valid(b) {
		return b
	}
	q, _ := json.Marshal(string(b))
	return q
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
	}
	known[rec.Stream] = c
	return c
}
