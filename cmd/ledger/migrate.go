package main

import (
	"context"
	"fmt"
	"io"

	"github.com/collections-ledger/ledger/migrate"
)

// migrateCmd moves a stopped ledger's store to the log format this ledger
// writes (ledger serve refuses an older one and names this command).
func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	store, code, ok := openForCLI("migrate", args, getenv, stderr, nil)
	if !ok {
		return code
	}
	defer store.Close()
	rep, err := migrate.Run(ctx, store)
	if err != nil {
		fmt.Fprintln(stderr, "ledger migrate:", err)
		return 1
	}
	if rep.From == rep.To {
		fmt.Fprintf(stdout, "the store is in log format %d already: nothing to do\n", rep.To)
		return 0
	}
	fmt.Fprintf(stdout, "migrated from log format %d to %d: %d claim number reservations and %d webhook configurations under their new stream names",
		rep.From, rep.To, rep.Claims, rep.Webhooks)
	if rep.Checkpoint > 0 {
		fmt.Fprintf(stdout, ", webhook deliveries checkpointed at position %d", rep.Checkpoint)
	}
	fmt.Fprintln(stdout, "; the old streams stay in the history")
	return 0
}
