package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// PoolOf exposes a store's connection pool to the fault tests, which hold its
// connections to exhaust it.
func PoolOf(s *Store) *pgxpool.Pool { return s.pool }

// LockKeyOf exposes the key of a store's position lock, for the tests that
// call the append function directly.
func LockKeyOf(s *Store) int64 { return s.lockKey }
