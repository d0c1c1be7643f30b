package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/eventstore/kurrent"
	"github.com/collections-ledger/ledger/eventstore/postgres"
)

// openStore opens the engine that location names: a PostgreSQL URL
// (postgres://, postgresql://), a KurrentDB connection string (esdb://,
// kurrentdb://, …) or else a directory for the embedded store, created if
// missing.
// cacheMiB is the embedded store's memory, block cache and memtables
// (LEDGER_STORE_CACHE_MB; 0 takes the engine's default).
func openStore(location string, cacheMiB int, logger *slog.Logger) (eventstore.Store, string, error) {
	return openStoreObserved(location, cacheMiB, logger, nil)
}

// openStoreObserved is openStore that tells observe how long each of the
// embedded store's group commits took.
func openStoreObserved(location string, cacheMiB int, logger *slog.Logger, observe func(time.Duration)) (eventstore.Store, string, error) {
	if postgres.IsConnectionString(location) {
		ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
		defer cancel()
		s, err := postgres.Open(ctx, location, postgres.Options{Logger: logger})
		return s, "postgres", err
	}
	if kurrent.IsConnectionString(location) {
		s, err := kurrent.Open(location, logger)
		return s, "kurrentdb", err
	}
	// The data directory holds the store, the views and the key store:
	// only the ledger's user enters it.
	if err := os.MkdirAll(filepath.Dir(location), 0o700); err != nil {
		return nil, "", fmt.Errorf("create the store's parent directory: %w", err)
	}
	s, err := embedded.Open(location, embedded.Options{Logger: logger, CacheBytes: int64(cacheMiB) << 20, ObserveSync: observe})
	return s, "embedded", err
}

// openTimeout bounds connecting to a PostgreSQL server and creating its
// tables at start-up.
const openTimeout = 30 * time.Second

// isSharedStore reports whether location names a store on a server (PostgreSQL
// or KurrentDB) that several instances may share, rather than a directory:
// then the views and the key store are not kept beside it.
func isSharedStore(location string) bool {
	return postgres.IsConnectionString(location) || kurrent.IsConnectionString(location)
}

// parseCacheMiB reads LEDGER_STORE_CACHE_MB: empty for the default, else a
// whole number of MiB from 8 to 65536.
func parseCacheMiB(raw string) (int, error) {
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 8 || n > 65536 {
		return 0, fmt.Errorf("LEDGER_STORE_CACHE_MB must be a whole number of MiB from 8 to 65536, not %q", raw)
	}
	return n, nil
}
