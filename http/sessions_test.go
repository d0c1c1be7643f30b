package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
