package domain

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Accounting documents are numbered <claim>-AD<n, at least three digits>;
// stored events and feeds hold these numbers.
func TestDocumentNumberIsClaimADThreeDigits(t *testing.T) {
	for _, claim := range []string{"", "DE-S242243704005", strings.Repeat("long-claim-", 12)} {
		for docs := 0; docs < 20000; docs += 1 + docs/50 {
			for extra := 0; extra < 3; extra++ {
				p := Placement{ClaimNumber: claim, Documents: docs}
				require.Equal(t, fmt.Sprintf("%s-AD%03d", claim, docs+extra+1), documentNumber(p, extra))
			}
		}
	}
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = documentNumber(Placement{ClaimNumber: "C-1", Documents: 41}, 0) }))
}
