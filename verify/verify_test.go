package verify_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/verify"
)

// acmeStore opens a fresh embedded store in a temporary directory, with a
// command handler and a request of creditor acme.
func acmeStore(t *testing.T) (string, *embedded.Store, *command.Handler, command.Request) {
	t.Helper()
	dir := t.TempDir()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	return dir, s, command.NewHandler(s, projections.NewIdempotencyIndex(), nil),
		command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), Creditor: "acme"}
}

// placeAndPay places claim CL-i, an invoice of 100 EUR, with acme, pays it
// 10 payments times, and returns the placement's id.
func placeAndPay(t *testing.T, h *command.Handler, req command.Request, i, payments int) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	res, err := h.Place(ctx, req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: fmt.Sprintf("CL-%d", i),
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	for range payments {
		_, err = h.Execute(ctx, res.Placement.ID, req, func(at time.Time) domain.Command {
			return domain.ReceivePayment{Amount: decimal.NewFromInt(10), At: at}
		})
		require.NoError(t, err)
	}
	return res.Placement.ID
}

// MustLedgerStore writes a small history into a fresh embedded store and
// closes it: three placements, payments of 10, a partial recall, a recall.
func MustLedgerStore(t *testing.T) string {
	t.Helper()
	dir, s, h, req := acmeStore(t)
	ctx := context.Background()
	for i := range 3 {
		id := placeAndPay(t, h, req, i, 2)
		_, err := h.Execute(ctx, id, req, func(at time.Time) domain.Command {
			return domain.PartialRecall{Waivers: []domain.Waiver{{InvoiceNumber: "I1", ContractNumber: "C1", Date: "2024-02-01", Amount: decimal.NewFromInt(5), Currency: "EUR"}}, At: at}
		})
		require.NoError(t, err)
		if i == 2 {
			_, err = h.Execute(ctx, id, req, func(at time.Time) domain.Command { return domain.Recall{At: at} })
			require.NoError(t, err)
		}
	}
	require.NoError(t, s.Close())
	return dir
}

func mustVerify(t *testing.T, dir string) verify.Report {
	t.Helper()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	r, err := verify.Run(context.Background(), s, verify.Options{Deep: true})
	require.NoError(t, err)
	requireSameSpilled(t, s, verify.Options{Deep: true}, r)
	return r
}

// requireSameSpilled verifies the store again with one entry of each of
// verify's maps in memory, the others written to its scratch store and read
// back, and requires the same report.
func requireSameSpilled(t *testing.T, s eventstore.Store, opts verify.Options, want verify.Report) {
	t.Helper()
	restore := verify.SetSpillEntries(1)
	defer restore()
	replays := verify.Replays()
	got, err := verify.Run(context.Background(), s, opts)
	require.NoError(t, err)
	got.Duration, got.Seconds, want.Duration, want.Seconds = 0, 0, 0, 0
	require.Equal(t, want, got, "the report with verify's maps spilled to its scratch store")
	if opts.Deep && opts.Live == nil {
		requireSameFolded(t, s, opts, want, verify.Replays()-replays)
	}
}

// requireSameFolded verifies the store again without Deep, so that verify
// folds the placements' states itself instead of rebuilding the views (see
// fold.go), with its maps in memory and spilled, and requires the deep
// report less what only the deep checks find (checkPlacements: a
// placement's stream read again, its feed): the same counts and the same
// findings in the same order. deepReplays is how many times the deep run
// replayed the books.
func requireSameFolded(t *testing.T, s eventstore.Store, opts verify.Options, deep verify.Report, deepReplays int64) {
	t.Helper()
	want := deep
	want.Duration, want.Seconds, want.Findings = 0, 0, nil
	for _, f := range deep.Findings {
		if !deepOnly(f) {
			want.Findings = append(want.Findings, f)
		}
	}
	opts.Deep = false
	// In one pass over the log and in three (see pass.go), in one part
	// and in three, each on a goroutine of its own (see part in fold.go),
	// the log read in batches of 5,000 events or of 3 (the state a part's
	// folds hold decoded, spillMap.cur, then crosses batches): the same
	// findings in the same order.
	for _, shape := range []struct{ passes, parts, batch int }{{1, 1, 5000}, {1, 3, 5000}, {3, 2, 5000}, {5, 1, 5000}, {1, 2, 3}, {3, 2, 3}} {
		for _, spilled := range []bool{false, true} {
			restore, restoreParts, restorePasses := func() {}, verify.SetFoldParts(shape.parts), verify.SetPasses(shape.passes)
			restoreBatch := verify.SetReadBatch(shape.batch)
			if spilled {
				restore = verify.SetSpillEntries(1)
			}
			replays := verify.Replays()
			got, err := verify.Run(context.Background(), s, opts)
			restore()
			restoreParts()
			restorePasses()
			restoreBatch()
			require.NoError(t, err)
			got.Duration, got.Seconds = 0, 0
			require.Equal(t, want, got, "verify without -deep (%+v, spilled: %v)", shape, spilled)
			// The fold checks the books of every event it folds, as the
			// rebuild does: a replay only where the rebuild needed one.
			require.Equal(t, deepReplays, verify.Replays()-replays, "replays of the books without -deep (%+v, spilled: %v)", shape, spilled)
		}
	}
}

// deepOnly reports whether only verify's deep checks (checkPlacements)
// make the finding: a placement's stream that cannot be read again (no
// revision or position), a fold from the stream that differs, its feed.
func deepOnly(f verify.Finding) bool {
	switch {
	case f.Field == "feed" || f.Field == "feed.sortNumber":
		return true
	case f.Field == "projection" && f.Problem == "the placement folded from $all differs from the one folded from its stream":
		return true
	case (f.Field == "storage" || f.Field == "data") && f.Stream != "" && f.Revision == 0 && f.Position == 0:
		return true
	}
	return false
}

func TestOKCleanStore(t *testing.T) {
	r := mustVerify(t, MustLedgerStore(t))
	assert.True(t, r.OK(), "findings: %v", r.Findings)
	assert.Equal(t, 3, r.Placements)
	assert.Equal(t, 6, r.Streams, "three placements and three claim reservations")
	assert.EqualValues(t, r.Head, r.Events)
}

// tamper rewrites the first stored event whose value contains match, with
// edit applied to its value. With fixCRC it recomputes the record's checksum
// as the embedded engine lays it out (crc32c over the position and the body),
// as a forger who knows the format would; the hash chain must still catch it.
func tamper(t *testing.T, dir string, match []byte, edit func([]byte), fixCRC bool) (pos uint64) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{})
	require.NoError(t, err)
	defer db.Close()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{0x02}, UpperBound: []byte{0x03}})
	require.NoError(t, err)
	var key, value []byte
	for ok := it.First(); ok; ok = it.Next() {
		if bytes.Contains(it.Value(), match) {
			key, value = bytes.Clone(it.Key()), bytes.Clone(it.Value())
			break
		}
	}
	require.NoError(t, it.Close())
	require.NotNil(t, key, "no stored event contains %q", match)
	edit(value)
	pos = binary.BigEndian.Uint64(key[1:])
	if fixCRC {
		table := crc32.MakeTable(crc32.Castagnoli)
		crc := crc32.Checksum(key[1:], table)
		binary.LittleEndian.PutUint32(value, crc32.Update(crc, table, value[4:]))
	}
	require.NoError(t, db.Set(key, value, pebble.Sync))
	return pos
}

func TestErrTamperedAmountNamed(t *testing.T) {
	dir := MustLedgerStore(t)
	// Change one byte: a payment of 10 becomes 90, checksum recomputed.
	pos := tamper(t, dir, []byte(`"amount":"10"`), func(v []byte) {
		i := bytes.Index(v, []byte(`"amount":"10"`))
		v[i+len(`"amount":"`)] = '9'
	}, true)
	r := mustVerify(t, dir)
	require.False(t, r.OK())
	var named *verify.Finding
	for i, f := range r.Findings {
		if f.Field == "hash" {
			named = &r.Findings[i]
		}
	}
	require.NotNil(t, named, "findings: %v", r.Findings)
	assert.EqualValues(t, pos, named.Position)
	assert.Regexp(t, `^placement-[0-9a-f-]{36}$`, named.Stream)
	assert.Equal(t, uint64(1), named.Revision, "the first payment is the stream's second event")
	t.Logf("verify reports: %s", named)
	for _, f := range r.Findings {
		t.Logf("  %s", f)
	}
}

func TestErrDamagedByteNamed(t *testing.T) {
	dir := MustLedgerStore(t)
	// A raw flipped byte, checksum left as it was: the engine refuses it.
	pos := tamper(t, dir, []byte(`"amount":"10"`), func(v []byte) {
		i := bytes.Index(v, []byte(`"amount":"10"`))
		v[i+len(`"amount":"`)] ^= 0x01
	}, false)
	r := mustVerify(t, dir)
	require.False(t, r.OK())
	var atPosition, inStream, gap bool
	for _, f := range r.Findings {
		t.Logf("  %s", f)
		switch {
		case f.Field == "storage" && f.Stream == "":
			atPosition = true
			assert.EqualValues(t, pos, f.Position, "the damaged event's position")
			assert.Contains(t, f.Problem, "checksum")
		case f.Field == "storage":
			inStream = true
			assert.Regexp(t, `^placement-`, f.Stream, "reading the stream names it")
		case f.Field == "revision":
			gap = true
			assert.Regexp(t, `^placement-`, f.Stream, "the stream shows the gap, named by stream and revision")
		}
	}
	assert.True(t, atPosition && inStream && gap, "findings: %v", r.Findings)
}

// interleavedStore writes three placements whose events alternate in the
// log (each placed, then paid in turn, then one recalled), so that a
// verify keeping one entry per map in memory reads every stream's and
// claim's entry back from its scratch store.
func interleavedStore(t *testing.T) string {
	t.Helper()
	dir, s, h, req := acmeStore(t)
	ctx := context.Background()
	var ids []uuid.UUID
	for i := range 3 {
		res, err := h.Place(ctx, req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: fmt.Sprintf("CL-%d", i),
			CustomerNumber: fmt.Sprintf("K%d", i), Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
			Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
		require.NoError(t, err)
		ids = append(ids, res.Placement.ID)
	}
	for range 3 {
		for _, id := range ids {
			_, err := h.Execute(ctx, id, req, func(at time.Time) domain.Command {
				return domain.ReceivePayment{Amount: decimal.NewFromInt(10), At: at}
			})
			require.NoError(t, err)
		}
	}
	_, err := h.Execute(ctx, ids[1], req, func(at time.Time) domain.Command { return domain.Recall{At: at} })
	require.NoError(t, err)
	require.NoError(t, s.Close())
	return dir
}

// TestSpilledEntriesReadBack: verify gives the same report whether its
// maps hold everything in memory or one entry each (mustVerify runs both),
// on a clean log whose streams interleave and on one with an event
// tampered in the middle of them.
func TestSpilledEntriesReadBack(t *testing.T) {
	r := mustVerify(t, interleavedStore(t))
	assert.True(t, r.OK(), "findings: %v", r.Findings)
	assert.Equal(t, 3, r.Placements)
	assert.Equal(t, 6, r.Streams)

	dir := interleavedStore(t)
	tamper(t, dir, []byte(`"amount":"10"`), func(v []byte) {
		i := bytes.Index(v, []byte(`"amount":"10"`))
		v[i+len(`"amount":"`)] = '9'
	}, true)
	r = mustVerify(t, dir)
	assert.False(t, r.OK())

	// An event that does not decode stops the rebuild: the books past it
	// are checked by the replay, which folds every claim itself and spills
	// their states as the first pass spills its maps.
	dir = interleavedStore(t)
	tamper(t, dir, []byte(`"amount":"10"`), func(v []byte) {
		i := bytes.Index(v, []byte(`"amount":"10"`))
		v[i+len(`"amount":"1`)] = 'x'
	}, true)
	r = mustVerify(t, dir)
	var data int
	for _, f := range r.Findings {
		if f.Field == "data" {
			data++
		}
	}
	assert.Positive(t, data, "the event that does not decode: %v", r.Findings)
}

// TestErrStreamThatDoesNotOpenNamed: a placement stream whose first event
// is a payment, sealed as the ledger seals it. Without -deep verify names
// that event and checks every other placement as before; with -deep the
// rebuild of the views stops there.
func TestErrStreamThatDoesNotOpenNamed(t *testing.T) {
	dir := MustLedgerStore(t)
	ctx := context.Background()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	events, err := s.ReadAll(ctx, 0, 10_000)
	require.NoError(t, err)
	var payment eventstore.RecordedEvent
	for _, e := range events {
		if e.Type == domain.TypePaymentReceived {
			payment = e
			break
		}
	}
	require.NotEmpty(t, payment.Type, "a payment in the store")
	_, _, core, err := journal.Unseal(payment.Metadata)
	require.NoError(t, err)
	meta, err := journal.DecodeMetadata(core)
	require.NoError(t, err)
	stream := journal.PlacementStream(uuid.New())
	ed, _, err := journal.Chain(journal.Hash{}, stream, 0, uuid.New(), payment.Type, payment.Data, meta)
	require.NoError(t, err)
	res, err := s.Append(ctx, stream, eventstore.NoStream(), []eventstore.EventData{ed})
	require.NoError(t, err)

	for _, spilled := range []bool{false, true} {
		restore := func() {}
		if spilled {
			restore = verify.SetSpillEntries(1)
		}
		r, err := verify.Run(ctx, s, verify.Options{})
		restore()
		require.NoError(t, err)
		require.Len(t, r.Findings, 1, "spilled: %v, findings: %v", spilled, r.Findings)
		assert.Equal(t, verify.Finding{Stream: stream, Revision: 0, Position: res.Position, Field: "projection",
			Problem: "the placement's first event is PaymentReceived, not PlacementOpened"}, r.Findings[0])
		assert.Equal(t, 3, r.Placements, "the placements opened")
	}
	r, err := verify.Run(ctx, s, verify.Options{Deep: true})
	require.NoError(t, err)
	require.NotEmpty(t, r.Findings)
	assert.Equal(t, "projection", r.Findings[0].Field)
	assert.Contains(t, r.Findings[0].Problem, "the views cannot be rebuilt past this event")
}

// countingStore counts the events the log's reads return.
type countingStore struct {
	*embedded.Store
	read atomic.Int64
}

func (c *countingStore) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	b, err := c.Store.ReadAll(ctx, after, limit)
	c.read.Add(int64(len(b)))
	return b, err
}

// TestPassesReadTheLogOnce verifies a store in four passes: only the first
// reads the log, the others read what it spooled for them (spool.go), and
// the report is the one a single pass gives.
func TestPassesReadTheLogOnce(t *testing.T) {
	dir, s, h, req := acmeStore(t)
	ctx := context.Background()
	for i := range 40 {
		placeAndPay(t, h, req, i, 1)
	}
	require.NoError(t, s.Close())
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	defer s.Close()

	one, err := verify.Run(ctx, s, verify.Options{})
	require.NoError(t, err)
	require.True(t, one.OK(), "findings: %v", one.Findings)
	restore := verify.SetPasses(4)
	defer restore()
	counted := &countingStore{Store: s}
	four, err := verify.Run(ctx, counted, verify.Options{})
	require.NoError(t, err)
	assert.EqualValues(t, one.Head, counted.read.Load(), "events read from the log in four passes")
	one.Duration, one.Seconds, four.Duration, four.Seconds = 0, 0, 0, 0
	assert.Equal(t, one, four)
	assert.Equal(t, 40, four.Placements)
}
