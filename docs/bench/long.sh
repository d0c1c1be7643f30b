#!/bin/bash
# long.sh BINARY STORE PORT IDS_FILE KEY SECONDS: start the ledger on STORE
# (with its profiling endpoints on PORT+1000), send SECONDS of durable
# payments (payments.lua, 64 connections) to the placements in IDS_FILE, and
# print payments/s, their 99th percentile, the server's CPU time per payment,
# its peak resident memory (VmHWM) and Go's live heap at the end (a heap
# profile after a collection; needs go on PATH). Give it a fresh copy of a
# store each run: the payments change it.
set -eu
BIN=$1 STORE=$2 PORT=$3 IDS=$4 KEY=$5 SECS=$6
HERE=$(dirname "$0")
. "$HERE/serve.sh"
export LEDGER_DEBUG_ADDR=127.0.0.1:$((PORT + 1000))
start_ledger "$BIN" "$STORE" "$PORT" "$KEY"
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
before=$(cpu)
out=$(wrk -t2 -c64 -d"${SECS}s" --latency -s "$HERE/payments.lua" "http://127.0.0.1:$PORT" -- "$IDS" "$KEY")
after=$(cpu)
peak=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$PID/status")
heap=$(mktemp)
curl -s -o "$heap" "http://$LEDGER_DEBUG_ADDR/debug/pprof/heap?gc=1"
live=$(go tool pprof -sample_index=inuse_space -top -nodecount=1 "$BIN" "$heap" 2>/dev/null | awk '/% of/ {print $(NF-1)}')
rm -f "$heap"
n=$(echo "$out" | awk '/requests in/ {print $1}')
echo "$out" | awk -v n="$n" -v ticks="$((after - before))" -v hz="$(getconf CLK_TCK)" -v peak="$peak" -v live="$live" '
  /Requests\/sec/ {rps = $2} $1 == "99%" {p99 = $2}
  END {printf "payments/s %s  p99 %s  server CPU %.0f µs a payment  peak resident %s MiB  live heap %s\n", rps, p99, ticks * 1e6 / hz / n, peak, live}'
