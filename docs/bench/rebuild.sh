#!/bin/bash
# rebuild.sh BINARY STORE TAG: copy STORE to STORE.TAG (its views left out)
# and run BINARY rebuild -all on the copy, for farm-bench to time whole:
#   farm-bench -n 3 --warmup 1 --vs 'docs/bench/rebuild.sh OLD STORE b' -- docs/bench/rebuild.sh NEW STORE a
set -eu
BIN=$1 STORE=$2 TAG=$3
rm -rf "$STORE.$TAG" "$STORE.$TAG".*
cp -r "$STORE" "$STORE.$TAG"
"$BIN" rebuild -all -store "$STORE.$TAG" > /dev/null 2>&1
