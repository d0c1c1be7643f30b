package embedded

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every name has its own entry, and a UUID's key is its canonical form's only.
func TestRevisionCacheKeysAreOneToOne(t *testing.T) {
	id := uuid.MustParse("0b6c3f0e-6d1a-4f8e-9a55-2f7e1c3d4b5a")
	names := []string{
		"placement-" + id.String(),
		"placement-" + strings.ToUpper(id.String()), // not canonical: held by name
		"claim-" + id.String(),                      // another kind, the same id
		"placement-" + uuid.Nil.String(),
		"placement-",                                            // a kind's name alone
		"placement",                                             // no '-'
		"-" + id.String(),                                       // no kind: held by name
		"x" + id.String(),                                       // no '-' before the id
		"placement-" + id.String()[1:],                          // 35 characters
		"placement-{" + id.String() + "}",                       // braces
		"placement-" + strings.ReplaceAll(id.String(), "-", ""), // 32 hex digits
		"placement-" + id.String()[:8] + "_" + id.String()[9:],  // '_' for a hyphen
		"placement-" + id.String()[:35] + "g",                   // not a hex digit
		"claim-creditor:42",
		"",
	}
	c := newRevisionCache()
	for i, n := range names {
		c.put(n, uint64(i))
	}
	require.Equal(t, len(names), c.len(), "each name its own entry")
	for i, n := range names {
		rev, ok := c.get(n)
		require.True(t, ok, n)
		assert.Equal(t, uint64(i), rev, n)
	}
	assert.Len(t, c.ids, 3, "placement-<id>, claim-<id>, placement-<nil>")
	assert.Len(t, c.kinds, 2)

	k, ok := c.idOf("placement-" + id.String())
	require.True(t, ok)
	assert.Equal(t, [16]byte(id), k.id)
	for _, n := range []string{"placement-" + strings.ToUpper(id.String()), "-" + id.String(), "placement-{" + id.String() + "}"} {
		_, ok := c.idOf(n)
		assert.False(t, ok, n)
	}

	// Emptied, it holds nothing, and keeps the numbers of its kinds.
	c.clear()
	assert.Zero(t, c.len())
	_, ok = c.get(names[0])
	assert.False(t, ok)
	again, _ := c.idOf("placement-" + id.String())
	assert.Equal(t, k, again)
}

// Past maxKinds, streams of new kinds are held by name, and still one to one.
func TestRevisionCacheKindsAreBounded(t *testing.T) {
	c := newRevisionCache()
	id := uuid.NewString()
	for i := range maxKinds + 10 {
		c.put(fmt.Sprintf("kind%d-%s", i, id), uint64(i))
	}
	assert.Len(t, c.kinds, maxKinds)
	assert.Len(t, c.ids, maxKinds)
	assert.Len(t, c.names, 10)
	for i := range maxKinds + 10 {
		rev, ok := c.get(fmt.Sprintf("kind%d-%s", i, id))
		require.True(t, ok)
		assert.Equal(t, uint64(i), rev)
	}
}
