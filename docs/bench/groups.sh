#!/bin/bash
# groups.sh BINARY STORE PORT IDS_FILE KEY CONNS: start the ledger on STORE,
# send 15 s of durable payments at CONNS connections (payments.lua), and
# print payments/s and how many payments each of the embedded store's group
# commits (one write and one fsync) held, from its metric
# ledger_store_sync_duration_seconds_count. Give it a fresh copy of a store
# each run: the payments change it.
set -eu
BIN=$1 STORE=$2 PORT=$3 IDS=$4 KEY=$5 CONNS=$6
HERE=$(dirname "$0")
. "$HERE/serve.sh"
start_ledger "$BIN" "$STORE" "$PORT" "$KEY"
syncs() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^ledger_store_sync_duration_seconds_count/ {print $2}'; }
before=$(syncs)
out=$(wrk -t2 -c"$CONNS" -d15s -s "$HERE/payments.lua" "http://127.0.0.1:$PORT" -- "$IDS" "$KEY")
after=$(syncs)
n=$(echo "$out" | awk '/requests in/ {print $1}')
echo "$out" | awk -v n="$n" -v s="$((after - before))" -v c="$CONNS" '
  /Requests\/sec/ {rps = $2}
  END {printf "connections %s  payments/s %s  group commits %d  payments a group commit %.1f\n", c, rps, s, n / s}'
