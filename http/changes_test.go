package http_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// changedSince reads every page of /v1/placements?updatedSince=since with
// limit, as a syncing client would, and returns the claim numbers served.
func (l *ledger) changedSince(key string, since time.Time, limit string) []string {
	l.t.Helper()
	path := "/v1/placements?updatedSince=" + url.QueryEscape(since.Format(time.RFC3339Nano)) + "&limit=" + limit
	var claims []string
	r := l.get(path, key, l.head())
	for range 100 {
		require.Equal(l.t, http.StatusOK, r.Status, "%s", r.Body)
		page := r.ExactJSON(l.t)
		for _, it := range page["items"].([]any) {
			claims = append(claims, it.(map[string]any)["claimNumber"].(string))
		}
		next, ok := page["nextCursor"].(string)
		if !ok {
			require.Nil(l.t, page["nextCursor"])
			return claims
		}
		r = l.do("GET", path+"&cursor="+url.QueryEscape(next), key, nil)
	}
	l.t.Fatal("the pages do not end")
	return nil
}

// TestUpdatedSinceSyncsAClient: a client that remembers when it last read
// gets the placements changed since, each once, in the order of change,
// page by page; nothing after everything; nothing of another creditor's.
func TestUpdatedSinceSyncsAClient(t *testing.T) {
	l := MustLedger(t, "")
	before := time.Now().Add(-time.Hour)
	ids := map[string]string{}
	for _, claim := range []string{"SYNC-1", "SYNC-2", "SYNC-3"} {
		ids[claim] = l.MustPlace(claim)
	}
	r := l.do("POST", "/v1/placements/"+ids["SYNC-1"]+"/payment-received", acmeKey, map[string]any{"amount": "10.00"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	want := []string{"SYNC-2", "SYNC-3", "SYNC-1"}

	t.Run("OKOrderOfChange", func(t *testing.T) {
		got := l.with(t).get("/v1/placements?updatedSince="+url.QueryEscape(before.Format(time.RFC3339)), acmeKey, l.head())
		require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
		items := got.JSON(t)["items"].([]any)
		require.Len(t, items, 3)
		changed := items[2].(map[string]any)
		assert.Equal(t, "SYNC-1", changed["claimNumber"], "the changed one last")
		assert.Equal(t, "390.00", changed["outstandingAmount"], "the placement as it stands")
		whole := l.with(t).get("/v1/placements/"+ids["SYNC-1"], acmeKey, l.head())
		raw, err := json.Marshal(changed)
		require.NoError(t, err)
		assert.JSONEq(t, string(whole.Body), string(raw), "each item is the placement resource")
	})
	t.Run("OKPaged", func(t *testing.T) {
		assert.Equal(t, want, l.with(t).changedSince(acmeKey, before, "1"))
		assert.Equal(t, want, l.with(t).changedSince(acmeKey, before, "2"))
	})
	t.Run("OKEmptyAfterEverything", func(t *testing.T) {
		assert.Empty(t, l.with(t).changedSince(acmeKey, time.Now().Add(time.Hour), "50"))
	})
	t.Run("OKOtherCreditorSeesNone", func(t *testing.T) {
		assert.Empty(t, l.with(t).changedSince(otherKey, before, "50"))
	})
	t.Run("OKChangedAgainMovesToTheEnd", func(t *testing.T) {
		r := l.do("POST", "/v1/placements/"+ids["SYNC-2"]+"/payment-received", acmeKey, map[string]any{"amount": "10.00"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Equal(t, []string{"SYNC-3", "SYNC-1", "SYNC-2"}, l.with(t).changedSince(acmeKey, before, "1"))
	})
}

// TestUpdatedSinceRefusals: bad values are 400 naming the parameter, and
// append nothing.
func TestUpdatedSinceRefusals(t *testing.T) {
	l := MustLedger(t, "")
	l.MustPlace("SYNC-R")
	since := "updatedSince=" + url.QueryEscape("2024-01-01T00:00:00Z")
	cases := []struct {
		name, query, code, field string
	}{
		{"ErrMalformedTime", "updatedSince=yesterday", "invalid_query", "updatedSince"},
		{"ErrDateOnly", "updatedSince=2024-01-01", "invalid_query", "updatedSince"},
		{"ErrEmpty", "updatedSince=", "invalid_query", "updatedSince"},
		{"ErrWithStatus", since + "&status=active", "invalid_query", "status"},
		{"ErrRepeated", since + "&" + since, "repeated_query_parameter", "updatedSince"},
		{"ErrBadLimit", since + "&limit=0", "invalid_query", "limit"},
		{"ErrListCursor", since + "&cursor=cDU", "invalid_cursor", "cursor"},
		{"ErrGarbageCursor", since + "&cursor=zzz", "invalid_cursor", "cursor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := l.do("GET", "/v1/placements?"+tc.query, acmeKey, nil)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			p := r.JSON(t)
			assert.Equal(t, tc.code, p["code"])
			require.NotEmpty(t, p["errors"], "the problem names the parameter")
			assert.Equal(t, tc.field, p["errors"].([]any)[0].(map[string]any)["field"])
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
}
