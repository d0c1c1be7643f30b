package postgres

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolOf exposes a store's connection pool to the fault tests, which hold its
// connections to exhaust it.
func PoolOf(s *Store) *pgxpool.Pool { return s.pool }

// LockKeyOf exposes the key of a store's position lock, for the tests that
// call the append function directly.
func LockKeyOf(s *Store) int64 { return s.lockKey }

// SetNotifyEvery sets the shortest time between two NOTIFYs of the stores
// opened until the returned function restores it.
func SetNotifyEvery(d time.Duration) (restore func()) {
	old := notifyEvery
	notifyEvery = d
	return func() { notifyEvery = old }
}

// ChannelOf exposes the channel a store's NOTIFYs are sent on.
func ChannelOf(s *Store) string { return s.channel }
