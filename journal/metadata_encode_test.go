package journal

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func requireMarshalsAsJSON(t *testing.T, m Metadata) {
	t.Helper()
	want, wantErr := json.Marshal(m)
	got, err := marshalMetadata(&m)
	if wantErr != nil {
		require.Error(t, err)
		return
	}
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

var awkward = []string{"", "creditor-1", "req 7", `q"uote`, `b\s`, "<&>", "tab\t", "\x00\x1f", "ü€", "\u2028", "\xff\xfe", "🙂"}

func TestMarshalMetadataIsJSONMarshal(t *testing.T) {
	at := time.Date(2026, 12, 5, 1, 2, 3, 4, time.UTC)
	for _, s := range awkward {
		requireMarshalsAsJSON(t, Metadata{Actor: s, ActorType: s, RequestID: s, OccurredAt: at, Command: s})
		requireMarshalsAsJSON(t, Metadata{Hash: s, PrevHash: s, Actor: s, ActorType: ActorCreditor, RequestID: s, IdempotencyKey: s,
			RequestHash: s, BulkKey: s, CausationID: s, CorrelationID: s, SchemaVersion: -3, OccurredAt: at, Command: s,
			Outcome: s, Index: 1, Count: 1 << 40})
	}
	requireMarshalsAsJSON(t, Metadata{})
	for _, at := range []time.Time{at.In(time.FixedZone("x", 3600)), at.In(time.FixedZone("s", 61)), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), at.In(time.FixedZone("day", 86400))} {
		requireMarshalsAsJSON(t, Metadata{Actor: "a", OccurredAt: at})
	}
}

func TestMarshalMetadataOfRandomMetadata(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	str := func() string {
		if r.IntN(2) == 0 {
			return awkward[r.IntN(len(awkward))]
		}
		b := make([]byte, r.IntN(10))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	for i := 0; i < 20000; i++ {
		m := Metadata{Actor: str(), ActorType: str(), RequestID: str(), IdempotencyKey: str(), RequestHash: str(),
			CausationID: str(), SchemaVersion: r.IntN(9), OccurredAt: time.Unix(r.Int64N(1<<34)-1<<33, r.Int64N(1e9)).UTC(),
			Command: str(), Outcome: str(), Index: r.IntN(4), Count: r.IntN(4)}
		requireMarshalsAsJSON(t, m)
		m.compact()
		requireMarshalsAsJSON(t, m)
	}
}

func FuzzMarshalMetadata(f *testing.F) {
	f.Add("creditor-1", "req-1", "key", "RecordPayment", int64(1764900000), int64(7), 2)
	f.Add("<&>", "\xff", "", "", int64(-62135596801), int64(0), -1)
	f.Fuzz(func(t *testing.T, actor, request, key, command string, sec, nsec int64, n int) {
		requireMarshalsAsJSON(t, Metadata{Actor: actor, ActorType: actor, RequestID: request, IdempotencyKey: key, BulkKey: key,
			CorrelationID: request, SchemaVersion: n, OccurredAt: time.Unix(sec, nsec).UTC(), Command: command, Index: n, Count: n})
	})
}
