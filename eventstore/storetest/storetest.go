// Package storetest is the contract every eventstore.Store engine passes. Run
// it from an engine's tests:
//
//	storetest.Run(t, func(t *testing.T) eventstore.Store { return openMyEngine(t) }, storetest.Capabilities{…})
//
// The suite works on a store shared with other users (a KurrentDB server):
// every test writes to streams of its own, named with a fresh UUID, and looks
// at $all only through those streams.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
)

// Capabilities says which engine-specific promises to check as well.
type Capabilities struct {
	// DensePositions: $all positions are 1, 2, 3, … with no gaps, and the
	// store is used by nobody else during the test.
	DensePositions bool
}

// NewStore opens a store for one test; the engine's test arranges closing it
// (t.Cleanup).
type NewStore func(t *testing.T) eventstore.Store

// testTimeout bounds every blocking call of the suite, so that a broken engine
// fails the test instead of hanging it. It is a liveness bound, not a timing
// assertion: healthy engines finish each call in milliseconds.
const testTimeout = 60 * time.Second

// Run runs the contract against the engine that newStore opens.
func Run(t *testing.T, newStore NewStore, caps Capabilities) {
	t.Helper()
	c := &contract{newStore: newStore, caps: caps}
	t.Run("RoundTrip", c.roundTrip)
	t.Run("ReadStream", c.readStream)
	t.Run("ErrWrongExpectedRevision", c.wrongExpectedRevision)
	t.Run("ErrNoStreamOnExistingStream", c.noStreamOnExisting)
	t.Run("AnyRevision", c.anyRevision)
	t.Run("RaceOnOneRevision", c.raceOnOneRevision)
	t.Run("IdempotentAppend", c.idempotentAppend)
	t.Run("ErrIdempotentAppendMismatch", c.idempotentMismatch)
	t.Run("ConcurrentWritersAllOrder", c.concurrentWriters)
	t.Run("ReadAllSuffix", c.readAllSuffix)
	t.Run("Subscription", c.subscription)
	t.Run("SubscriptionClose", c.subscriptionClose)
	t.Run("SlowSubscriberDoesNotStallWriters", c.slowSubscriber)
	t.Run("LargeEvent", c.largeEvent)
	t.Run("ErrLimits", c.limits)
}

type contract struct {
	newStore NewStore
	caps     Capabilities
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// streamName returns a stream name no other test uses.
func streamName(label string) string {
	return "storetest-" + label + "-" + uuid.NewString()
}

// Events returns n events with fresh IDs and recognisable data and metadata.
func Events(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = eventstore.EventData{
			ID:       uuid.New(),
			Type:     fmt.Sprintf("TestEvent%d", i%3),
			Data:     []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", i%7))),
			Metadata: []byte(fmt.Sprintf(`{"actor":"test","i":%d}`, i)),
		}
	}
	return out
}

// MustAppend appends and fails the test on error.
func MustAppend(tb testing.TB, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, events []eventstore.EventData) eventstore.AppendResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	res, err := s.Append(ctx, stream, exp, events)
	require.NoError(tb, err)
	return res
}

// MustReadStream reads a whole stream (up to 10,000 events).
func MustReadStream(tb testing.TB, s eventstore.Store, stream string) []eventstore.RecordedEvent {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	recs, err := s.ReadStream(ctx, stream, 0, eventstore.MaxReadBatch)
	require.NoError(tb, err)
	return recs
}

// readAllOf reads $all after a position to its end, keeping only the events of
// streams with the given prefix.
func readAllOf(t *testing.T, s eventstore.Store, after eventstore.Position, prefix string) []eventstore.RecordedEvent {
	t.Helper()
	ctx := ctxFor(t)
	var out []eventstore.RecordedEvent
	for {
		batch, err := s.ReadAll(ctx, after, 1000)
		require.NoError(t, err)
		if len(batch) == 0 {
			return out
		}
		for _, e := range batch {
			require.Greater(t, e.Position, after, "$all must strictly increase")
			after = e.Position
			if strings.HasPrefix(e.Stream, prefix) {
				out = append(out, e)
			}
		}
	}
}

func mustHead(t *testing.T, s eventstore.Store) eventstore.Position {
	t.Helper()
	h, err := s.Head(ctxFor(t))
	require.NoError(t, err)
	return h
}

// assertSameEvents checks that recorded events carry exactly the proposed ones.
func assertSameEvents(t *testing.T, want []eventstore.EventData, got []eventstore.RecordedEvent) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].ID, got[i].ID, "event %d ID", i)
		assert.Equal(t, want[i].Type, got[i].Type, "event %d type", i)
		assert.True(t, bytes.Equal(want[i].Data, got[i].Data), "event %d data: want %q, got %q", i, want[i].Data, got[i].Data)
		assert.True(t, bytes.Equal(want[i].Metadata, got[i].Metadata), "event %d metadata: want %q, got %q", i, want[i].Metadata, got[i].Metadata)
	}
}

func (c *contract) roundTrip(t *testing.T) {
	s := c.newStore(t)
	stream := streamName("roundtrip")
	before := time.Now().Add(-time.Minute)
	events := Events(3)
	events[1].Data, events[1].Metadata = nil, nil // empty payloads round-trip too
	res := MustAppend(t, s, stream, eventstore.NoStream(), events)
	assert.Equal(t, uint64(2), res.Revision, "revisions start at 0: three events end at 2")

	got := MustReadStream(t, s, stream)
	assertSameEvents(t, events, got)
	for i, e := range got {
		assert.Equal(t, stream, e.Stream)
		assert.Equal(t, uint64(i), e.Revision, "revision of event %d", i)
		assert.WithinRange(t, e.RecordedAt, before, time.Now().Add(time.Minute))
		if i > 0 {
			assert.Greater(t, e.Position, got[i-1].Position)
		}
	}
	assert.Equal(t, got[2].Position, res.Position, "the result's position is the last event's")
	assert.GreaterOrEqual(t, mustHead(t, s), res.Position)

	res2 := MustAppend(t, s, stream, eventstore.Exact(2), Events(1))
	assert.Equal(t, uint64(3), res2.Revision)
	assert.Greater(t, res2.Position, res.Position)
	if c.caps.DensePositions {
		assert.Equal(t, res.Position+1, res2.Position)
	}
}

func (c *contract) readStream(t *testing.T) {
	s := c.newStore(t)
	ctx := ctxFor(t)
	t.Run("ErrStreamNotFound", func(t *testing.T) {
		missing := streamName("missing")
		for _, from := range []uint64{0, 1, 7} {
			_, err := s.ReadStream(ctx, missing, from, 10)
			assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "from %d", from)
		}
	})
	t.Run("OKPaging", func(t *testing.T) {
		stream := streamName("paging")
		events := Events(10)
		MustAppend(t, s, stream, eventstore.NoStream(), events)
		page, err := s.ReadStream(ctx, stream, 3, 4)
		require.NoError(t, err)
		assertSameEvents(t, events[3:7], page)
		assert.Equal(t, uint64(3), page[0].Revision)
		tail, err := s.ReadStream(ctx, stream, 8, 100)
		require.NoError(t, err)
		assertSameEvents(t, events[8:], tail)
		past, err := s.ReadStream(ctx, stream, 10, 5)
		require.NoError(t, err, "reading past the end of an existing stream is not an error")
		assert.Empty(t, past)
		farPast, err := s.ReadStream(ctx, stream, 50, 5)
		require.NoError(t, err, "reading far past the end of an existing stream is not an error")
		assert.Empty(t, farPast)
	})
}

func (c *contract) wrongExpectedRevision(t *testing.T) {
	s := c.newStore(t)
	ctx := ctxFor(t)
	stream := streamName("wrongrev")
	MustAppend(t, s, stream, eventstore.NoStream(), Events(2))
	head := mustHead(t, s)
	for _, exp := range []eventstore.ExpectedRevision{eventstore.Exact(0), eventstore.Exact(2), eventstore.Exact(100)} {
		_, err := s.Append(ctx, stream, exp, Events(2))
		assert.ErrorIs(t, err, eventstore.ErrConcurrency, "expected %s", exp)
	}
	assert.Len(t, MustReadStream(t, s, stream), 2, "a refused append writes nothing")
	assert.Equal(t, head, mustHead(t, s), "a refused append does not move $all")

	missing := streamName("wrongrev-missing")
	_, err := s.Append(ctx, missing, eventstore.Exact(0), Events(1))
	assert.ErrorIs(t, err, eventstore.ErrConcurrency, "exact revision on a missing stream")
	_, err = s.ReadStream(ctx, missing, 0, 1)
	assert.ErrorIs(t, err, eventstore.ErrStreamNotFound)
}

func (c *contract) noStreamOnExisting(t *testing.T) {
	s := c.newStore(t)
	stream := streamName("nostream")
	MustAppend(t, s, stream, eventstore.NoStream(), Events(1))
	head := mustHead(t, s)
	_, err := s.Append(ctxFor(t), stream, eventstore.NoStream(), Events(1))
	assert.ErrorIs(t, err, eventstore.ErrConcurrency)
	assert.Len(t, MustReadStream(t, s, stream), 1)
	assert.Equal(t, head, mustHead(t, s))
}

func (c *contract) anyRevision(t *testing.T) {
	s := c.newStore(t)
	stream := streamName("any")
	r1 := MustAppend(t, s, stream, eventstore.Any(), Events(1))
	assert.Equal(t, uint64(0), r1.Revision)
	r2 := MustAppend(t, s, stream, eventstore.Any(), Events(2))
	assert.Equal(t, uint64(2), r2.Revision)
}

func (c *contract) raceOnOneRevision(t *testing.T) {
	s := c.newStore(t)
	ctx := ctxFor(t)
	stream := streamName("race")
	MustAppend(t, s, stream, eventstore.NoStream(), Events(1))
	const racers = 32
	var wg sync.WaitGroup
	errs := make([]error, racers)
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.Append(ctx, stream, eventstore.Exact(0), Events(1))
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		assert.ErrorIs(t, err, eventstore.ErrConcurrency)
	}
	assert.Equal(t, 1, wins, "exactly one of %d writers expecting the same revision wins", racers)
	assert.Len(t, MustReadStream(t, s, stream), 2)
}

func (c *contract) idempotentAppend(t *testing.T) {
	s := c.newStore(t)
	for name, exp := range map[string]func(prev uint64) eventstore.ExpectedRevision{
		"Exact": eventstore.Exact,
		"Any":   func(uint64) eventstore.ExpectedRevision { return eventstore.Any() },
	} {
		t.Run(name, func(t *testing.T) {
			stream := streamName("idem")
			first := Events(3)
			r0 := MustAppend(t, s, stream, eventstore.NoStream(), first)
			again := MustAppend(t, s, stream, eventstore.NoStream(), first)
			assert.Equal(t, r0, again, "a retry of a NoStream append returns the first result")

			second := Events(2)
			r1 := MustAppend(t, s, stream, exp(r0.Revision), second)
			head := mustHead(t, s)
			retry := MustAppend(t, s, stream, exp(r0.Revision), second)
			assert.Equal(t, r1, retry, "a retry returns the first result")
			assert.Len(t, MustReadStream(t, s, stream), 5, "a retry writes nothing")
			assert.Equal(t, head, mustHead(t, s))
		})
	}
}

func (c *contract) idempotentMismatch(t *testing.T) {
	s := c.newStore(t)
	stream := streamName("idem-mismatch")
	first := Events(2)
	MustAppend(t, s, stream, eventstore.NoStream(), first)
	MustAppend(t, s, stream, eventstore.Exact(1), Events(1))
	// The same IDs with a stale expected revision that is not where they were
	// written is no retry: it is refused as a conflict, and nothing is written.
	_, err := s.Append(ctxFor(t), stream, eventstore.Exact(0), first)
	assert.ErrorIs(t, err, eventstore.ErrConcurrency)
	// A conflicting append with new IDs is refused the same way.
	_, err = s.Append(ctxFor(t), stream, eventstore.Exact(1), Events(2))
	assert.ErrorIs(t, err, eventstore.ErrConcurrency)
	assert.Len(t, MustReadStream(t, s, stream), 3)
}

func (c *contract) concurrentWriters(t *testing.T) {
	s := c.newStore(t)
	ctx := ctxFor(t)
	const writers, streams, perStream = 16, 200, 3
	prefix := streamName("concurrent") + "-"
	start := mustHead(t, s)
	// Writer w owns streams w, w+16, …: it appends perStream single events to
	// each with exact revisions, interleaved with the other writers.
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	var mu sync.Mutex
	written := map[uuid.UUID]string{}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range perStream {
				for st := w; st < streams; st += writers {
					stream := fmt.Sprintf("%s%03d", prefix, st)
					exp := eventstore.NoStream()
					if round > 0 {
						exp = eventstore.Exact(uint64(round - 1))
					}
					ev := Events(1)
					if _, err := s.Append(ctx, stream, exp, ev); err != nil {
						errs <- fmt.Errorf("writer %d stream %s round %d: %w", w, stream, round, err)
						return
					}
					mu.Lock()
					written[ev[0].ID] = stream
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	all := readAllOf(t, s, start, prefix)
	require.Len(t, all, streams*perStream, "$all holds every event")
	seen := map[uuid.UUID]bool{}
	next := map[string]uint64{}
	for i, e := range all {
		assert.False(t, seen[e.ID], "event %s appears twice in $all", e.ID)
		seen[e.ID] = true
		assert.Equal(t, written[e.ID], e.Stream, "event %s in the stream it was written to", e.ID)
		assert.Equal(t, next[e.Stream], e.Revision, "stream %s revisions in $all order", e.Stream)
		next[e.Stream]++
		if c.caps.DensePositions {
			assert.Equal(t, start+eventstore.Position(i)+1, e.Position, "$all has no gap")
		}
	}
	// A reader sizes its work by a dense store's head (eventstore.Dense):
	// a store whose positions are dense says so. (PostgreSQL's say so too:
	// dense but for the rare gap of a failed group.)
	if c.caps.DensePositions {
		d, ok := s.(eventstore.Dense)
		assert.True(t, ok && d.DensePositions(), "the store says its positions are dense (eventstore.Dense)")
	}
}

func (c *contract) readAllSuffix(t *testing.T) {
	s := c.newStore(t)
	prefix := streamName("suffix") + "-"
	start := mustHead(t, s)
	for i := range 5 {
		MustAppend(t, s, fmt.Sprintf("%s%d", prefix, i), eventstore.NoStream(), Events(4))
	}
	all := readAllOf(t, s, start, prefix)
	require.Len(t, all, 20)
	for _, k := range []int{0, 1, 7, 18, 19} {
		suffix := readAllOf(t, s, all[k].Position, prefix)
		if want := all[k+1:]; len(want) == 0 {
			assert.Empty(t, suffix, "reading after the last event returns nothing")
		} else {
			assert.Equal(t, want, suffix, "reading after event %d returns exactly the rest", k)
		}
	}
	// Small batches return the same sequence as one large read.
	var paged []eventstore.RecordedEvent
	after := start
	for {
		batch, err := s.ReadAll(ctxFor(t), after, 3)
		require.NoError(t, err)
		if len(batch) == 0 {
			break
		}
		require.LessOrEqual(t, len(batch), 3)
		after = batch[len(batch)-1].Position
		for _, e := range batch {
			if strings.HasPrefix(e.Stream, prefix) {
				paged = append(paged, e)
			}
		}
	}
	assert.Equal(t, all, paged)
	_, err := s.ReadAll(ctxFor(t), start, 0)
	assert.ErrorIs(t, err, eventstore.ErrInvalidArgument)
}

// recvOf receives events until n of the given prefix's streams arrived.
func recvOf(t *testing.T, sub eventstore.Subscription, prefix string, n int) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	var last eventstore.Position
	for len(out) < n {
		e, err := sub.Recv()
		require.NoError(t, err)
		require.Greater(t, e.Position, last, "subscription delivers in increasing position order")
		last = e.Position
		if strings.HasPrefix(e.Stream, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func (c *contract) subscription(t *testing.T) {
	s := c.newStore(t)
	prefix := streamName("sub") + "-"
	start := mustHead(t, s)
	history := Events(5)
	MustAppend(t, s, prefix+"a", eventstore.NoStream(), history)

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	sub, err := s.SubscribeAll(ctx, start)
	require.NoError(t, err)
	defer sub.Close()
	assertSameEvents(t, history, recvOf(t, sub, prefix, 5))

	// Live events, written while the subscriber waits, arrive in order.
	live := Events(6)
	go func() {
		MustAppend(t, s, prefix+"b", eventstore.NoStream(), live[:3])
		MustAppend(t, s, prefix+"a", eventstore.Exact(4), live[3:])
	}()
	assertSameEvents(t, live, recvOf(t, sub, prefix, 6))

	// Subscribing from the middle gives exactly the rest.
	all := readAllOf(t, s, start, prefix)
	sub2, err := s.SubscribeAll(ctx, all[6].Position)
	require.NoError(t, err)
	defer sub2.Close()
	assert.Equal(t, all[7:], recvOf(t, sub2, prefix, len(all)-7))

	// Cancelling the context ends the subscription.
	cctx, ccancel := context.WithCancel(context.Background())
	sub3, err := s.SubscribeAll(cctx, mustHead(t, s))
	require.NoError(t, err)
	defer sub3.Close()
	got := make(chan error, 1)
	go func() {
		_, err := sub3.Recv()
		got <- err
	}()
	ccancel()
	select {
	case err := <-got:
		assert.Error(t, err, "Recv after cancel returns an error")
	case <-time.After(testTimeout):
		t.Fatal("Recv did not return after the context was cancelled")
	}
}

func (c *contract) subscriptionClose(t *testing.T) {
	s := c.newStore(t)
	sub, err := s.SubscribeAll(ctxFor(t), mustHead(t, s))
	require.NoError(t, err)
	got := make(chan error, 1)
	go func() {
		for {
			if _, err := sub.Recv(); err != nil {
				got <- err
				return
			}
		}
	}()
	require.NoError(t, sub.Close())
	select {
	case err := <-got:
		assert.ErrorIs(t, err, eventstore.ErrClosed)
	case <-time.After(testTimeout):
		t.Fatal("Recv did not return after Close")
	}
	assert.NoError(t, sub.Close(), "Close twice is fine")
}

func (c *contract) slowSubscriber(t *testing.T) {
	s := c.newStore(t)
	prefix := streamName("slow") + "-"
	start := mustHead(t, s)
	ctx := ctxFor(t)
	// A subscriber that reads one event and then stops reading.
	sub, err := s.SubscribeAll(ctx, start)
	require.NoError(t, err)
	defer sub.Close()
	MustAppend(t, s, prefix+"first", eventstore.NoStream(), Events(1))
	_ = recvOf(t, sub, prefix, 1)
	// Writers still complete 2,000 events while it sleeps.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("%sw%d", prefix, w)
			exp := eventstore.NoStream()
			for range 25 {
				res := MustAppend(t, s, stream, exp, Events(10))
				exp = eventstore.Exact(res.Revision)
			}
		}()
	}
	wg.Wait()
	// And the subscriber, resuming, still gets all of them in order.
	assert.Len(t, recvOf(t, sub, prefix, 2000), 2000)
}

func (c *contract) largeEvent(t *testing.T) {
	s := c.newStore(t)
	stream := streamName("large")
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20/16)
	events := []eventstore.EventData{{ID: uuid.New(), Type: "Large", Data: big, Metadata: []byte(`{"size":"1MiB"}`)}}
	MustAppend(t, s, stream, eventstore.NoStream(), events)
	assertSameEvents(t, events, MustReadStream(t, s, stream))
}

func (c *contract) limits(t *testing.T) {
	s := c.newStore(t)
	ctx := ctxFor(t)
	existing := streamName("limits")
	MustAppend(t, s, existing, eventstore.NoStream(), Events(1))
	withEvent := func(mut func(*eventstore.EventData)) []eventstore.EventData {
		ev := Events(2)
		mut(&ev[1])
		return ev
	}
	dupID := Events(2)
	dupID[1].ID = dupID[0].ID
	tooBigTotal := make([]eventstore.EventData, 5)
	for i := range tooBigTotal {
		tooBigTotal[i] = eventstore.EventData{ID: uuid.New(), Type: "Big", Data: make([]byte, eventstore.MaxAppendBytes/4)}
	}
	cases := []struct {
		name   string
		stream string
		exp    eventstore.ExpectedRevision
		events []eventstore.EventData
		want   string
	}{
		{"ErrEmptyStreamName", "", eventstore.Any(), Events(1), "stream name is empty"},
		{"ErrLongStreamName", strings.Repeat("s", eventstore.MaxStreamNameBytes+1), eventstore.Any(), Events(1), "over the limit"},
		{"ErrSystemStreamName", "$system", eventstore.Any(), Events(1), "reserved"},
		{"ErrControlCharInStreamName", "a\nb", eventstore.Any(), Events(1), "control character"},
		{"ErrStreamNameNotUTF8", "a\xffb", eventstore.Any(), Events(1), "UTF-8"},
		{"ErrUnsetExpectedRevision", existing, eventstore.ExpectedRevision{}, Events(1), "expected revision is not set"},
		{"ErrNoEvents", existing, eventstore.Exact(0), nil, "no events"},
		{"ErrTooManyEvents", existing, eventstore.Exact(0), Events(eventstore.MaxAppendEvents + 1), "events in one append"},
		{"ErrEventTooLarge", existing, eventstore.Exact(0), withEvent(func(e *eventstore.EventData) {
			e.Data = make([]byte, eventstore.MaxEventBytes-len(e.Metadata)+1)
		}), "event 1 is"},
		{"ErrAppendTooLarge", existing, eventstore.Exact(0), tooBigTotal, "the append is"},
		{"ErrNilID", existing, eventstore.Exact(0), withEvent(func(e *eventstore.EventData) { e.ID = uuid.Nil }), "event 1 has no ID"},
		{"ErrDuplicateID", existing, eventstore.Exact(0), dupID, "repeats ID"},
		{"ErrEmptyType", existing, eventstore.Exact(0), withEvent(func(e *eventstore.EventData) { e.Type = "" }), "event 1 type is empty"},
		{"ErrLongType", existing, eventstore.Exact(0), withEvent(func(e *eventstore.EventData) {
			e.Type = strings.Repeat("T", eventstore.MaxEventTypeBytes+1)
		}), "event 1 type"},
		{"ErrSystemType", existing, eventstore.Exact(0), withEvent(func(e *eventstore.EventData) { e.Type = "$stats" }), "reserved"},
	}
	head := mustHead(t, s)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(ctx, tc.stream, tc.exp, tc.events)
			require.ErrorIs(t, err, eventstore.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.want)
			assert.Len(t, MustReadStream(t, s, existing), 1, "nothing appended")
			assert.Equal(t, head, mustHead(t, s), "$all did not move")
		})
	}
	t.Run("ErrReadLimits", func(t *testing.T) {
		for _, limit := range []int{0, -1, eventstore.MaxReadBatch + 1} {
			_, err := s.ReadStream(ctx, existing, 0, limit)
			assert.ErrorIs(t, err, eventstore.ErrInvalidArgument, "ReadStream limit %d", limit)
			_, err = s.ReadAll(ctx, eventstore.Start, limit)
			assert.ErrorIs(t, err, eventstore.ErrInvalidArgument, "ReadAll limit %d", limit)
		}
		_, err := s.ReadStream(ctx, "", 0, 1)
		assert.ErrorIs(t, err, eventstore.ErrInvalidArgument)
	})
	t.Run("OKAtTheLimits", func(t *testing.T) {
		stream := strings.Repeat("s", eventstore.MaxStreamNameBytes-36) + uuid.NewString()
		ev := Events(1)
		ev[0].Type = strings.Repeat("T", eventstore.MaxEventTypeBytes)
		ev[0].Metadata = nil
		ev[0].Data = make([]byte, eventstore.MaxEventBytes)
		MustAppend(t, s, stream, eventstore.NoStream(), ev)
		assertSameEvents(t, ev, MustReadStream(t, s, stream))
	})
}
