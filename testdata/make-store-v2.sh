#!/bin/bash
# Writes testdata/store-v2 (a store in log format 2 whose events carry metadata
# schema 1) and testdata/store-v2.golden (what the ledger answered for it), with
# the ledger binary given as $1. See testdata/store-v2.md.
set -euo pipefail
BIN=$(realpath "$1")
cd "$(dirname "$0")"
rm -rf store-v2 store-v2.golden && mkdir store-v2.golden
PORT=18765
B=http://127.0.0.1:$PORT
KEY=acme-key-0123456789abcdef
AK=agency-key-0123456789abcdef
LEDGER_API_KEYS=acme=$KEY LEDGER_AGENCY_KEY=$AK LEDGER_ADDR=127.0.0.1:$PORT LEDGER_STORE=store-v2 \
  LEDGER_VIEWS=$(mktemp -d)/views "$BIN" serve > /dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf -o /dev/null $B/readyz; do sleep 0.05; done
H="Authorization: Bearer $KEY"
A="Authorization: Bearer $AK"
J='Content-Type: application/json'
pid() { grep -o '"placementId":"[^"]*"' | head -1 | cut -d'"' -f4; }
ID=$(curl -sf $B/v1/placements -H "$H" -H "$J" -d '{
  "claimNumber": "DE-S242243704005", "customerNumber": "K508647", "currency": "EUR", "feeRate": "0.20",
  "invoices": [
    {"invoiceNumber": "I0417211448", "contractNumber": "166271782837", "amount": 100, "dueDate": "2024-05-01"},
    {"invoiceNumber": "I0417211449", "contractNumber": "166271782837", "amount": 300, "dueDate": "2024-06-01"}]}' | pid)
curl -sf $B/v1/claims/DE-S242243704005/recalls -H "$H" -H "$J" -d '{
  "invoiceNumber": "I0417211448", "contractNumber": "166271782837", "type": "CREDIT_WAIVER", "creditWaiverNumber": "CW-1",
  "date": "2023-06-23", "description": "Goodwill", "amount": 100, "currency": "EUR"}' > /dev/null
curl -sf $B/v1/placements/$ID/payment-received -H "$H" -H "$J" -H 'Idempotency-Key: pay-1' \
  -d '{"amount": "120.50", "paymentNumber": "PAY-1"}' > /dev/null
curl -sf -X POST $B/v1/placements/$ID/recall -H "$H" > /dev/null
curl -s -X POST $B/v1/placements/$ID/recall -H "$H" > /dev/null # 409: a REJECTION
ID2=$(curl -sf $B/v1/placements -H "$H" -H "$J" -d '{
  "claimNumber": "DE-S242243704006", "customerNumber": "K508648", "currency": "EUR", "feeRate": "0.20",
  "invoices": [{"invoiceNumber": "I0417211450", "contractNumber": "166271782838", "amount": 250, "dueDate": "2024-07-01"}]}' | pid)
curl -sf $B/v1/placements/$ID2/pause -H "$H" -H "$J" -d '{"reason": "DISPUTE", "resumeAt": "2030-01-01T00:00:00Z"}' > /dev/null
curl -sf -X POST $B/v1/placements/$ID2/resume -H "$H" > /dev/null
ID3=$(curl -sf $B/v1/placements -H "$H" -H "$J" -d '{
  "claimNumber": "DE-3", "customerNumber": "K508649", "currency": "EUR", "feeRate": "0.15",
  "invoices": [{"invoiceNumber": "I0417211451", "contractNumber": "166271782839", "amount": "80.00", "dueDate": "2024-08-01"}]}' | pid)
curl -sf $B/v1/placements/$ID3/email-sequences -H "$A" -H "$J" -d '{"nextSendAt": "2030-01-01T09:00:00Z"}' > /dev/null
CALL=$(curl -sf $B/v1/placements/$ID3/calls -H "$A" -H "$J" -d '{"scheduledAt": "2030-01-02T09:00:00Z"}' | grep -o '"callId":"[^"]*"' | cut -d'"' -f4)
curl -sf -X POST $B/v1/placements/$ID3/calls/$CALL/dial -H "$A" > /dev/null
curl -sf $B/v1/placements/$ID3/calls/$CALL/complete -H "$A" -H "$J" -d '{"outcome": "PROMISE_TO_PAY"}' > /dev/null
curl -sf $B/v1/placements/$ID3/pause -H "$H" -H "$J" -d '{"reason": "CREDITOR_REQUEST"}' > /dev/null
curl -sf -X POST $B/v1/placements/$ID3/resume -H "$H" > /dev/null
curl -sf $B/v1/placements/$ID3/payment-received -H "$H" -H "$J" -d '{"amount": "80", "paymentNumber": "PAY-3"}' > /dev/null
curl -sf $B/v1/placements/bulk/recall -H "$H" -H "$J" -H 'Idempotency-Key: bulk-1' -d "{\"placementIds\": [\"$ID\", \"$ID2\"]}" > /dev/null
curl -sf -X PUT $B/v1/webhook -H "$H" -H "$J" -d '{"url": "https://hooks.example.com/ledger", "secret": "whsec_0123456789abcdef"}' > /dev/null
curl -sf -X DELETE $B/v1/webhook -H "$H"
HEAD=$(curl -sf $B/readyz | grep -o '"position":[0-9]*' | cut -d: -f2)
g() { curl -sf "$B$1?minPosition=$HEAD$2" -H "$H" > "store-v2.golden/$3.json"; }
for i in 1 2 3; do
  v=ID; [ $i = 1 ] || v=ID$i
  g /v1/placements/${!v} "" placement-$i
  g /v1/placements/${!v}/audit "" audit-$i
done
g /v1/claims/DE-S242243704005/transactions "" transactions-1
g /v1/claims/DE-3/transactions "" transactions-3
g /v1/transactions "&limit=100" transactions
g /v1/placements "&limit=100" placements
g /v1/reports/reconciliation "&from=2020-01-01" reconciliation
kill -TERM $PID
wait $PID || true
trap - EXIT
echo "store-v2: log up to position $HEAD; golden answers in store-v2.golden/"
