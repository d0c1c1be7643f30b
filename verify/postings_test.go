package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/export"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/verify"
)

// forgedCopy copies the store in dir event by event into a new store, with
// edit applied to the data of the first event whose data contains match,
// and every hash chain sealed again as the ledger seals it (as a forger who
// knows the format would): the chains check, so only the meaning of the
// event can give it away. It returns the copy and the forged event's
// position.
func forgedCopy(t *testing.T, dir string, match string, edit func(string) string) (string, eventstore.Position) {
	t.Helper()
	return forgedCopyOf(t, dir, match, edit, false)
}

// forgedCopyOf is forgedCopy, with every event whose data contains match
// edited when every is set (the position returned is the first's).
func forgedCopyOf(t *testing.T, dir string, match string, edit func(string) string, every bool) (string, eventstore.Position) {
	t.Helper()
	ctx := context.Background()
	src, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	defer src.Close()
	events, err := src.ReadAll(ctx, 0, 10_000) // the store holds a few dozen
	require.NoError(t, err)
	copyDir := filepath.Join(t.TempDir(), "forged")
	dst, err := embedded.Open(copyDir, embedded.Options{})
	require.NoError(t, err)
	defer dst.Close()
	head, err := dst.Head(ctx)
	require.NoError(t, err)
	prev := map[string]journal.Hash{}
	var forged eventstore.Position
	for _, e := range events {
		if e.Position <= head {
			continue // the new store's own format marker
		}
		data := string(e.Data)
		if (forged == 0 || every) && strings.Contains(data, match) {
			data = edit(data)
			if forged == 0 {
				forged = e.Position
			}
		}
		_, _, core, err := journal.Unseal(e.Metadata)
		require.NoError(t, err)
		meta, err := journal.DecodeMetadata(core)
		require.NoError(t, err)
		ed, hash, err := journal.Chain(prev[e.Stream], e.Stream, e.Revision, e.ID, e.Type, []byte(data), meta)
		require.NoError(t, err)
		expected := eventstore.NoStream()
		if e.Revision > 0 {
			expected = eventstore.Exact(e.Revision - 1)
		}
		res, err := dst.Append(ctx, e.Stream, expected, []eventstore.EventData{ed})
		require.NoError(t, err)
		require.Equal(t, e.Position, res.Position, "the copy keeps every position")
		prev[e.Stream] = hash
	}
	require.NotZero(t, forged, "no event contains %q", match)
	return copyDir, forged
}

// TestErrForgedRecallNamedByItsPostings edits the recall's CANCELLATION
// document of CL-2 (75 open, 65 recalled; the document still adds up) and
// seals the chain again. Hash chains, documents and the placement's figures
// all check; the postings do not: verify names that event, and verify-export
// names it too.
func TestErrForgedRecallNamedByItsPostings(t *testing.T) {
	dir, pos := forgedCopy(t, MustLedgerStore(t), `"type":"CANCELLATION"`, func(s string) string {
		return strings.ReplaceAll(s, `"-75"`, `"-65"`)
	})
	r := mustVerify(t, dir)
	require.False(t, r.OK())
	first := r.Findings[0]
	for _, f := range r.Findings {
		t.Logf("  %s", f)
		assert.NotEqual(t, "hash", f.Field, "the chain was sealed again")
	}
	assert.Equal(t, "postings", first.Field)
	assert.Equal(t, pos, first.Position, "the forged event")
	assert.Contains(t, first.Problem, "recalls 65 of invoice I1, which has 75 open")

	er := mustVerifyExport(t, exportJSONL(t, dir))
	require.Len(t, er.Findings, 1, "%v", er.Findings)
	assert.Equal(t, pos, er.Findings[0].Position)
	assert.Equal(t, "postings", er.Findings[0].Field)
}

// exportJSONL is the JSONL export of the embedded store in dir (closed
// again before it returns), as ledger export writes it.
func exportJSONL(t *testing.T, dir string) []byte {
	t.Helper()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = export.Write(context.Background(), s, &buf, export.JSONL, export.Filter{}, nil)
	require.NoError(t, s.Close())
	require.NoError(t, err)
	return buf.Bytes()
}

// mustVerifyExport checks an export with verify-export, and again with one
// entry of each of its maps in memory, the others written to its scratch
// store and read back, and requires the same report of both.
func mustVerifyExport(t *testing.T, data []byte) verify.Report {
	t.Helper()
	want, err := verify.Export(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	restore := verify.SetSpillEntries(1)
	defer restore()
	got, err := verify.Export(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	want.Duration, want.Seconds, got.Duration, got.Seconds = 0, 0, 0, 0
	require.Equal(t, want, got, "verify-export's report with its maps spilled to its scratch store")
	return want
}

// TestExportOfACleanStoreSpilled: verify-export of a whole clean store
// finds nothing, whether its maps keep every stream and claim in memory or
// one of each (the others spilled and read back as the books fold them).
func TestExportOfACleanStoreSpilled(t *testing.T) {
	r := mustVerifyExport(t, exportJSONL(t, interleavedStore(t)))
	assert.True(t, r.OK(), "findings: %v", r.Findings)
	assert.Equal(t, 6, r.Streams)
}

// TestErrForgedPaymentNamedByItsPostings edits the allocation of a payment
// (it pays 11 off the invoice but recovers 10): its postings move
// creditor/collected by more than the payment's recovered amount.
func TestErrForgedPaymentNamedByItsPostings(t *testing.T) {
	dir, pos := forgedCopy(t, MustLedgerStore(t), paidTen, paidEleven)
	r := mustVerify(t, dir)
	require.False(t, r.OK())
	var named *verify.Finding
	for i, f := range r.Findings {
		t.Logf("  %s", f)
		if f.Field == "postings" && named == nil {
			named = &r.Findings[i]
		}
	}
	require.NotNil(t, named)
	assert.Equal(t, pos, named.Position)
	assert.Contains(t, named.Problem, "creditor/collected by 1100, the claim's figures by 1000")
}

// paidTen is the allocation of a payment of 10 to CL-i's invoice
// (placeAndPay); paidEleven forges it into one of 11, which the payment's
// amount and the placement's recovered amount do not follow.
const paidTen = `"allocations":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"10"}]`

func paidEleven(s string) string {
	return strings.Replace(s, `"contractNumber":"C1","amount":"10"`, `"contractNumber":"C1","amount":"11"`, 1)
}

// forgedPayments is a copy of a store of n placements, each paid once
// (placeAndPay), with every payment forged by paidEleven and the chains
// sealed again.
func forgedPayments(t *testing.T, n int) string {
	t.Helper()
	dir, s, h, req := acmeStore(t)
	for i := range n {
		placeAndPay(t, h, req, i, 1)
	}
	require.NoError(t, s.Close())
	forged, _ := forgedCopyOf(t, dir, paidTen, paidEleven, true)
	return forged
}

// TestErrForgedPaymentsOfManyPlacementsNamedInOrder forges one payment of
// every placement of twelve: each folds to a state whose invoice was paid
// more than the placement recovered. verify names each placement's state
// once, in the order of the placements' ids, whatever the parts and passes
// it folds in (mustVerify compares them with the deep rebuild's report).
func TestErrForgedPaymentsOfManyPlacementsNamedInOrder(t *testing.T) {
	r := mustVerify(t, forgedPayments(t, 12))
	var states []string
	for _, f := range r.Findings {
		if f.Field == "recoveredAmount" {
			states = append(states, f.Stream)
		}
	}
	require.Len(t, states, 12, "one finding on each placement's state: %v", r.Findings)
	assert.True(t, slices.IsSorted(states), "in the order of the placements' ids: %v", states)
}

// TestErrForgedRecallNamedAfterABrokenStream forges CL-2's recall as
// TestErrForgedRecallNamedByItsPostings does, and makes CL-0's first
// payment, earlier in the log, undecodable: the rebuild folds none of
// CL-0's later events, so the books past it are checked by a replay that
// folds every claim itself. The forged recall is still named, once, and
// so is the event that does not decode.
func TestErrForgedRecallNamedAfterABrokenStream(t *testing.T) {
	forged, recall := forgedCopy(t, MustLedgerStore(t), `"type":"CANCELLATION"`, func(s string) string {
		return strings.ReplaceAll(s, `"-75"`, `"-65"`)
	})
	payment := `"allocations":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"10"}]`
	dir, broken := forgedCopy(t, forged, payment, func(s string) string {
		return strings.Replace(s, `"amount":"10"}]`, `"amount":"1x"}]`, 1)
	})
	require.Less(t, broken, recall, "the broken stream comes first")
	r := mustVerify(t, dir)
	var data, postings int
	for _, f := range r.Findings {
		t.Logf("  %s", f)
		switch {
		case f.Field == "data" && f.Position == broken:
			data++
		case f.Field == "postings" && f.Position == recall:
			postings++
			assert.Contains(t, f.Problem, "recalls 65 of invoice I1, which has 75 open")
		}
	}
	assert.Equal(t, 1, data, "the undecodable payment")
	assert.Equal(t, 1, postings, "the forged recall, named once")
}

// TestExportCheckedInOrderWhateverItsBatches: verify-export parses its lines
// in batches, on every core, and checks them in order. An export with a
// line that is no event, a stream whose first exported event is not its
// first (a window) and an edited amount gives the same report whether it
// is parsed three lines at a time or all at once: the line named by its
// number, the edited event by its stream and revision, the window trusted
// from its first link.
func TestExportCheckedInOrderWhateverItsBatches(t *testing.T) {
	lines := strings.SplitAfter(strings.TrimSuffix(string(exportJSONL(t, interleavedStore(t))), "\n"), "\n")
	require.Greater(t, len(lines), 10)
	var out []string
	windowed := ""
	edited := false
	bad := 0 // the line that is no event, from 1
	for i, l := range lines {
		if i == 4 {
			out = append(out, "{\"position\": oops}\n")
			bad = len(out)
		}
		if windowed == "" && strings.Contains(l, `"revision":0`) && strings.Contains(l, `"stream":"placement-`) {
			windowed = l[strings.Index(l, `"stream":"`)+len(`"stream":"`):]
			windowed = windowed[:strings.Index(windowed, `"`)]
			continue // the stream's export starts after its first event
		}
		if !edited && windowed != "" && !strings.Contains(l, windowed) && strings.Contains(l, `"amount":"10"`) {
			l, edited = strings.Replace(l, `"amount":"10"`, `"amount":"19"`, 1), true
		}
		out = append(out, l)
	}
	require.NotEmpty(t, windowed)
	require.True(t, edited)
	data := []byte(strings.Join(out, ""))

	want, err := verify.Export(context.Background(), bytes.NewReader(data))
	require.NoError(t, err)
	restore := verify.SetExportBatch(3)
	got, err := verify.Export(context.Background(), bytes.NewReader(data))
	restore()
	require.NoError(t, err)
	want.Duration, want.Seconds, got.Duration, got.Seconds = 0, 0, 0, 0
	require.Equal(t, want, got, "the report parsed three lines at a time")

	require.NotEmpty(t, want.Findings)
	assert.Equal(t, "line", want.Findings[0].Field)
	assert.Contains(t, want.Findings[0].Problem, fmt.Sprintf("line %d is not an exported event", bad))
	var hash bool
	for _, f := range want.Findings {
		assert.NotEqual(t, windowed, f.Stream, "the window is trusted from its first link: %+v", f)
		hash = hash || f.Field == "hash"
	}
	assert.True(t, hash, "the edited amount breaks its event's hash: %v", want.Findings)
	assert.Equal(t, len(lines)-1, want.Events, "every event but the one left out")
}

// TestErrForgedPaymentsBeyondTheReportsBound forges a payment of each of
// more placements than a report holds findings (maxFindings): each names
// its postings as it is folded and its state at the end of the pass. The
// report keeps its first findings and counts the others it left out, the
// same in every shape of parts and passes (mustVerify), though each part
// checks its states apart from the others.
func TestErrForgedPaymentsBeyondTheReportsBound(t *testing.T) {
	r := mustVerify(t, forgedPayments(t, 1010))
	last := r.Findings[len(r.Findings)-1]
	require.Equal(t, "report", last.Field, "the report says how many it left out")
	assert.Regexp(t, `^\d+ more findings left out$`, last.Problem)
}

// TestErrDocumentWhoseLinesDoNotAddUpNamed forges a recall's document so
// that its amount is no longer the sum of its lines (the chain sealed
// again, as a forger who knows the format would): verify names the
// document and both figures.
func TestErrDocumentWhoseLinesDoNotAddUpNamed(t *testing.T) {
	dir, doc := forgedCopy(t, MustLedgerStore(t), `"type":"CANCELLATION"`, func(s string) string {
		return strings.Replace(s, `"amount":"-75"`, `"amount":"-70"`, 1) // the document's, before its lines'
	})
	r := mustVerify(t, dir)
	found := 0
	for _, f := range r.Findings {
		if f.Field == "accountingDocument.amount" && f.Position == doc {
			found++
			assert.Regexp(t, `document \S+ is -70(\.00)? but its lines add up to -75(\.00)?$`, f.Problem)
		}
	}
	assert.Equal(t, 1, found, "the forged document, named once: %v", r.Findings)
}
