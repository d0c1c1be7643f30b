package pii_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/pii"
)

// KeysContract is what every key store behind pii.Keys must do; the file
// store runs it here, and another implementation (an external KMS) runs it
// against its own service. store makes a fresh, empty key store and returns
// how to open an instance of it: each call opens another instance on the
// same keys, as every instance of a deployment on KurrentDB opens one.
func KeysContract(t *testing.T, store func(t *testing.T) (instance func() pii.Keys)) {
	open := func(t *testing.T) pii.Keys { return store(t)() }
	t.Run("a debtor keeps one current key", func(t *testing.T) {
		k := open(t)
		id1, key1, err := k.Current("acme", "K1")
		require.NoError(t, err)
		id2, key2, err := k.Current("acme", "K1")
		require.NoError(t, err)
		assert.Equal(t, id1, id2)
		assert.Equal(t, key1, key2)
		assert.Len(t, key1, 32)
		got, err := k.Key("acme", "K1", id1)
		require.NoError(t, err)
		assert.Equal(t, key1, got)
	})
	t.Run("keys are per creditor and customer", func(t *testing.T) {
		k := open(t)
		a, _, err := k.Current("acme", "K1")
		require.NoError(t, err)
		b, _, err := k.Current("other", "K1")
		require.NoError(t, err)
		c, _, err := k.Current("acme", "K2")
		require.NoError(t, err)
		assert.NotEqual(t, a, b)
		assert.NotEqual(t, a, c)
		_, err = k.Key("other", "K1", a)
		assert.ErrorIs(t, err, pii.ErrErased, "a key is found only under its own debtor")
	})
	t.Run("destroy erases one debtor, idempotently", func(t *testing.T) {
		k := open(t)
		a, _, err := k.Current("acme", "K1")
		require.NoError(t, err)
		b, _, err := k.Current("other", "K1")
		require.NoError(t, err)
		has, err := k.Has("acme", "K1")
		require.NoError(t, err)
		assert.True(t, has)
		destroyed, err := k.Destroy("acme", "K1")
		require.NoError(t, err)
		assert.True(t, destroyed)
		_, err = k.Key("acme", "K1", a)
		assert.ErrorIs(t, err, pii.ErrErased)
		has, err = k.Has("acme", "K1")
		require.NoError(t, err)
		assert.False(t, has)
		again, err := k.Destroy("acme", "K1")
		require.NoError(t, err)
		assert.False(t, again)
		_, err = k.Key("other", "K1", b)
		assert.NoError(t, err)
		fresh, _, err := k.Current("acme", "K1")
		require.NoError(t, err)
		assert.NotEqual(t, a, fresh, "after an erasure a debtor's new data gets a new key")
	})
	t.Run("an erasure on one instance holds on every other at once", func(t *testing.T) {
		instance := store(t)
		a, b := instance(), instance()
		sealed, err := pii.Seal(a, "acme", "K1", "p-1", "PlacementOpened", []byte(`{"lastName":"X"}`))
		require.NoError(t, err)
		plain, err := pii.Open(b, "acme", "K1", "p-1", sealed)
		require.NoError(t, err, "B reads what A sealed")
		assert.Equal(t, `{"lastName":"X"}`, string(plain))
		destroyed, err := a.Destroy("acme", "K1")
		require.NoError(t, err)
		require.True(t, destroyed)
		_, err = pii.Open(b, "acme", "K1", "p-1", sealed)
		assert.ErrorIs(t, err, pii.ErrErased, "B had the key in hand before A's erasure; it must not open the data after")
		_, err = b.Key("acme", "K1", sealed.KeyID)
		assert.ErrorIs(t, err, pii.ErrErased)
		has, err := b.Has("acme", "K1")
		require.NoError(t, err)
		assert.False(t, has)
		fresh, _, err := b.Current("acme", "K1")
		require.NoError(t, err)
		assert.NotEqual(t, sealed.KeyID, fresh, "new data after the erasure gets a new key on B too")
	})
	t.Run("an unknown key is erased", func(t *testing.T) {
		_, err := open(t).Key("acme", "K9", "00000000-0000-4000-8000-000000000000")
		assert.ErrorIs(t, err, pii.ErrErased)
		_, err = open(t).Key("acme", "K9", "../../etc/passwd")
		assert.ErrorIs(t, err, pii.ErrErased)
	})
}

func TestFileKeysContract(t *testing.T) {
	KeysContract(t, func(t *testing.T) func() pii.Keys {
		dir, m := t.TempDir(), master(t)
		return func() pii.Keys {
			k, err := pii.OpenFileKeys(dir, m)
			require.NoError(t, err)
			return k
		}
	})
}
