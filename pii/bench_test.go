package pii_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/pii"
)

// BenchmarkOpenCachedKey opens a debtor's sealed data whose data key is in
// the key store's cache: what every read of personal data after the first
// costs (docs/PERFORMANCE.md, "Erasure across instances").
func BenchmarkOpenCachedKey(b *testing.B) {
	keys, err := pii.OpenFileKeys(b.TempDir(), master(b))
	require.NoError(b, err)
	sealed, err := pii.Seal(keys, "acme", "K1", "p-1", "PlacementOpened", []byte(`{"lastName":"Zwetschgenmann","firstName":"Erika"}`))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pii.Open(keys, "acme", "K1", "p-1", sealed); err != nil {
			b.Fatal(err)
		}
	}
}
