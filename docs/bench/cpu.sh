#!/bin/bash
# cpu.sh BINARY STORE PORT IDS_FILE KEY: start the ledger on STORE and send
# 20 s of durable payments (payments.lua, 64 connections) to the placements
# in IDS_FILE; print payments/s, their 99th percentile and the server's CPU
# time (user and system, from /proc) per payment. Give it a fresh copy of a
# store each run: the payments change it.
set -eu
BIN=$1 STORE=$2 PORT=$3 IDS=$4 KEY=$5
HERE=$(dirname "$0")
. "$HERE/serve.sh"
start_ledger "$BIN" "$STORE" "$PORT" "$KEY"
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
before=$(cpu)
out=$(wrk -t2 -c64 -d20s --latency -s "$HERE/payments.lua" "http://127.0.0.1:$PORT" -- "$IDS" "$KEY")
after=$(cpu)
n=$(echo "$out" | awk '/requests in/ {print $1}')
echo "$out" | awk -v n="$n" -v ticks="$((after - before))" -v hz="$(getconf CLK_TCK)" '
  /Requests\/sec/ {rps = $2} $1 == "99%" {p99 = $2}
  END {printf "payments/s %s  p99 %s  server CPU %.0f µs a payment\n", rps, p99, ticks * 1e6 / hz / n}'
