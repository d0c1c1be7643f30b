package http_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "github.com/collections-ledger/ledger/http"
	"github.com/collections-ledger/ledger/webhook"
)

// serve sends one request to srv, a server the test built itself.
func serve(t *testing.T, srv *httpapi.Server, method, path, key string, body any, headers ...string) response {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(t, err)
	}
	req := httptest.NewRequest(method, path, strings.NewReader(string(raw)))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// TestWebhookURLMustBeHTTPS: PUT /v1/webhook took a plain http URL to a
// public host, so notifications crossed the internet unencrypted. Now only
// https is accepted, unless the ledger allows private targets (development).
func TestWebhookURLMustBeHTTPS(t *testing.T) {
	l := MustLedger(t, "")
	secret := "whsec_0123456789abcdef"
	t.Run("ErrPlainHTTP", func(t *testing.T) {
		for _, url := range []string{"http://hooks.example.com/h", "http://203.0.114.7/hook", "HTTP://hooks.example.com/h"} {
			head := l.head()
			r := l.do("PUT", "/v1/webhook", acmeKey, map[string]any{"url": url, "secret": secret})
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", url, r.Body)
			e := r.JSON(t)["errors"].([]any)[0].(map[string]any)
			assert.Equal(t, "url", e["field"], url)
			assert.Contains(t, e["message"], "https", url)
			assert.Equal(t, head, l.head(), "%s: nothing appended", url)
		}
		assert.Equal(t, http.StatusNotFound, l.do("GET", "/v1/webhook", acmeKey, nil).Status, "nothing configured")
	})
	t.Run("OK", func(t *testing.T) {
		r := l.do("PUT", "/v1/webhook", acmeKey, map[string]any{"url": "https://hooks.example.com/h", "secret": secret})
		assert.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	})
	t.Run("OKPlainHTTPInDevelopment", func(t *testing.T) {
		keys, err := httpapi.ParseKeys("other="+otherKey, "")
		require.NoError(t, err)
		cfg := l.config(keys)
		cfg.WebhookPolicy = webhook.Policy{AllowPrivate: true}
		r := serve(t, httpapi.New(cfg), "PUT", "/v1/webhook", otherKey, map[string]any{"url": "http://127.0.0.1:9000/hook", "secret": secret})
		assert.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	})
}

// clock is a test's time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// dashboardServer is a server of l's store with its own clock.
func dashboardServer(t *testing.T, l *ledger) (*httpapi.Server, *clock) {
	t.Helper()
	keys, err := httpapi.ParseKeys("acme="+acmeKey+",other="+otherKey, "")
	require.NoError(t, err)
	srv := httpapi.New(l.config(keys))
	c := &clock{t: time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)}
	srv.SetClock(c.now)
	return srv, c
}

// signInFrom posts the sign-in form with key from the client address from.
func signInFrom(srv *httpapi.Server, from, key string) response {
	req := httptest.NewRequest("POST", "/signin", strings.NewReader("key="+key))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = from
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func cookieOf(r response) string { return strings.Split(r.Header.Get("Set-Cookie"), ";")[0] }

// signedIn reports whether the dashboard shows cookie's session the list.
func signedIn(t *testing.T, srv *httpapi.Server, cookie string) bool {
	t.Helper()
	r := serve(t, srv, "GET", "/", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, r.Status)
	return !strings.Contains(string(r.Body), `id="signin"`)
}

// TestDashboardSessionsAreCappedAndSwept: every sign-in added a session for
// eight hours (3,000 sign-ins = +3.8 MB) and scanned the whole table. Each
// creditor now keeps its MaxSessionsPerCreditor most recent sessions, and
// expired ones are forgotten by a sweep, not by the next sign-in.
func TestDashboardSessionsAreCappedAndSwept(t *testing.T) {
	l := MustLedger(t, "")
	srv, clk := dashboardServer(t, l)
	head := l.head()
	var cookies []string
	for i := range httpapi.MaxSessionsPerCreditor + 4 {
		// from as many addresses, so the sign-in limit stays out of the way
		r := signInFrom(srv, "198.51.100."+strconv.Itoa(i+1)+":4000", acmeKey)
		require.Equal(t, http.StatusSeeOther, r.Status, "%s", r.Body)
		cookies = append(cookies, cookieOf(r))
	}
	other := cookieOf(signInFrom(srv, "198.51.100.200:4000", otherKey))
	assert.Equal(t, httpapi.MaxSessionsPerCreditor+1, srv.SessionCount(), "acme's cap, and other's one")
	t.Run("ErrOldestEnded", func(t *testing.T) {
		for _, c := range cookies[:4] {
			assert.False(t, signedIn(t, srv, c), "a sign-in beyond the cap ends the oldest session")
		}
	})
	t.Run("OKNewestKept", func(t *testing.T) {
		for _, c := range cookies[4:] {
			assert.True(t, signedIn(t, srv, c))
		}
		assert.True(t, signedIn(t, srv, other), "another creditor's session is not touched")
	})
	t.Run("OKSweptWhenExpired", func(t *testing.T) {
		clk.add(8*time.Hour + time.Second)
		srv.SweepSessions()
		assert.Zero(t, srv.SessionCount(), "expired sessions are forgotten without a sign-in")
		assert.False(t, signedIn(t, srv, cookies[len(cookies)-1]))
	})
	assert.Equal(t, head, l.head(), "sessions append nothing")
}

// TestSignInIsRateLimited: POST /signin took any number of attempts, so a
// key could be guessed as fast as the server answered. Each client address
// has SignInBurst attempts, refilled one per SignInRefill; past them, 429
// with Retry-After, whatever the key.
func TestSignInIsRateLimited(t *testing.T) {
	l := MustLedger(t, "")
	srv, clk := dashboardServer(t, l)
	head := l.head()
	const guesser = "203.0.113.9:5555"
	for i := range httpapi.SignInBurst {
		assert.Equal(t, http.StatusUnauthorized, signInFrom(srv, guesser, "wrong-key-"+strconv.Itoa(i)).Status, "attempt %d", i+1)
	}
	t.Run("ErrTooMany", func(t *testing.T) {
		for _, key := range []string{"wrong-key-x", acmeKey} {
			r := signInFrom(srv, guesser, key)
			require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
			assert.Equal(t, strconv.Itoa(int(httpapi.SignInRefill/time.Second)), r.Header.Get("Retry-After"))
			assert.Empty(t, r.Header.Get("Set-Cookie"), "not even the right key signs in")
			assert.Contains(t, string(r.Body), "Too many sign-in attempts")
		}
		assert.Zero(t, srv.SessionCount())
	})
	t.Run("ErrSameIPv6Block", func(t *testing.T) {
		for range httpapi.SignInBurst {
			signInFrom(srv, "[2001:db8:1:2::1]:443", "wrong-key")
		}
		assert.Equal(t, http.StatusTooManyRequests, signInFrom(srv, "[2001:db8:1:2::ffff]:443", acmeKey).Status, "one /64, one bucket")
	})
	t.Run("OKOtherAddress", func(t *testing.T) {
		assert.Equal(t, http.StatusSeeOther, signInFrom(srv, "203.0.113.10:5555", acmeKey).Status)
	})
	t.Run("OKAfterRefill", func(t *testing.T) {
		clk.add(httpapi.SignInRefill)
		assert.Equal(t, http.StatusSeeOther, signInFrom(srv, guesser, acmeKey).Status)
		assert.Equal(t, http.StatusTooManyRequests, signInFrom(srv, guesser, acmeKey).Status, "one attempt refilled")
	})
	assert.Equal(t, head, l.head(), "sign-ins append nothing")
}

// TestPersonalDataIsNotCachedAndErasureChangesTheETag: the claim read that
// shows a debtor in clear had no Cache-Control, so a shared cache could keep
// it, and kept its ETag after an erasure (an erasure appends nothing to the
// placement), so a cache revalidating with If-None-Match would be told its
// copy, personal data and all, was still current. Every response that may
// show personal data is now "no-store, private", and the claim's ETag says
// when the data was erased; If-Match still takes it.
func TestPersonalDataIsNotCachedAndErasureChangesTheETag(t *testing.T) {
	l := MustLedger(t, "")
	placed := l.do("POST", "/v1/claims", acmeKey, handover("PD-ETAG"))
	require.Equal(t, http.StatusAccepted, placed.Status, "%s", placed.Body)
	page := "/dashboard/placements/" + placed.JSON(t)["placementId"].(string)
	cookie := l.signIn()

	before := l.get("/v1/claims/PD-ETAG", acmeKey, placed.Position(t))
	require.Equal(t, "present", customerOf(t, before)["personalDataStatus"])
	dash := l.do("GET", page, "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, dash.Status)
	require.Contains(t, string(dash.Body), "Zwetschgenmann")
	for name, r := range map[string]response{"claim": before, "dashboard": dash} {
		assert.Equal(t, "no-store, private", r.Header.Get("Cache-Control"), name)
	}

	require.Equal(t, http.StatusOK, l.do("DELETE", "/v1/debtors/K77/personal-data", acmeKey, nil).Status)
	after := l.do("GET", "/v1/claims/PD-ETAG", acmeKey, nil)
	require.Equal(t, "erased", customerOf(t, after)["personalDataStatus"])
	assert.Equal(t, "no-store, private", after.Header.Get("Cache-Control"))
	assert.NotEqual(t, before.Header.Get("ETag"), after.Header.Get("ETag"), "an erasure changes the ETag")
	assert.Equal(t, `"`+strconv.Itoa(int(after.JSON(t)["revision"].(float64)))+`-erased"`, after.Header.Get("ETag"))

	t.Run("ErrIfMatchOtherSuffix", func(t *testing.T) {
		head := l.head()
		bogus := strings.Replace(after.Header.Get("ETag"), "erased", "present", 1)
		r := l.do("POST", "/v1/claims/PD-ETAG/recalls", acmeKey, map[string]any{}, "If-Match", bogus)
		assert.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		assert.Equal(t, "invalid_if_match", r.JSON(t)["code"])
		assert.Equal(t, head, l.head(), "nothing appended")
	})
	t.Run("OKIfMatchTakesTheErasedETag", func(t *testing.T) {
		r := l.do("POST", "/v1/claims/PD-ETAG/recalls", acmeKey, map[string]any{}, "If-Match", after.Header.Get("ETag"))
		assert.Less(t, r.Status, 300, "%s", r.Body)
	})
}
