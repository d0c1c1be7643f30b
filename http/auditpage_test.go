package http_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var nextLink = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// TestAuditTrailPaged: GET /v1/placements/{id}/audit answered every event
// of a placement at once (15 MB for ten large contact changes). It now
// answers at most ?limit= events (100 by default, 1000 at most) from
// ?fromPosition= on, and a Link header (rel="next") names the next page
// until the last; following the links gives the whole trail once, in order.
func TestAuditTrailPaged(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("AUDIT-PAGES")
	for i := range 60 {
		r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": 1}, "Idempotency-Key", fmt.Sprintf("pay-%d", i))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	base := "/v1/placements/" + id + "/audit"
	all := l.do("GET", base+"?limit=1000", acmeKey, nil)
	require.Equal(t, http.StatusOK, all.Status)
	assert.Empty(t, all.Header.Get("Link"), "the last page has no next")
	whole := all.Array(t)
	require.Greater(t, len(whole), 100, "enough events for more than one default page")

	first := l.do("GET", base, acmeKey, nil)
	assert.Len(t, first.Array(t), 100, "the default page")
	assert.NotEmpty(t, first.Header.Get("Link"))

	t.Run("OK following the links", func(t *testing.T) {
		var got []map[string]any
		path, pages := base+"?limit=7", 0
		for path != "" {
			r := l.do("GET", path, acmeKey, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			page := r.Array(t)
			require.LessOrEqual(t, len(page), 7)
			got = append(got, page...)
			pages++
			path = ""
			if link := r.Header.Get("Link"); link != "" {
				m := nextLink.FindStringSubmatch(link)
				require.NotNil(t, m, "Link: %s", link)
				path = m[1]
				require.NotEmpty(t, page, "a page with a next is not empty")
			}
		}
		assert.Equal(t, whole, got, "the whole trail once, in order")
		assert.Equal(t, (len(whole)+6)/7, pages)
	})
	t.Run("OK from a position", func(t *testing.T) {
		at := int(whole[50]["position"].(float64))
		page := l.do("GET", fmt.Sprintf("%s?fromPosition=%d&limit=3", base, at), acmeKey, nil).Array(t)
		assert.Equal(t, whole[50:53], page)
	})
	t.Run("OK within a cut", func(t *testing.T) {
		cut := int(whole[20]["position"].(float64))
		r := l.do("GET", fmt.Sprintf("%s?atPosition=%d&limit=1000", base, cut), acmeKey, nil)
		assert.Empty(t, r.Header.Get("Link"))
		got := r.Array(t)
		require.NotEmpty(t, got)
		assert.LessOrEqual(t, len(got), 21)
		assert.Equal(t, whole[:len(got)], got, "a prefix of the trail, up to the cut")
	})
	for _, tc := range []struct{ name, query, field string }{
		{"Err limit zero", "?limit=0", "limit"},
		{"Err limit over the max", "?limit=1001", "limit"},
		{"Err negative position", "?fromPosition=-1", "fromPosition"},
		{"Err position not a number", "?fromPosition=x", "fromPosition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := l.do("GET", base+tc.query, acmeKey, nil)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			assert.Equal(t, tc.field, r.JSON(t)["errors"].([]any)[0].(map[string]any)["field"])
		})
	}
}

// TestDashboardFeedAndHistoryPaged: the placement page rendered every feed
// item and every event. It now shows 100 of each, with a link to the next
// ones; following the links shows each item once.
func TestDashboardFeedAndHistoryPaged(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DASH-PAGES")
	for i := range 60 {
		r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": 1}, "Idempotency-Key", fmt.Sprintf("pay-%d", i))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	feedLen := len(l.do("GET", "/v1/claims/DASH-PAGES/transactions?limit=1000", acmeKey, nil).Array(t))
	auditLen := len(l.do("GET", "/v1/placements/"+id+"/audit?limit=1000", acmeKey, nil).Array(t))
	require.Greater(t, feedLen, 100)
	require.Greater(t, auditLen, 100)
	cookie, _, _ := l.dashSession(t)
	rows := regexp.MustCompile(`<tr><td>\d+</td>`)
	events := regexp.MustCompile(`<li><time datetime=`)
	for _, tc := range []struct {
		name, link string
		count      *regexp.Regexp
		total      int
	}{
		{"feed", "feed-next", rows, feedLen},
		{"history", "audit-next", events, auditLen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := regexp.MustCompile(`<a href="([^"]+)" id="` + tc.link + `">`)
			path, seen, pages := "/dashboard/placements/"+id, 0, 0
			for path != "" {
				page := l.do("GET", path, "", nil, "Cookie", cookie)
				require.Equal(t, http.StatusOK, page.Status)
				n := len(tc.count.FindAll(page.Body, -1))
				assert.LessOrEqual(t, n, 100)
				seen += n
				pages++
				path = ""
				if m := next.FindSubmatch(page.Body); m != nil && pages < 10 {
					link, _, _ := strings.Cut(strings.ReplaceAll(string(m[1]), "&amp;", "&"), "#") // a browser keeps the fragment
					path = "/dashboard/placements/" + id + link
				}
			}
			assert.Equal(t, tc.total, seen, "every item once")
			assert.Equal(t, (tc.total+99)/100, pages)
		})
	}
}
