package journal_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadersDoNotImportTheWriteSide: readers of the log depend on its
// format (this package), never on package command, which decides and
// appends; and the format itself depends on neither.
func TestReadersDoNotImportTheWriteSide(t *testing.T) {
	const module = "github.com/collections-ledger/ledger/"
	for _, pkg := range []string{"journal", "projections", "verify", "export", "reconcile", "webhook", "migrate"} {
		out, err := exec.Command("go", "list", "-deps", module+pkg).Output()
		require.NoError(t, err, pkg)
		for _, dep := range strings.Fields(string(out)) {
			require.NotEqual(t, module+"command", dep, "%s depends on command", pkg)
			if pkg == "journal" {
				require.False(t, strings.HasPrefix(dep, module+"projections"), "journal depends on %s", dep)
			}
		}
	}
}
