package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// PoolOf exposes a store's connection pool to the fault tests, which hold its
// connections to exhaust it.
func PoolOf(s *Store) *pgxpool.Pool { return s.pool }
