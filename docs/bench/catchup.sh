#!/bin/bash
# catchup.sh: what the views cost to follow payments, without HTTP, commands
# or log writes: a binary's views catch up over a log of payments.
#
#   catchup.sh prepare BINARY OPENINGS PAYMENTS TAG PORT
#     OPENINGS is a store of placements and no payments, PAYMENTS the same
#     store after payments (its log only: make it with
#     cp -r OPENINGS PAYMENTS; docs/bench/cpu.sh BINARY PAYMENTS ...; rm -rf PAYMENTS.views).
#     BINARY builds its views over OPENINGS; PAYMENTS.TAG is then
#     PAYMENTS' log with those views.
#   catchup.sh run BINARY PAYMENTS TAG PORT
#     starts BINARY on a copy of PAYMENTS.TAG, which catches its views up
#     over the payments, and stops it 3 s after /readyz answers. For
#     farm-bench to time whole, each binary with its own TAG:
#     farm-bench -n 8 --warmup 1 --vs 'docs/bench/catchup.sh run OLD PAYMENTS b 18116' -- docs/bench/catchup.sh run NEW PAYMENTS a 18115
set -eu
MODE=$1 BIN=$2
HERE=$(dirname "$0")
. "$HERE/serve.sh"
KEY=load-key-0123456789abcdef
case $MODE in
prepare)
  OPENINGS=$3 PAYMENTS=$4 TAG=$5 PORT=$6
  rm -rf "$PAYMENTS.$TAG" "$PAYMENTS.$TAG".*
  cp -r "$OPENINGS" "$PAYMENTS.$TAG"
  rm -rf "$PAYMENTS.$TAG.views"
  (start_ledger "$BIN" "$PAYMENTS.$TAG" "$PORT" "$KEY")
  rm -rf "$PAYMENTS.$TAG"
  cp -r "$PAYMENTS" "$PAYMENTS.$TAG"
  ;;
run)
  PAYMENTS=$3 TAG=$4 PORT=$5
  rm -rf "$PAYMENTS.$TAG.run" "$PAYMENTS.$TAG.run".*
  cp -r "$PAYMENTS.$TAG" "$PAYMENTS.$TAG.run"
  cp -r "$PAYMENTS.$TAG.views" "$PAYMENTS.$TAG.run.views"
  start_ledger "$BIN" "$PAYMENTS.$TAG.run" "$PORT" "$KEY"
  sleep 3
  ;;
*)
  echo "usage: catchup.sh prepare BINARY OPENINGS PAYMENTS TAG PORT | run BINARY PAYMENTS TAG PORT" >&2
  exit 2
  ;;
esac
