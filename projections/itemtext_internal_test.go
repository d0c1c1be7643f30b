package projections

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestItemTextsPastTheEighth: an item's texts are referred to by their
// order, the first eight kept in the encoder itself and any after in a
// slice; with twenty distinct texts (uuids among them), each written again
// later, every one reads back, and a text written again is a reference.
func TestItemTextsPastTheEighth(t *testing.T) {
	var texts []string
	for i := range 20 {
		if i%5 == 0 {
			texts = append(texts, uuid.NewString())
		} else {
			texts = append(texts, "text "+string(rune('a'+i)))
		}
	}
	e := &itemEncoder{}
	b := []byte{0} // the decoder starts after the format byte
	var sizes []int
	for range 2 {
		for _, s := range texts {
			before := len(b)
			b = e.text(b, s)
			sizes = append(sizes, len(b)-before)
		}
	}
	d := newItemDecoder(b)
	for round := range 2 {
		for i, s := range texts {
			require.Equal(t, s, d.text(), "round %d, text %d", round, i)
		}
	}
	require.NoError(t, d.err)
	for i, n := range sizes[len(texts):] {
		require.LessOrEqual(t, n, 2, "text %d written again is a reference", i)
	}
}
