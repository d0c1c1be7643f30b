#!/bin/bash
# rss.sh BINARY STORE PORT IDS_FILE KEY: start the ledger on STORE, run 20 s of
# durable payments to the placements in IDS_FILE (ids.py writes it) at 64
# connections, then print the payments line, the process's peak resident
# memory (VmHWM) and the Go heap in use (from /metrics), and stop it. KEY must
# be a creditor key of the store's placements (given as creditor "load").
set -eu
BIN=$1 STORE=$2 PORT=$3 IDS=$4 KEY=$5
HERE=$(dirname "$0")
. "$HERE/serve.sh"
start_ledger "$BIN" "$STORE" "$PORT" "$KEY"
PAY=$(wrk -t2 -c64 -d20s -s "$HERE/payments.lua" "http://127.0.0.1:$PORT" -- "$IDS" "$KEY" | tail -1)
HEAP=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^go_memstats_heap_inuse_bytes/ {printf "%.0f", $2 / 1048576}')
PEAK=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$PID/status")
echo "$PAY  peak resident $PEAK MiB, Go heap in use at the end $HEAP MiB"
