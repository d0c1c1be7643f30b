package main

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/internal/gcbudget"
)

// TestCommandLineConventions: settings as lower-case flags, with their
// environment variable as the default and the older spelling still taken;
// help for every command; a version that names the build; exit statuses.
func TestCommandLineConventions(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ledger.db")
	runWith := func(env map[string]string, args ...string) (int, string, string) {
		var out, errs syncBuffer
		code := run(ctx, args, func(k string) string { return env[k] }, &out, &errs)
		return code, out.String(), errs.String()
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"-store":                {nil, []string{"verify", "-store", dir}},
		"LEDGER_STORE":          {map[string]string{"LEDGER_STORE": dir}, []string{"verify"}},
		"-LEDGER_STORE (older)": {nil, []string{"verify", "-LEDGER_STORE", dir}},
		"the flag over the env": {map[string]string{"LEDGER_STORE": filepath.Join(t.TempDir(), "other")}, []string{"verify", "-store", dir}},
	} {
		code, out, errs := runWith(tc.env, tc.args...)
		require.Equal(t, 0, code, "%s: %s %s", name, out, errs)
		assert.Contains(t, out, "all hash chains, invariants and projections hold", name)
	}
	code, _, _ := runWith(nil, "verify", "-store", dir, "-no-such-flag")
	assert.Equal(t, 2, code, "a bad flag")
	code, _, errs := runWith(nil, "no-such-command")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, `unknown command "no-such-command"`)

	code, out, _ := runWith(nil, "help")
	require.Equal(t, 0, code)
	for _, c := range commands {
		assert.Contains(t, out, "  "+c.name+" ", "help lists %s", c.name)
		if c.name == "help" || c.name == "version" {
			continue
		}
		code, out, errs := runWith(nil, "help", c.name)
		assert.Equal(t, 0, code, "help %s: %s", c.name, errs)
		assert.True(t, strings.HasPrefix(out, "usage: ledger "+c.name), "help %s on standard output: %q", c.name, out)
		assert.Contains(t, out, "exit status:", c.name)
		assert.NotContains(t, out, "-LEDGER_", "help %s lists the lower-case flags only", c.name)
	}
	code, out, _ = runWith(nil, "help", "serve")
	require.Equal(t, 0, code)
	for _, flag := range []string{"-store", "-addr", "-api-keys", "-master-key", "-personal-data-retention", "environment: LEDGER_STORE"} {
		assert.Contains(t, out, flag)
	}

	code, out, _ = runWith(nil, "version")
	require.Equal(t, 0, code)
	assert.Regexp(t, `^ledger \S+ \(commit \S+.*, go1\.\d+`, out)
}

// ledger verify keeps Go's memory under its soft limit while it runs,
// unless GOMEMLIMIT sets one, and gives the process's limit back after.
func TestVerifyLimitsGoMemory(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	restore := limitGoMemory(func(string) string { return "" }, verifyGoMemory)
	assert.Equal(t, int64(verifyGoMemory), debug.SetMemoryLimit(-1))
	restore()
	require.Equal(t, before, debug.SetMemoryLimit(-1))

	restore = limitGoMemory(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "1GiB"
		}
		return ""
	}, verifyGoMemory)
	assert.Equal(t, before, debug.SetMemoryLimit(-1), "GOMEMLIMIT decides")
	restore()
	require.Equal(t, before, debug.SetMemoryLimit(-1))
}

// serve and rebuild let Go's heap grow to the budget (package gcbudget)
// unless GOGC is set, and stop it after. Not parallel: the budget is the
// process's, and a parallel serve would start it too.
func TestHeapBudgetUnlessGOGC(t *testing.T) {
	stop := budgetHeap(func(string) string { return "" })
	assert.NotZero(t, gcbudget.Current(), "the budget runs")
	stop()
	assert.Zero(t, gcbudget.Current())

	stop = budgetHeap(func(k string) string {
		if k == "GOGC" {
			return "150"
		}
		return ""
	})
	defer stop()
	assert.Zero(t, gcbudget.Current(), "GOGC decides")
}
