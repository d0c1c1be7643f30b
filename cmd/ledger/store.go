package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/eventstore/kurrent"
)

// openStore opens the engine that location names: a KurrentDB connection
// string (esdb://, kurrentdb://, …) or else a directory for the embedded store,
// created if missing.
func openStore(location string, logger *slog.Logger) (eventstore.Store, string, error) {
	if kurrent.IsConnectionString(location) {
		s, err := kurrent.Open(location, logger)
		return s, "kurrentdb", err
	}
	if err := os.MkdirAll(filepath.Dir(location), 0o755); err != nil {
		return nil, "", fmt.Errorf("create the store's parent directory: %w", err)
	}
	s, err := embedded.Open(location, embedded.Options{Logger: logger})
	return s, "embedded", err
}
