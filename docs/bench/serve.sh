# Sourced by pay.sh and rss.sh: start_ledger BINARY STORE PORT KEY starts the
# ledger on STORE with KEY as creditor "load", sets PID, stops it with
# SIGTERM when the script exits, and returns once /readyz answers.
start_ledger() {
  LEDGER_API_KEYS=load=$4 LEDGER_ADDR=127.0.0.1:$3 LEDGER_STORE=$2 "$1" serve > /dev/null 2>&1 &
  PID=$!
  trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
  until curl -sf -o /dev/null "http://127.0.0.1:$3/readyz"; do
    kill -0 $PID 2>/dev/null || { echo "the ledger did not start" >&2; exit 1; }
    sleep 0.05
  done
}
