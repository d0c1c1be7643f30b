package http_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHTTPWritesOnlyThroughTheCommandHandler: every change to the ledger is
// a command.Handler method, so the HTTP layer's own code neither imports
// retention (erasure) nor appends to the log, seals personal data, or
// reaches for the handler's store.
func TestHTTPWritesOnlyThroughTheCommandHandler(t *testing.T) {
	forbiddenImports := map[string]bool{
		"github.com/collections-ledger/ledger/retention":           true,
		"github.com/collections-ledger/ledger/eventstore/embedded": true,
	}
	forbiddenCalls := map[string]func(name string) bool{
		"journal": func(name string) bool { return strings.HasPrefix(name, "Append") || name == "Chain" },
		"pii": func(name string) bool {
			return name == "Seal" || strings.HasPrefix(name, "Destroy") || strings.HasPrefix(name, "Erase")
		},
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		checked++
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		require.NoError(t, err, name)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			assert.False(t, forbiddenImports[path], "%s imports %s", name, path)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if sel.Sel.Name == "Store" && len(call.Args) == 0 {
				t.Errorf("%s calls .Store(): the HTTP layer does not reach for the event store", name)
			}
			if pkg, ok := sel.X.(*ast.Ident); ok {
				if forbidden := forbiddenCalls[pkg.Name]; forbidden != nil && forbidden(sel.Sel.Name) {
					t.Errorf("%s calls %s.%s: only the command handler writes", name, pkg.Name, sel.Sel.Name)
				}
			}
			return true
		})
	}
	require.NotZero(t, checked)
}
