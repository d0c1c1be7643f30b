package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/collections-ledger/ledger/eventstore/postgres"
)

func TestIsConnectionString(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want bool
	}{
		"OKPostgres":         {"postgres://ledger@db:5432/ledger?sslmode=disable", true},
		"OKPostgresql":       {"postgresql://db/ledger", true},
		"OKUpperCaseScheme":  {"POSTGRES://db/ledger", true},
		"ErrDirectory":       {"./data/ledger.db", false},
		"ErrKurrentDB":       {"esdb://localhost:2113?tls=false", false},
		"ErrKeyValueString":  {"host=db dbname=ledger", false},
		"ErrPostgresInAPath": {"./postgres://x", false},
		"ErrEmpty":           {"", false},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, postgres.IsConnectionString(tc.in))
		})
	}
}
