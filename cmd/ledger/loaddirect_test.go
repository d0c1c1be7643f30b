package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
)

func headOf(t *testing.T, dir string) uint64 {
	t.Helper()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	head, err := s.Head(context.Background())
	require.NoError(t, err)
	return uint64(head)
}

// A direct load appends valid, hash-chained commands that verify passes,
// grows the store by at least the events asked for, and refuses bad flags
// without touching the store.
func TestLoadDirectBuildsAVerifiableStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	env := func(string) string { return "" }
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"load", "-direct", "-LEDGER_STORE", dir, "-creditor", "bulk",
		"-placements", "30", "-events", "400", "-workers", "8", "-seed", "7"}, env, &out, &errOut)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "placements in")
	head := headOf(t, dir)
	assert.GreaterOrEqual(t, head, uint64(400))
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	format, _, err := journal.StoreFormat(context.Background(), s)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.Equal(t, journal.Format, format, "serve accepts the store")

	out.Reset()
	errOut.Reset()
	code = run(context.Background(), []string{"verify", "-LEDGER_STORE", dir}, env, &out, &errOut)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "30 placements")

	for _, bad := range [][]string{
		{"-placements", "0"},
		{"-events", "0"},
		{"-workers", "0"},
		{"-creditor", "not a creditor!"},
		{"-placements", "many"},
	} {
		out.Reset()
		errOut.Reset()
		args := append([]string{"load", "-direct", "-LEDGER_STORE", dir}, bad...)
		assert.Equal(t, 2, run(context.Background(), args, env, &out, &errOut), "%v", bad)
		assert.NotEmpty(t, errOut.String(), "%v says why", bad)
		assert.Equal(t, head, headOf(t, dir), "%v appended nothing", bad)
	}
}
