package http_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadYourOwnWrites: a read of one placement or claim never answers
// older than a command this server acknowledged before the read began
// (docs/API.md, "Reading what you just wrote"). Each pair is a command and
// the read that follows its answer, without ?minPosition=: a placement read
// after its 201 (never 404), a claim read after its handover's 202, and a
// placement read after a 200 recall (never still active). The pairs run from
// several goroutines at once, so the views are often behind the log.
// 10,000 pairs; 1,000 under the race detector or -short (about 5 s each).
func TestReadYourOwnWrites(t *testing.T) {
	pairs := 10_000
	if underRace || testing.Short() {
		pairs = 1_000
	}
	l := MustLedger(t, "")
	const workers = 32
	var stale, next atomic.Int64
	var failures sync.Map // the first few unexpected answers, for the message
	report := func(kind string, r response) {
		if stale.Add(1) <= 5 {
			failures.Store(kind+" "+strconv.Itoa(r.Status), string(r.Body))
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := next.Add(3) - 3 // each round is three pairs
				if i >= int64(pairs) {
					return
				}
				claim := fmt.Sprintf("RYW-%d-%d", w, i)
				body, _ := json.Marshal(placeBody(claim))
				created := l.do("POST", "/v1/placements", acmeKey, body)
				if created.Status != http.StatusCreated {
					report("create", created)
					continue
				}
				var p struct {
					PlacementID string `json:"placementId"`
				}
				_ = json.Unmarshal(created.Body, &p)
				if r := l.do("GET", "/v1/placements/"+p.PlacementID, acmeKey, nil); r.Status != http.StatusOK {
					report("read after create", r)
				}
				if r := l.do("GET", "/v1/claims/"+claim, acmeKey, nil); r.Status != http.StatusOK {
					report("claim read after create", r)
				}
				recalled := l.do("POST", "/v1/placements/"+p.PlacementID+"/recall", acmeKey, nil)
				if recalled.Status != http.StatusOK {
					report("recall", recalled)
					continue
				}
				r := l.do("GET", "/v1/placements/"+p.PlacementID, acmeKey, nil)
				var got struct {
					Status string `json:"status"`
				}
				_ = json.Unmarshal(r.Body, &got)
				if r.Status != http.StatusOK || got.Status != "recalled" {
					report("read after recall", r)
				}
			}
		})
	}
	wg.Wait()
	msgs := map[string]string{}
	failures.Range(func(k, v any) bool { msgs[k.(string)] = v.(string); return true })
	assert.Zero(t, stale.Load(), "stale reads in %d pairs; first ones: %v", pairs, msgs)
}

// TestMinPositionBeyondHead: ?minPosition= beyond the log's head is 400 at
// once (no command answered it, so waiting cannot help); a position the
// views have applied answers at once.
func TestMinPositionBeyondHead(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-MINPOS")
	head := l.head()
	cases := []struct {
		name   string
		path   string
		status int
	}{
		{"list beyond head", "/v1/placements?minPosition=" + strconv.FormatUint(uint64(head)+1, 10), http.StatusBadRequest},
		{"placement beyond head", "/v1/placements/" + id + "?minPosition=999999", http.StatusBadRequest},
		{"feed beyond head", "/v1/transactions?minPosition=999999", http.StatusBadRequest},
		{"placement at head", "/v1/placements/" + id + "?minPosition=" + strconv.FormatUint(uint64(head), 10), http.StatusOK},
		{"list at zero", "/v1/placements?minPosition=0", http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := l.do("GET", tc.path, acmeKey, nil)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			if tc.status == http.StatusBadRequest {
				p := r.JSON(t)
				assert.Equal(t, "invalid_query", p["code"])
				assert.Equal(t, "minPosition", firstField(p))
			}
			assert.Equal(t, head, l.head(), "a read appends nothing")
		})
	}
}
