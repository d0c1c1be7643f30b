package postgres

import "strings"

// IsConnectionString reports whether s names a PostgreSQL database as a URL
// (postgres:// or postgresql://), which is how the ledger's store setting
// tells this engine from a directory or a KurrentDB server.
func IsConnectionString(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}
