package client_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/client/internal/down"
)

// TestGeneratedCodeIsCurrent: regenerating from http/openapi.yaml changes
// nothing (make generate after every change of the document).
func TestGeneratedCodeIsCurrent(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "http", "openapi.yaml"))
	require.NoError(t, err)
	want, err := down.Convert(doc)
	require.NoError(t, err)
	got, err := os.ReadFile("openapi-3.0.yaml")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "client/openapi-3.0.yaml is stale: run make generate")

	out := filepath.Join(t.TempDir(), "client.gen.go")
	cfg := filepath.Join(t.TempDir(), "oapi-codegen.yaml")
	raw, err := os.ReadFile("oapi-codegen.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, bytes.Replace(raw, []byte("output: client.gen.go"), []byte("output: "+out), 1), 0o644))
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", cfg, "openapi-3.0.yaml")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", msg)
	generated, err := os.ReadFile(out)
	require.NoError(t, err)
	committed, err := os.ReadFile("client.gen.go")
	require.NoError(t, err)
	assert.Equal(t, string(generated), string(committed), "client/client.gen.go is stale: run make generate")
}
