package projections

// SetVersionForTest marks the views in dir as built by another version of
// the code, as a store left by an older ledger would be.
func SetVersionForTest(dir string, version uint64) error {
	v, err := OpenViews(dir, ViewsOptions{})
	if err != nil {
		return err
	}
	defer v.Close()
	return v.db.Set(versionKey(v.generation()), u64bytes(version), nil)
}
