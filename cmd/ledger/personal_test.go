package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/pii"
)

// Distinctive personal data: none of it may appear anywhere in clear.
var secrets = []string{"Wendelgard", "Brombeerstrauch", "1936-02-29", "Holunderweg 99", "wendelgard.brombeerstrauch@example.org",
	"DE75512108001245126199", "+49 221 5550199"}

func secretHandover(claim string) string {
	return fmt.Sprintf(`{"claimNumber": %q, "feeRate": "0.20",
  "customer": {"customerNumber": "K-SECRET", "type": "PERSON", "firstName": "Wendelgard", "lastName": "Brombeerstrauch", "dateOfBirth": "1936-02-29",
    "addresses": [{"street": "Holunderweg 99", "city": "Köln"}],
    "communicationChannels": [{"type": "EMAIL", "value": "wendelgard.brombeerstrauch@example.org"}, {"type": "PHONE", "value": "+49 221 5550199"}],
    "bankAccounts": [{"iban": "DE75512108001245126199"}]},
  "contracts": [{"contractNumber": "C-9", "invoices": [{"invoiceNumber": "INV-9", "remainingAmount": 90, "currency": "EUR", "dueDate": "2024-05-01"}]}]}`, claim)
}

type call struct {
	t    *testing.T
	base string
}

func (c call) do(method, path, key, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(b)
}

// TestPersonalDataNeverLeaks runs the whole life of a debtor's personal data
// (handover, a read, a status change with a webhook, a refused request
// carrying the data, an erasure) with distinctive values, then searches
// everything the ledger wrote or said for them: its log output, its
// metrics, the webhook's payloads, every response, the store, the views,
// the key store, and an export. They appear only in the one response that
// showed them to the owning creditor.
func TestPersonalDataNeverLeaks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger.db")
	var mu sync.Mutex
	var hooks []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, string(b))
		mu.Unlock()
	}))
	defer receiver.Close()
	master := pii.NewMasterKey()
	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef", "LEDGER_AGENCY_KEY": "agency-key-0123456789abcdef",
		"LEDGER_MASTER_KEY": master, "LEDGER_WEBHOOK_ALLOW_PRIVATE": "true"}
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	var out, logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-LEDGER_ADDR", addr, "-LEDGER_STORE", dir}, func(k string) string { return env[k] }, &out, &logs)
	}()
	c := call{t: t, base: "http://" + addr}
	require.Eventually(t, func() bool {
		resp, err := http.Get(c.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "serve: %s", logs.String())
	key := "acme-key-0123456789abcdef"
	var responses []string
	say := func(status int, body string) string { responses = append(responses, body); return body }

	status, body := c.do("PUT", "/v1/webhook", key, fmt.Sprintf(`{"url": %q, "secret": "whsec_0123456789abcdef"}`, receiver.URL))
	require.Equal(t, http.StatusOK, status, body)
	status, body = c.do("POST", "/v1/claims", key, secretHandover("SEC-1"))
	require.Equal(t, http.StatusAccepted, status, body)
	say(status, body)
	status, shown := c.do("GET", "/v1/claims/SEC-1", key, "")
	require.Equal(t, http.StatusOK, status, shown)
	for _, s := range secrets {
		require.Contains(t, shown, s, "the owning creditor is shown its debtor's data")
	}
	// The debtor moves: the new address is shown to the owner, and sealed like the rest.
	status, body = c.do("PUT", "/v1/claims/SEC-1/customer", key, `{"addresses": [{"street": "Quittenallee 7", "city": "Bonn"}]}`)
	require.Equal(t, http.StatusAccepted, status, body)
	say(status, body)
	status, moved := c.do("GET", "/v1/claims/SEC-1", key, "")
	require.Equal(t, http.StatusOK, status, moved)
	require.Contains(t, moved, "Quittenallee 7")
	// A refused handover carrying the data: the problem body does not echo it.
	bad := strings.Replace(secretHandover("SEC-2"), `"dueDate": "2024-05-01"`, `"dueDate": "someday"`, 1)
	status, body = c.do("POST", "/v1/claims", key, bad)
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	say(status, body)
	status, body = c.do("POST", "/v1/claims", key, secretHandover("SEC-1")) // claim number taken
	require.Equal(t, http.StatusConflict, status, body)
	say(status, body)
	status, body = c.do("POST", "/v1/claims", key, strings.Replace(secretHandover("SEC-3"), "Wendelgard\"", "Wendelgard\", \"shoeSize\": 1", 1))
	require.Equal(t, http.StatusBadRequest, status, body)
	say(status, body)
	// A status change, so the webhook carries a notification.
	status, body = c.do("POST", "/v1/claims/SEC-1/recalls", key, "")
	require.Equal(t, http.StatusAccepted, status, body)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(hooks) > 0 }, 30*time.Second, 20*time.Millisecond, "a webhook was delivered")
	for _, path := range []string{"/v1/placements", "/v1/claims/search?customerNumber=K-SECRET", "/v1/claims/SEC-1/transactions", "/v1/transactions",
		"/v1/reports/reconciliation", "/metrics"} {
		status, body = c.do("GET", path, key, "")
		require.Equal(t, http.StatusOK, status, path)
		say(status, body)
	}
	var placementID string
	{
		var list struct {
			Items []struct {
				ID string `json:"placementId"`
			} `json:"items"`
		}
		_, body = c.do("GET", "/v1/placements", key, "")
		require.NoError(t, json.Unmarshal([]byte(body), &list))
		placementID = list.Items[0].ID
	}
	say(c.do("GET", "/v1/placements/"+placementID+"/audit", key, ""))
	status, body = c.do("DELETE", "/v1/debtors/K-SECRET/personal-data", key, "")
	require.Equal(t, http.StatusOK, status, body)
	say(status, body)
	status, body = c.do("GET", "/v1/claims/SEC-1", key, "")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `"personalDataStatus":"erased"`)
	say(status, body)
	stop()
	require.Equal(t, 0, <-done, "serve: %s", logs.String())

	// Verify (with the master key: the erased data is counted as erased) and
	// an export, checked without the store.
	var vout, verr syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"verify", "-LEDGER_STORE", dir}, func(k string) string { return env[k] }, &vout, &verr), "verify: %s %s", vout.String(), verr.String())
	assert.Contains(t, vout.String(), "sealed personal data: 0 authentic, 2 erased", "the handover's and the contact change's")
	exportFile := filepath.Join(t.TempDir(), "export.jsonl")
	var eout, eerr syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"export", "-LEDGER_STORE", dir, "-o", exportFile}, func(string) string { return "" }, &eout, &eerr), "export: %s", eerr.String())
	require.Equal(t, 0, run(context.Background(), []string{"verify-export", exportFile}, func(string) string { return "" }, &eout, &eerr), "verify-export: %s %s", eout.String(), eerr.String())
	// An auditor's export of the creditor holds its access log and the erasure.
	creditorExport := filepath.Join(t.TempDir(), "acme.jsonl")
	require.Equal(t, 0, run(context.Background(), []string{"export", "-LEDGER_STORE", dir, "-creditor", "acme", "-o", creditorExport}, func(string) string { return "" }, &eout, &eerr), "export: %s", eerr.String())
	exported, err := os.ReadFile(creditorExport)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(exported), `"type":"PersonalDataRead"`), "the owner's two reads")
	assert.Equal(t, 1, strings.Count(string(exported), `"type":"DebtorPersonalDataErased"`))

	mu.Lock()
	places := map[string]string{"the log output": logs.String(), "standard output": out.String(), "webhook payloads": strings.Join(hooks, "\n"),
		"responses": strings.Join(responses, "\n")}
	mu.Unlock()
	for _, d := range []string{dir, dir + ".views", dir + ".keys", exportFile} {
		require.NoError(t, filepath.Walk(d, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			places[path] = string(b)
			return err
		}))
	}
	require.Greater(t, len(places), 8)
	for where, text := range places {
		for _, s := range append(secrets, "Quittenallee 7") {
			assert.NotContains(t, text, s, "%q in %s", s, where)
		}
	}
}

// TestServeRefusesWithoutOrWithTheWrongMasterKey: once the key store holds
// data keys, serve does not start without the master key, nor with another.
func TestServeRefusesWithoutOrWithTheWrongMasterKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger.db")
	right := pii.NewMasterKey()
	m, err := pii.ParseMasterKey(right)
	require.NoError(t, err)
	keys, err := pii.OpenFileKeys(dir+".keys", m)
	require.NoError(t, err)
	_, _, err = keys.Current("acme", "K1")
	require.NoError(t, err)
	base := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef"}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no master key":   {map[string]string{}, "no master key was given"},
		"the wrong key":   {map[string]string{"LEDGER_MASTER_KEY": pii.NewMasterKey()}, "does not open this key store"},
		"not a key":       {map[string]string{"LEDGER_MASTER_KEY": "hunter2"}, "a master key is 32 random bytes"},
		"a missing file":  {map[string]string{"LEDGER_MASTER_KEY_FILE": filepath.Join(t.TempDir(), "none")}, "LEDGER_MASTER_KEY_FILE"},
		"given both ways": {map[string]string{"LEDGER_MASTER_KEY": right, "LEDGER_MASTER_KEY_FILE": "x"}, "not both"},
	} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			var out, logs syncBuffer
			code := run(context.Background(), []string{"serve", "-LEDGER_ADDR", freeAddr(t), "-LEDGER_STORE", dir}, func(k string) string { return env[k] }, &out, &logs)
			assert.NotEqual(t, 0, code)
			assert.Contains(t, logs.String(), tc.want)
			assert.NotContains(t, out.String(), "listening", "nothing is served")
		})
	}
	// With the right key it starts.
	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef", "LEDGER_MASTER_KEY": right}
	serveReady(t, dir, env)
}

// TestRotateMasterKey re-wraps the data keys; the ledger then starts with
// the new key only, and reads the data sealed before.
func TestRotateMasterKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger.db")
	oldKey, newKey := pii.NewMasterKey(), pii.NewMasterKey()
	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef", "LEDGER_MASTER_KEY": oldKey}
	base, stop := serveStoppable(t, dir, env)
	c := call{t: t, base: base}
	status, body := c.do("POST", "/v1/claims", "acme-key-0123456789abcdef", secretHandover("ROT-1"))
	require.Equal(t, http.StatusAccepted, status, body)
	stop()

	newFile := filepath.Join(t.TempDir(), "new.key")
	require.NoError(t, os.WriteFile(newFile, []byte(newKey+"\n"), 0o600))
	var out, errs syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"rotate-master-key", "-LEDGER_STORE", dir, "-new-key-file", newFile},
		func(k string) string { return env[k] }, &out, &errs), "%s %s", out.String(), errs.String())
	assert.Contains(t, out.String(), "re-wrapped 1 data keys")

	var o2, l2 syncBuffer
	assert.Equal(t, 1, run(context.Background(), []string{"serve", "-LEDGER_ADDR", freeAddr(t), "-LEDGER_STORE", dir},
		func(k string) string { return env[k] }, &o2, &l2), "the old key no longer opens it")
	env["LEDGER_MASTER_KEY"] = newKey
	c = call{t: t, base: serveReady(t, dir, env)}
	status, body = c.do("GET", "/v1/claims/ROT-1", "acme-key-0123456789abcdef", "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "Brombeerstrauch", "data sealed before the rotation reads after it")
}

// TestRetentionCommand: -dry-run lists the debtors whose retention has
// passed and erases nothing; without it they are erased and recorded.
func TestRetentionCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger.db")
	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef", "LEDGER_MASTER_KEY": pii.NewMasterKey()}
	base, stop := serveStoppable(t, dir, env)
	c := call{t: t, base: base}
	key := "acme-key-0123456789abcdef"
	for _, claim := range []string{"RET-1", "RET-2"} {
		status, body := c.do("POST", "/v1/claims", key, strings.Replace(secretHandover(claim), "K-SECRET", "K-"+claim, 1))
		require.Equal(t, http.StatusAccepted, status, body)
	}
	status, body := c.do("POST", "/v1/claims/RET-1/recalls", key, "")
	require.Equal(t, http.StatusAccepted, status, body)
	stop()

	// A retention of one nanosecond: RET-1 (closed) is due, RET-2 (open) is not.
	env["LEDGER_PERSONAL_DATA_RETENTION"] = "1ns"
	var out, errs syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"retention", "-dry-run", "-LEDGER_STORE", dir}, func(k string) string { return env[k] }, &out, &errs), errs.String())
	assert.Contains(t, out.String(), "acme\tK-RET-1\t1 claims")
	assert.Contains(t, out.String(), "1 debtors' personal data would be erased")
	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"retention", "-dry-run", "-LEDGER_STORE", dir}, func(k string) string { return env[k] }, &out, &errs), errs.String())
	assert.Contains(t, out.String(), "1 debtors' personal data would be erased", "a dry run erased nothing")
	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"retention", "-LEDGER_STORE", dir}, func(k string) string { return env[k] }, &out, &errs), errs.String())
	assert.Contains(t, out.String(), "1 debtors' personal data erased")
	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"retention", "-dry-run", "-LEDGER_STORE", dir}, func(k string) string { return env[k] }, &out, &errs), errs.String())
	assert.Contains(t, out.String(), "0 debtors' personal data would be erased")

	c = call{t: t, base: serveReady(t, dir, env)}
	_, body = c.do("GET", "/v1/claims/RET-1", key, "")
	assert.Contains(t, body, `"personalDataStatus":"erased"`)
	_, body = c.do("GET", "/v1/claims/RET-2", key, "")
	assert.Contains(t, body, `"personalDataStatus":"present"`)

	var o, e syncBuffer
	assert.Equal(t, 2, run(context.Background(), []string{"retention", "-LEDGER_STORE", filepath.Join(t.TempDir(), "x"), "-LEDGER_PERSONAL_DATA_RETENTION", "10y"},
		func(string) string { return "" }, &o, &e), "no master key: refused")
	assert.Contains(t, e.String(), "give the master key")
}

// TestRetentionRunsInTheServer: a ledger with a retention erases what is
// due by itself (the reactors run it at start and every hour), with the
// actor "system".
func TestRetentionRunsInTheServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger.db")
	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef", "LEDGER_MASTER_KEY": pii.NewMasterKey()}
	base, stop := serveStoppable(t, dir, env)
	c := call{t: t, base: base}
	key := "acme-key-0123456789abcdef"
	status, body := c.do("POST", "/v1/claims", key, secretHandover("AUTO-1"))
	require.Equal(t, http.StatusAccepted, status, body)
	status, body = c.do("POST", "/v1/claims/AUTO-1/recalls", key, "")
	require.Equal(t, http.StatusAccepted, status, body)
	_, body = c.do("GET", "/v1/claims/AUTO-1", key, "")
	require.Contains(t, body, `"personalDataStatus":"present"`, "no retention configured: kept")
	stop()

	env["LEDGER_PERSONAL_DATA_RETENTION"] = "1ns"
	c = call{t: t, base: serveReady(t, dir, env)}
	require.Eventually(t, func() bool {
		_, body := c.do("GET", "/v1/claims/AUTO-1", key, "")
		return strings.Contains(body, `"personalDataStatus":"erased"`)
	}, 30*time.Second, 50*time.Millisecond, "the retention reactor erased it")
}

// TestRetentionRefusesAnOverlongPeriod: a retention above 100 years (300y
// overflowed to a negative duration and made a debtor closed a moment ago
// due) is refused with its reason by `ledger retention` and by serve, from
// the flag or LEDGER_PERSONAL_DATA_RETENTION, before anything is erased or
// appended.
func TestRetentionRefusesAnOverlongPeriod(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger.db")
	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef", "LEDGER_MASTER_KEY": pii.NewMasterKey()}
	base, stop := serveStoppable(t, dir, env)
	c := call{t: t, base: base}
	key := "acme-key-0123456789abcdef"
	status, body := c.do("POST", "/v1/claims", key, secretHandover("LONG-1"))
	require.Equal(t, http.StatusAccepted, status, body)
	status, body = c.do("POST", "/v1/claims/LONG-1/recalls", key, "")
	require.Equal(t, http.StatusAccepted, status, body)
	stop()
	head := headOf(t, dir)

	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"retention -dry-run, flag 300y", []string{"retention", "-dry-run", "-personal-data-retention", "300y"}, ""},
		{"retention, flag 300y", []string{"retention", "-personal-data-retention", "300y"}, ""},
		{"retention, environment 101y", []string{"retention"}, "101y"},
		{"retention, environment of overflowing hours", []string{"retention"}, "9999999h"},
		{"serve, environment 300y", []string{"serve", "-LEDGER_ADDR", freeAddr(t)}, "300y"},
		{"serve, flag 36501d", []string{"serve", "-LEDGER_ADDR", freeAddr(t), "-LEDGER_PERSONAL_DATA_RETENTION", "36501d"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{"LEDGER_PERSONAL_DATA_RETENTION": tc.env}
			for k, v := range env {
				e[k] = v
			}
			// Bounded, so that a serve that wrongly starts ends and fails the test.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out, errs syncBuffer
			code := run(ctx, append(tc.args, "-LEDGER_STORE", dir), func(k string) string { return e[k] }, &out, &errs)
			assert.Equal(t, 2, code, "%s %s", out.String(), errs.String())
			assert.Contains(t, errs.String(), "LEDGER_PERSONAL_DATA_RETENTION")
			assert.Contains(t, errs.String(), "longer than the longest accepted, 100 years")
			assert.NotContains(t, out.String(), "K-SECRET", "no debtor listed")
			assert.NotContains(t, out.String(), "listening", "nothing is served")
			assert.Equal(t, head, headOf(t, dir), "nothing appended")
		})
	}
	m, err := pii.ParseMasterKey(env["LEDGER_MASTER_KEY"])
	require.NoError(t, err)
	keys, err := pii.OpenFileKeys(dir+".keys", m)
	require.NoError(t, err)
	has, err := keys.Has("acme", "K-SECRET")
	require.NoError(t, err)
	assert.True(t, has, "nothing erased")
}

// TestDataDirectoryIsPrivate: everything the ledger writes in its data
// directory (the embedded store, the views, the key store with its data
// keys, the development master key) is the ledger's user's alone:
// directories 0700, files 0600.
func TestDataDirectoryIsPrivate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	dir := filepath.Join(data, "ledger.db")
	// Development mode first: it makes the master key file beside the key store.
	_, stop := serveStoppable(t, dir, map[string]string{})
	stop()
	devKey := dir + ".keys.development-master-key"
	require.FileExists(t, devKey)
	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef", "LEDGER_MASTER_KEY_FILE": devKey}
	base, stop := serveStoppable(t, dir, env)
	c := call{t: t, base: base}
	status, body := c.do("POST", "/v1/claims", "acme-key-0123456789abcdef", secretHandover("MODE-1"))
	require.Equal(t, http.StatusAccepted, status, body)
	stop()

	var dirs, files int
	require.NoError(t, filepath.Walk(data, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			dirs++
			assert.Equal(t, os.FileMode(0o700), info.Mode().Perm(), "directory %s", path)
		} else {
			files++
			assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "file %s", path)
		}
		return nil
	}))
	assert.GreaterOrEqual(t, dirs, 5, "the data, store, views and key directories, and a debtor's")
	assert.GreaterOrEqual(t, files, 10, "the stores' files, check.key, a data key, the development master key")
}
