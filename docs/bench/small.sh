#!/bin/sh
# Gives creditor "small" two placements with a payment each, on a running
# ledger, for timing its reads beside a large creditor.
#   docs/bench/small.sh http://127.0.0.1:8080 SMALL_KEY
set -eu
base=$1 key=$2
for n in 1 2; do
  id=$(curl -sf "$base/v1/placements" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{
    "customerNumber": "S'$n'", "currency": "EUR", "feeRate": "0.20",
    "invoices": [{"invoiceNumber": "I1", "contractNumber": "C1", "amount": "100.00", "dueDate": "2024-05-01"}]}' |
    grep -o '"placementId":"[^"]*"' | cut -d'"' -f4)
  curl -sf -o /dev/null "$base/v1/placements/$id/payment-received" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -d '{"amount": "10.00"}'
done
