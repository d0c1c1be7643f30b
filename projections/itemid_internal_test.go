package projections

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// itemID is uuid.NewSHA1 of "<event>/<k>" in itemNamespace, as it was
// written before it hashed on the stack: every stored feed item's id
// depends on it.
func TestItemIDIsTheNameBasedUUID(t *testing.T) {
	for i := 0; i < 2000; i++ {
		event := uuid.New()
		for _, k := range []int{0, 1, 2, 9, 10, 99, i, 1 << 40} {
			want := uuid.NewSHA1(itemNamespace, []byte(fmt.Sprintf("%s/%d", event, k)))
			require.Equal(t, want, itemID(event, k), "event %s, item %d", event, k)
		}
	}
	require.Equal(t, uuid.Version(5), itemID(uuid.Nil, 0).Version())
	require.Equal(t, uuid.RFC4122, itemID(uuid.Nil, 0).Variant())
}

func TestItemIDAllocatesNothing(t *testing.T) {
	event := uuid.New()
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = itemID(event, 3) }))
}
