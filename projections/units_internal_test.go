package projections

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryTableInExactlyOneUnit: every table keys.go declares belongs to
// exactly one unit, every unit's table is declared there, and every table
// the package's code builds a key with (key(…, tX)) is declared.
func TestEveryTableInExactlyOneUnit(t *testing.T) {
	fset := token.NewFileSet()
	declared := map[string]byte{}
	f, err := parser.ParseFile(fset, "keys.go", nil, 0)
	require.NoError(t, err)
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != len(vs.Names) {
			return true
		}
		for i, name := range vs.Names {
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.CHAR && isTableName(name.Name) {
				c, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				declared[name.Name] = c[0]
			}
		}
		return true
	})
	require.NotEmpty(t, declared)
	owners := map[byte][]string{}
	for _, u := range units {
		for _, tb := range u.Tables {
			owners[tb] = append(owners[tb], u.Name)
		}
	}
	for name, tb := range declared {
		assert.Len(t, owners[tb], 1, "table %s (%c) belongs to exactly one unit: %v", name, tb, owners[tb])
	}
	assert.Len(t, owners, len(declared), "every unit's table is declared in keys.go")

	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	used := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if fn, isIdent := call2ident(call, ok); isIdent && fn == "key" && len(call.Args) == 2 {
				if id, ok := call.Args[1].(*ast.Ident); ok && isTableName(id.Name) {
					used[id.Name] = true
					_, known := declared[id.Name]
					assert.True(t, known, "%s: key(…, %s) is a table keys.go declares", fset.Position(call.Pos()), id.Name)
				}
			}
			return true
		})
	}
	assert.Greater(t, len(used), 20, "the code's keys were found")
}

func call2ident(call *ast.CallExpr, ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	id, ok := call.Fun.(*ast.Ident)
	if !ok {
		return "", false
	}
	return id.Name, true
}

// isTableName: tPlacement, tFeed, … (t and a capital).
func isTableName(s string) bool {
	return len(s) > 1 && s[0] == 't' && unicode.IsUpper(rune(s[1]))
}
