#!/bin/bash
# pay.sh BINARY STORE PORT IDS_FILE KEY: start the ledger on STORE, measure
# GET /healthz, then durable payments to the placements in IDS_FILE (ids.py
# writes it), on the same server in the same run; one run each. KEY must be
# a creditor key of the store's placements; the server is given it as
# creditor "load" (LEDGER_API_KEYS) and stopped with SIGTERM at the end.
set -eu
BIN=$1 STORE=$2 PORT=$3 IDS=$4 KEY=$5
HERE=$(dirname "$0")
. "$HERE/serve.sh"
start_ledger "$BIN" "$STORE" "$PORT" "$KEY"
echo "healthz: $(wrk -t2 -c64 -d10s "http://127.0.0.1:$PORT/healthz" | grep Requests/sec)"
echo "payments: $(wrk -t2 -c64 -d20s -s "$HERE/payments.lua" "http://127.0.0.1:$PORT" -- "$IDS" "$KEY" | tail -1)"
