package verify

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// TestSpoolKeepsEveryFieldAndRoutesByOwner spools events for three passes
// and reads each later pass's spool back: every field as it was, in log
// order, in batches of at most 5,000; each placement's events in its
// id's pass only, a stream that is not a placement's in its key's pass and
// the last one's (which checks the remittances), and nothing of the first
// pass's.
func TestSpoolKeepsEveryFieldAndRoutesByOwner(t *testing.T) {
	const n = 3
	sp, err := newSpooler(t.TempDir(), n)
	require.NoError(t, err)
	var all []eventstore.RecordedEvent
	at := time.Date(2026, 12, 4, 14, 30, 1, 123456789, time.UTC)
	for i := range 12_000 {
		stream := journal.PlacementPrefix + uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "p%d", i%997)).String()
		switch i % 10 {
		case 3:
			stream = fmt.Sprintf("remittance-acme-%d", i%7)
		case 7:
			stream = journal.PlacementPrefix + "not-an-id"
		}
		rec := eventstore.RecordedEvent{ID: uuid.New(), Stream: stream, Type: fmt.Sprintf("Type%d", i%5),
			Data: fmt.Appendf(nil, `{"i":%d}`, i), Metadata: fmt.Appendf(nil, `{"m":%d}`, i),
			Revision: uint64(i / 997), Position: eventstore.Position(i + 1), RecordedAt: at.Add(time.Duration(i) * time.Millisecond)}
		switch i % 100 {
		case 11:
			rec.Data, rec.Metadata = nil, nil
		case 12:
			rec.RecordedAt = time.Time{}
		}
		all = append(all, rec)
	}
	for lo := 0; lo < len(all); lo += 5000 {
		sp.add(all[lo:min(lo+5000, len(all))])
	}
	require.NoError(t, sp.close())

	for k := 1; k < n; k++ {
		var want []eventstore.RecordedEvent
		for _, rec := range all {
			r := routeOf(rec.Stream)
			if (pass{k, n}).owns(r.owner()) || (r.other() && k == n-1) {
				want = append(want, rec)
			}
		}
		require.NotEmpty(t, want)
		var got []eventstore.RecordedEvent
		s := &scan{}
		err := s.readSpool(context.Background(), sp.path(k), 0, nil, func(b []eventstore.RecordedEvent) eventstore.Position {
			require.LessOrEqual(t, len(b), 10_000)
			got = append(got, b...)
			return b[len(b)-1].Position
		})
		require.NoError(t, err)
		require.Equal(t, want, got, "pass %d's spool", k)
		require.NoFileExists(t, sp.path(k), "a spool is removed once read")
	}
}

// TestDamagedSpoolIsAnError: a spool cut short, or with a block that does
// not decompress, fails its pass with an error rather than checking fewer
// events.
func TestDamagedSpoolIsAnError(t *testing.T) {
	for name, damage := range map[string]func(path string){
		"cut short": func(path string) {
			info, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, info.Size()-10))
		},
		"cut after a block's length": func(path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			n, w := binary.Uvarint(b)
			require.Positive(t, w)
			require.Less(t, w+4+int(n), len(b), "more than one block")
			require.NoError(t, os.Truncate(path, int64(w+4+int(n)+w)))
		},
		"a byte changed": func(path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			b[len(b)/2] ^= 0xff
			require.NoError(t, os.WriteFile(path, b, 0o600))
		},
	} {
		t.Run(name, func(t *testing.T) {
			sp, err := newSpooler(t.TempDir(), 2)
			require.NoError(t, err)
			var batch []eventstore.RecordedEvent
			for i := range 3000 {
				id := uuid.New()
				id[0] = 0xff // pass 1 of 2
				batch = append(batch, eventstore.RecordedEvent{ID: uuid.New(), Stream: journal.PlacementPrefix + id.String(), Type: "T",
					Data: fmt.Appendf(nil, `{"i":%d,"pad":"%0200d"}`, i, i), Position: eventstore.Position(i + 1)})
			}
			sp.add(batch)
			require.NoError(t, sp.close())
			damage(sp.path(1))
			events := 0
			err = (&scan{}).readSpool(context.Background(), sp.path(1), 0, nil, func(b []eventstore.RecordedEvent) eventstore.Position {
				events += len(b)
				return b[len(b)-1].Position
			})
			require.ErrorContains(t, err, "reading a pass's spool")
			require.Less(t, events, len(batch))
		})
	}
}
