package pii_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/pii"
)

func master(t testing.TB) []byte {
	t.Helper()
	k, err := pii.ParseMasterKey(pii.NewMasterKey())
	require.NoError(t, err)
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	dir := t.TempDir()
	keys, err := pii.OpenFileKeys(dir, master(t))
	require.NoError(t, err)
	s, err := pii.Seal(keys, "acme", "K1", "p-1", "PlacementOpened", []byte(`{"lastName":"Zwetschgenmann"}`))
	require.NoError(t, err)
	assert.NotContains(t, string(s.Ciphertext), "Zwetschgenmann")
	plain, err := pii.Open(keys, "acme", "K1", "p-1", s)
	require.NoError(t, err)
	assert.Equal(t, `{"lastName":"Zwetschgenmann"}`, string(plain))

	// Another placement's or event's associated data does not open it.
	_, err = pii.Open(keys, "acme", "K1", "p-2", s)
	assert.ErrorIs(t, err, pii.ErrDamaged)
	moved := *s
	moved.Context = pii.Context("DebtorContactChanged", "c-1")
	_, err = pii.Open(keys, "acme", "K1", "p-1", &moved)
	assert.ErrorIs(t, err, pii.ErrDamaged)
	// A flipped bit is named as damage.
	s.Ciphertext[3] ^= 1
	_, err = pii.Open(keys, "acme", "K1", "p-1", s)
	assert.ErrorIs(t, err, pii.ErrDamaged)
	// No key file holds the names in clear.
	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		assert.NotContains(t, path, "acme")
		assert.NotContains(t, path, "K1")
		return err
	}))
}

func TestDestroyErasesOneDebtorOnly(t *testing.T) {
	dir := t.TempDir()
	m := master(t)
	keys, err := pii.OpenFileKeys(dir, m)
	require.NoError(t, err)
	acmeSealed, err := pii.Seal(keys, "acme", "K1", "p", "a", []byte("x"))
	require.NoError(t, err)
	otherSealed, err := pii.Seal(keys, "other", "K1", "p", "a", []byte("y"))
	require.NoError(t, err)
	assert.NotEqual(t, acmeSealed.KeyID, otherSealed.KeyID, "a key per (creditor, customer)")

	destroyed, err := keys.Destroy("acme", "K1")
	require.NoError(t, err)
	assert.True(t, destroyed)
	_, err = pii.Open(keys, "acme", "K1", "p", acmeSealed)
	assert.ErrorIs(t, err, pii.ErrErased)
	plain, err := pii.Open(keys, "other", "K1", "p", otherSealed)
	require.NoError(t, err, "another creditor's debtor with the same number keeps its data")
	assert.Equal(t, "y", string(plain))
	again, err := keys.Destroy("acme", "K1")
	require.NoError(t, err)
	assert.False(t, again, "erasure is idempotent")

	// It stays erased for a store opened anew, and new data gets a new key.
	reopened, err := pii.OpenFileKeys(dir, m)
	require.NoError(t, err)
	_, err = pii.Open(reopened, "acme", "K1", "p", acmeSealed)
	assert.ErrorIs(t, err, pii.ErrErased)
	fresh, err := pii.Seal(reopened, "acme", "K1", "p", "a", []byte("z"))
	require.NoError(t, err)
	assert.NotEqual(t, acmeSealed.KeyID, fresh.KeyID)
}

func TestWrongOrMissingMasterKey(t *testing.T) {
	dir := t.TempDir()
	m := master(t)
	keys, err := pii.OpenFileKeys(dir, m)
	require.NoError(t, err)
	_, _, err = keys.Current("acme", "K1")
	require.NoError(t, err)
	_, err = pii.OpenFileKeys(dir, master(t))
	assert.ErrorIs(t, err, pii.ErrWrongMasterKey)
	has, err := pii.HasKeys(dir)
	require.NoError(t, err)
	assert.True(t, has, "a ledger without a master key can tell that personal data exists")
	has, err = pii.HasKeys(t.TempDir())
	require.NoError(t, err)
	assert.False(t, has)
	for _, bad := range []string{"", "short", "zz" + pii.NewMasterKey()[2:]} {
		_, err := pii.ParseMasterKey(bad)
		assert.Error(t, err, bad)
	}
	k, err := pii.ParseMasterKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	require.NoError(t, err, "base64")
	assert.Len(t, k, 32)
}

func TestRotateRewrapsWithoutTouchingData(t *testing.T) {
	dir := t.TempDir()
	oldM, newM := master(t), master(t)
	keys, err := pii.OpenFileKeys(dir, oldM)
	require.NoError(t, err)
	s1, err := pii.Seal(keys, "acme", "K1", "p", "a", []byte("one"))
	require.NoError(t, err)
	s2, err := pii.Seal(keys, "acme", "K2", "p", "a", []byte("two"))
	require.NoError(t, err)

	n, err := pii.Rotate(dir, oldM, newM)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = pii.OpenFileKeys(dir, oldM)
	assert.ErrorIs(t, err, pii.ErrWrongMasterKey, "the old master key no longer opens it")
	rotated, err := pii.OpenFileKeys(dir, newM)
	require.NoError(t, err)
	p1, err := pii.Open(rotated, "acme", "K1", "p", s1)
	require.NoError(t, err)
	assert.Equal(t, "one", string(p1), "data sealed before the rotation opens after it")
	p2, err := pii.Open(rotated, "acme", "K2", "p", s2)
	require.NoError(t, err)
	assert.Equal(t, "two", string(p2))
	// Once finished, running it again fails cleanly: the old key no longer
	// opens the store.
	_, err = pii.Rotate(dir, oldM, newM)
	assert.ErrorIs(t, err, pii.ErrWrongMasterKey)
}

func TestRotateFinishesAnInterruptedRotation(t *testing.T) {
	dir := t.TempDir()
	oldM, newM := master(t), master(t)
	keys, err := pii.OpenFileKeys(dir, oldM)
	require.NoError(t, err)
	s1, err := pii.Seal(keys, "acme", "K1", "p", "a", []byte("one"))
	require.NoError(t, err)
	s2, err := pii.Seal(keys, "acme", "K2", "p", "a", []byte("two"))
	require.NoError(t, err)
	// An interruption: one key file re-wrapped, the check file not yet.
	files, err := filepath.Glob(filepath.Join(dir, "d", "*", "*.key"))
	require.NoError(t, err)
	require.Len(t, files, 2)
	before := map[string][]byte{}
	for _, f := range append(files, filepath.Join(dir, "check.key")) {
		before[f], err = os.ReadFile(f)
		require.NoError(t, err)
	}
	_, err = pii.Rotate(dir, oldM, newM)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(files[1], before[files[1]], 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "check.key"), before[filepath.Join(dir, "check.key")], 0o600))
	half, err := pii.OpenFileKeys(dir, oldM)
	require.NoError(t, err, "until the rotation finishes the old key opens the store")
	_, err1 := pii.Open(half, "acme", "K1", "p", s1)
	_, err2 := pii.Open(half, "acme", "K2", "p", s2)
	assert.True(t, (err1 == nil) != (err2 == nil), "one key is under each master key: %v, %v", err1, err2)

	n, err := pii.Rotate(dir, oldM, newM)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the key left behind is re-wrapped")
	done, err := pii.OpenFileKeys(dir, newM)
	require.NoError(t, err)
	p1, err := pii.Open(done, "acme", "K1", "p", s1)
	require.NoError(t, err)
	assert.Equal(t, "one", string(p1))
	p2, err := pii.Open(done, "acme", "K2", "p", s2)
	require.NoError(t, err)
	assert.Equal(t, "two", string(p2))
}
