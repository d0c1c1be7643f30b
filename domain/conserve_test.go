package domain_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// TestConservedMinorAgreesWithConserved runs the money property's 200 runs
// with every conservation check judged both ways: the check in minor units
// (which names no account) finds a decision conserved only when the check by
// account name (which names the account at fault) does, and it judges most
// checks itself.
func TestConservedMinorAgreesWithConserved(t *testing.T) {
	checks, fast, disagree := 0, 0, 0
	domain.CrossCheckConservation(t, func(f bool, err error) {
		checks++
		if f {
			fast++
			if err != nil {
				disagree++
				t.Errorf("conservedMinor found conserved what conserved refuses: %v", err)
			}
		}
	})
	rng := rand.New(rand.NewPCG(21, 13))
	for run := range propertyRuns {
		cur := currencies[run%len(currencies)]
		require.Empty(t, runMoneyProperty(rng, cur, run, map[string]int{}), "run %d (%s)", run, cur)
	}
	require.Positive(t, checks)
	assert.Zero(t, disagree)
	assert.Greater(t, fast*10, checks*8, "the check in minor units judged %d of %d checks", fast, checks)
	t.Logf("%d checks, %d judged in minor units", checks, fast)
}
