#!/bin/sh
# Starts a ledger on an existing store, waits until /readyz says ready, prints
# the seconds that took and the process's resident memory then, and stops it.
#   docs/bench/ready.sh ./bin/ledger STORE [PORT]
set -eu
bin=$1 store=$2 port=${3:-18080}
start=$(date +%s.%N)
LEDGER_ADDR=127.0.0.1:$port LEDGER_STORE=$store LEDGER_API_KEYS=load=load-key-0123456789abcdef \
  "$bin" serve >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; do
  kill -0 $pid 2>/dev/null || { echo "the ledger exited" >&2; exit 1; }
  sleep 0.01
done
ready=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
awk -v a="$start" -v b="$ready" -v r="$rss" 'BEGIN { printf "ready in %.3f s, resident %d MiB\n", b - a, r / 1024 }'
kill -TERM $pid
wait $pid || true
