package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/postgres"
	"github.com/collections-ledger/ledger/eventstore/postgres/pgtest"
)

// servePlaced starts ledger serve on the PostgreSQL database db, with its
// own views and keys, and places the claim claim on it.
func servePlaced(t *testing.T, db, claim string) (c crashClient, placement string) {
	t.Helper()
	dir := t.TempDir()
	base := serveReady(t, db, map[string]string{
		"LEDGER_API_KEYS":   "acme=" + crashKey,
		"LEDGER_AGENCY_KEY": crashAgency,
		"LEDGER_VIEWS":      filepath.Join(dir, "views"),
		"LEDGER_KEYS":       filepath.Join(dir, "keys"),
	})
	c = crashClient{base: base, client: &http.Client{Timeout: 30 * time.Second}}
	status, b, err := c.do(context.Background(), "POST", "/v1/placements", crashKey,
		`{"claimNumber":"`+claim+`","customerNumber":"K1","currency":"EUR","feeRate":"0.2","invoices":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"100000","dueDate":"2024-01-01"}]}`)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, "%s", b)
	var p struct{ PlacementID string }
	require.NoError(t, json.Unmarshal(b, &p))
	return c, p.PlacementID
}

// TestServeOnPostgres runs ledger serve on a real PostgreSQL server (a
// postgres:// LEDGER_STORE), places a claim, takes a payment through HTTP,
// reads both back through the API, and finds the events in PostgreSQL.
func TestServeOnPostgres(t *testing.T) {
	db := pgtest.Database(t)
	c, placement := servePlaced(t, db, "PG-1")
	ctx := context.Background()
	p := struct{ PlacementID string }{placement}

	status, b, err := c.do(ctx, "POST", "/v1/placements/"+p.PlacementID+"/payment-received", crashKey, `{"amount":"12.34","paymentNumber":"PAY-1"}`)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", b)

	require.Eventually(t, func() bool {
		for _, it := range c.auditTrail(t, p.PlacementID) {
			if it.Type == "PaymentReceived" && it.Data.PaymentNumber == "PAY-1" {
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the payment is read back through the API") // a liveness bound
	status, b, err = c.do(ctx, "GET", "/v1/admin/verify", crashAgency, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "verification on PostgreSQL: %s", b)

	// The events are in PostgreSQL, in the default schema.
	s, err := postgres.Open(ctx, db, postgres.Options{})
	require.NoError(t, err)
	defer s.Close()
	all, err := s.ReadAll(ctx, eventstore.Start, eventstore.MaxReadBatch)
	require.NoError(t, err)
	types := map[string]int{}
	for _, e := range all {
		types[e.Type]++
	}
	assert.Equal(t, 1, types["PaymentReceived"], "event types in PostgreSQL: %v", fmt.Sprint(types))
}

// TestServeOnPostgresSurvivesRestart stops the PostgreSQL server under a
// running ledger: a payment is answered 503 with Retry-After while it is
// down, nothing of it is written, and once the server is back the ledger
// takes payments again by itself, without a restart, and verifies.
func TestServeOnPostgresSurvivesRestart(t *testing.T) {
	srv := pgtest.Start(t)
	db := srv.NewDatabase(t)
	c, placement := servePlaced(t, db, "PG-R")
	base, ctx := c.base, context.Background()
	p := struct{ PlacementID string }{placement}
	pay := func(number string) *http.Response {
		req, err := http.NewRequest("POST", base+"/v1/placements/"+p.PlacementID+"/payment-received",
			strings.NewReader(`{"amount":"1.00","paymentNumber":"`+number+`"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+crashKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	require.NoError(t, srv.Stop())
	resp := pay("DOWN-1")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a command while the database is down")
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.NoError(t, srv.Start())

	require.Eventually(t, func() bool { return pay("UP-1").StatusCode == http.StatusOK }, time.Minute, 100*time.Millisecond,
		"the ledger takes payments again once the database is back") // a liveness bound
	require.Eventually(t, func() bool {
		n := 0
		for _, it := range c.auditTrail(t, p.PlacementID) {
			if it.Type == "PaymentReceived" {
				n++
				assert.Equal(t, "UP-1", it.Data.PaymentNumber, "the refused payment was not written")
			}
		}
		return n == 1
	}, time.Minute, 50*time.Millisecond, "the payment is read back once") // a liveness bound
	status, b, err := c.do(ctx, "GET", "/v1/admin/verify", crashAgency, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "verification after the restart: %s", b)
}
