#!/bin/bash
# steady.sh BINARY STORE PORT IDS_FILE KEY [WINDOWS]: start the ledger on
# STORE, run WINDOWS (default 3) back-to-back windows of 20 s of durable
# payments to the placements in IDS_FILE at 64 connections, and print for
# each the payments line and the server's CPU time per payment (user +
# system, from /proc), then the process's peak resident memory. The first
# window runs on the caches and compaction debt the start left; the later
# ones show what the ledger costs once its Pebble compactions keep pace with
# the payments, which on a large store is more. KEY must be a creditor key
# of the store's placements (given as creditor "load").
set -eu
BIN=$1 STORE=$2 PORT=$3 IDS=$4 KEY=$5 WINDOWS=${6:-3}
HERE=$(dirname "$0")
. "$HERE/serve.sh"
start_ledger "$BIN" "$STORE" "$PORT" "$KEY"
TICKS=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
for i in $(seq "$WINDOWS"); do
  BEFORE=$(cpu)
  PAY=$(wrk -t2 -c64 -d20s -s "$HERE/payments.lua" "http://127.0.0.1:$PORT" -- "$IDS" "$KEY" | tail -1)
  AFTER=$(cpu)
  RATE=$(echo "$PAY" | awk '{print $2}')
  echo "window $i: $PAY  CPU per payment $(awk -v t=$((AFTER - BEFORE)) -v hz="$TICKS" -v r="$RATE" 'BEGIN {printf "%.0f", t / hz / (r * 20) * 1e6}') us"
done
echo "peak resident $(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$PID/status") MiB"
