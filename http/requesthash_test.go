package http_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// storedRequestHashes returns the requestHash of every event of a placement
// recorded under an Idempotency-Key.
func (l *ledger) storedRequestHashes(placement, key string) []string {
	l.t.Helper()
	var out []string
	err := journal.ReadStream(context.Background(), l.store, journal.PlacementStream(uuid.MustParse(placement)), 0, func(rec eventstore.RecordedEvent) error {
		m, err := journal.DecodeMetadata(rec.Metadata)
		require.NoError(l.t, err)
		if m.IdempotencyKey == key {
			out = append(out, m.RequestHash)
		}
		return nil
	})
	require.NoError(l.t, err)
	require.NotEmpty(l.t, out, "no event was recorded under %s", key)
	return out
}

// candidateHashes are the SHA-256 hashes someone holding only the log would
// try: of the raw body as sent and of its canonical JSON (the earlier and
// the present forms), for every date of birth of a month.
func candidateHashes(t *testing.T, method, path string, body map[string]any, holder func(map[string]any) map[string]any, month string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for day := 1; day <= 31; day++ {
		date := fmt.Sprintf("%s-%02d", month, day)
		holder(body)["dateOfBirth"] = date
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		for _, form := range []string{method + "\n" + path + "\n" + string(raw), "r2\n" + method + "\n" + path + "\n" + string(raw)} {
			sum := sha256.Sum256([]byte(form))
			out[hex.EncodeToString(sum[:])] = date
		}
	}
	return out
}

// storedHashPart is what a part of a stored request hash may be: its
// version, a SHA-256 digest in hex, or an id.
var storedHashPart = regexp.MustCompile(`^(r2|[0-9a-f]{64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)

func TestRequestHashDoesNotConfirmPersonalData(t *testing.T) {
	l := MustLedger(t, "")
	body := handover("RH-1") // dateOfBirth 1964-08-12
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	first := l.do("POST", "/v1/claims", acmeKey, raw, "Idempotency-Key", "rh-1")
	require.Equal(t, http.StatusAccepted, first.Status, "%s", first.Body)
	placement := first.JSON(t)["placementId"].(string)
	customer := func(b map[string]any) map[string]any { return b["customer"].(map[string]any) }

	tried := candidateHashes(t, "POST", "/v1/claims", handover("RH-1"), customer, "1964-08")
	for _, stored := range l.storedRequestHashes(placement, "rh-1") {
		for _, part := range strings.Split(stored, ".") {
			// Nothing in clear: a version, digests and ids only (a digest
			// may contain the digits 1964 by chance, one run in a few
			// hundred, so the year is not looked for as a substring).
			assert.Regexp(t, storedHashPart, part)
			date, confirmed := tried[part]
			assert.False(t, confirmed, "the stored hash confirms the date of birth %s", date)
		}
	}

	// The same key with another date of birth is another request: refused, nothing appended.
	head := l.head()
	other := handover("RH-1")
	customer(other)["dateOfBirth"] = "1964-08-13"
	reused := l.do("POST", "/v1/claims", acmeKey, other, "Idempotency-Key", "rh-1")
	require.Equal(t, http.StatusUnprocessableEntity, reused.Status, "%s", reused.Body)
	assert.Equal(t, "idempotency_key_reused", reused.JSON(t)["code"])
	assert.Equal(t, head, l.head(), "a refusal appends nothing")

	// A contact change with a key: its hash does not confirm the date either.
	contact := map[string]any{"lastName": "Zwetschgenmann", "dateOfBirth": "1964-08-12"}
	changed := l.do("PUT", "/v1/claims/RH-1/customer", acmeKey, contact, "Idempotency-Key", "rh-contact")
	require.Equal(t, http.StatusAccepted, changed.Status, "%s", changed.Body)
	itself := func(b map[string]any) map[string]any { return b }
	tried = candidateHashes(t, "PUT", "/v1/claims/RH-1/customer", map[string]any{"lastName": "Zwetschgenmann"}, itself, "1964-08")
	for _, stored := range l.storedRequestHashes(placement, "rh-contact") {
		for _, part := range strings.Split(stored, ".") {
			date, confirmed := tried[part]
			assert.False(t, confirmed, "the contact change's hash confirms the date of birth %s", date)
		}
	}

	// After a restart, the same requests (re-serialised) are replays of the first; another is refused.
	dir := l.dir
	l.stop()
	l = MustLedger(t, dir)
	head = l.head()
	again := l.do("POST", "/v1/claims", acmeKey, "\n"+string(mustIndent(t, raw)), "Idempotency-Key", "rh-1")
	require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.JSONEq(t, string(first.Body), string(again.Body), "the first answer")
	assert.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
	contactAgain := l.do("PUT", "/v1/claims/RH-1/customer", acmeKey, `{"dateOfBirth":"1964-08-12","lastName":"Zwetschgenmann"}`, "Idempotency-Key", "rh-contact")
	require.Equal(t, http.StatusAccepted, contactAgain.Status, "%s", contactAgain.Body)
	assert.JSONEq(t, string(changed.Body), string(contactAgain.Body))
	otherContact := l.do("PUT", "/v1/claims/RH-1/customer", acmeKey, `{"dateOfBirth":"1964-08-13","lastName":"Zwetschgenmann"}`, "Idempotency-Key", "rh-contact")
	require.Equal(t, http.StatusUnprocessableEntity, otherContact.Status, "%s", otherContact.Body)
	assert.Equal(t, head, l.head(), "repeats and refusals append nothing")

	// Once the debtor is erased, the personal part cannot be compared: a repeat is answered by the rest.
	require.Equal(t, http.StatusOK, l.do("DELETE", "/v1/debtors/K77/personal-data", acmeKey, nil).Status)
	head = l.head()
	erased := l.do("POST", "/v1/claims", acmeKey, raw, "Idempotency-Key", "rh-1")
	require.Equal(t, http.StatusAccepted, erased.Status, "%s", erased.Body)
	assert.JSONEq(t, string(first.Body), string(erased.Body))
	otherClaim := handover("RH-2")
	notTheSame := l.do("POST", "/v1/claims", acmeKey, otherClaim, "Idempotency-Key", "rh-1")
	require.Equal(t, http.StatusUnprocessableEntity, notTheSame.Status, "the non-personal part still counts: %s", notTheSame.Body)
	assert.Equal(t, head, l.head())
}

func mustIndent(t *testing.T, raw []byte) []byte {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(raw, &v))
	out, err := json.MarshalIndent(v, "", "    ")
	require.NoError(t, err)
	return out
}

func TestIdempotentReplaysCompareMeaning(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-MEANING-1")
	path := "/v1/placements/" + id + "/payment-received"
	first := l.do("POST", path, acmeKey, `{"amount": 10, "paymentNumber": "P-1"}`, "Idempotency-Key", "m-1")
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	for _, tc := range []struct {
		name, body string
		replayed   bool
	}{
		{"the same bytes", `{"amount": 10, "paymentNumber": "P-1"}`, true},
		{"other spacing", "{\n\t\"amount\":10,\"paymentNumber\" : \"P-1\"\n}\n", true},
		{"other key order", `{"paymentNumber":"P-1","amount":10}`, true},
		{"a string escaped otherwise", `{"paymentNumber":"P\u002d1","amount":10}`, true},
		{"a number written otherwise is another request", `{"amount": 10.0, "paymentNumber": "P-1"}`, false},
		{"a number as a string is another request", `{"amount": "10", "paymentNumber": "P-1"}`, false},
		{"another value", `{"amount": 11, "paymentNumber": "P-1"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := l.do("POST", path, acmeKey, tc.body, "Idempotency-Key", "m-1")
			assert.Equal(t, head, l.head(), "nothing appended")
			if !tc.replayed {
				require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
				assert.Equal(t, "idempotency_key_reused", r.JSON(t)["code"])
				return
			}
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			assert.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
			assert.JSONEq(t, string(first.Body), string(r.Body))
			for _, h := range []string{"Payment-Number", "ETag", "Ledger-Position"} {
				assert.Equal(t, first.Header.Get(h), r.Header.Get(h), h)
			}
		})
	}
}

func TestReplaysGiveTheFirstAnswersHeaders(t *testing.T) {
	l := MustLedger(t, "")
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, handover("HD-1")).Status)

	// A payment the ledger numbers: the repeat names the same number, in the header and the body.
	pay := `{"invoiceNumber": "INV-2", "amount": "20.00", "currency": "EUR"}`
	first := l.do("POST", "/v1/claims/HD-1/payments", acmeKey, pay, "Idempotency-Key", "hd-pay")
	require.Equal(t, http.StatusAccepted, first.Status, "%s", first.Body)
	require.NotEmpty(t, first.Header.Get("Payment-Number"))
	head := l.head()
	again := l.do("POST", "/v1/claims/HD-1/payments", acmeKey, pay, "Idempotency-Key", "hd-pay")
	require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
	assert.Equal(t, first.Header.Get("Payment-Number"), again.Header.Get("Payment-Number"))
	assert.JSONEq(t, string(first.Body), string(again.Body))
	assert.Equal(t, head, l.head())

	// A bulk call's repeat says it is one.
	a, b := l.MustPlace("DE-BULK-R1"), l.MustPlace("DE-BULK-R2")
	body := map[string]any{"placementIds": []string{a, b}}
	bulk := l.do("POST", "/v1/placements/bulk/recall", acmeKey, body, "Idempotency-Key", "bulk-r")
	require.Equal(t, http.StatusOK, bulk.Status, "%s", bulk.Body)
	assert.Empty(t, bulk.Header.Get("Idempotent-Replayed"), "the first call is no repeat")
	head = l.head()
	bulkAgain := l.do("POST", "/v1/placements/bulk/recall", acmeKey, fmt.Sprintf(`{ "placementIds" : [ %q, %q ] }`, a, b), "Idempotency-Key", "bulk-r")
	require.Equal(t, http.StatusOK, bulkAgain.Status, "%s", bulkAgain.Body)
	assert.Equal(t, "true", bulkAgain.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, bulk.Header.Get("Ledger-Position"), bulkAgain.Header.Get("Ledger-Position"))
	assert.JSONEq(t, string(bulk.Body), string(bulkAgain.Body))
	assert.Equal(t, head, l.head())
}

// A key recorded before requests were hashed by their meaning keeps its
// hash (SHA-256 of method, path and raw body): its repeat is compared so.
func TestReplayOfAKeyRecordedWithTheEarlierHash(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-OLD-HASH")
	path := "/v1/placements/" + id + "/payment-received"
	body := `{"amount": 10}`
	sum := sha256.Sum256([]byte("POST\n" + path + "\n" + body))
	old := command.NewHandler(l.store, projections.NewWriteIndex(l.views), nil)
	res, err := old.Execute(context.Background(), uuid.MustParse(id), command.Request{Actor: "acme", ActorType: journal.ActorCreditor,
		RequestID: "old-request", IdempotencyKey: "old-1", RequestHash: hex.EncodeToString(sum[:]), Creditor: "acme"},
		func(at time.Time) domain.Command {
			return domain.ReceivePayment{PaymentNumber: "OLD-1", Amount: mustAmount(t, "10"), At: at}
		})
	require.NoError(t, err)
	l.get("/v1/placements/"+id, acmeKey, res.Position) // the views have indexed the key

	head := l.head()
	again := l.do("POST", path, acmeKey, body, "Idempotency-Key", "old-1")
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, "OLD-1", again.Header.Get("Payment-Number"))
	other := l.do("POST", path, acmeKey, `{"amount": 11}`, "Idempotency-Key", "old-1")
	require.Equal(t, http.StatusUnprocessableEntity, other.Status, "%s", other.Body)
	assert.Equal(t, head, l.head())
}

func mustAmount(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	a, err := domain.ParseAmount(json.RawMessage(s), "", "amount")
	require.NoError(t, err)
	return a
}
