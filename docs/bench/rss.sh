#!/bin/bash
# rss.sh BINARY STORE PORT IDS_FILE KEY: start the ledger on STORE, run 20 s of
# durable payments to the placements in IDS_FILE (ids.py writes it) at 64
# connections, then print the payments line, the process's peak resident
# memory (VmHWM) and the Go heap in use (from /metrics), and stop it. KEY must
# be a creditor key of the store's placements (given as creditor "load").
set -eu
BIN=$1 STORE=$2 PORT=$3 IDS=$4 KEY=$5
HERE=$(dirname "$0")
LEDGER_API_KEYS=load=$KEY LEDGER_ADDR=127.0.0.1:$PORT LEDGER_STORE=$STORE "$BIN" serve > /dev/null 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz"; do
  kill -0 $PID 2>/dev/null || { echo "the ledger did not start" >&2; exit 1; }
  sleep 0.05
done
PAY=$(wrk -t2 -c64 -d20s -s "$HERE/payments.lua" "http://127.0.0.1:$PORT" -- "$IDS" "$KEY" | tail -1)
HEAP=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^go_memstats_heap_inuse_bytes/ {printf "%.0f", $2 / 1048576}')
PEAK=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$PID/status")
echo "$PAY  peak resident $PEAK MiB, Go heap in use at the end $HEAP MiB"
