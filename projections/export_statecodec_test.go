package projections

import (
	"encoding/json"
)

// RewriteStatesAsJSONForTest rewrites every placement state of the views in
// dir as JSON, as code before the binary form wrote them, and returns how
// many it rewrote.
func RewriteStatesAsJSONForTest(dir string) (int, error) {
	v, err := OpenViews(dir, ViewsOptions{})
	if err != nil {
		return 0, err
	}
	defer v.Close()
	b := v.db.NewBatch()
	n := 0
	prefix := key(v.generation(), tPlacement)
	err = v.scan(prefix, prefix.upper(), func(k, val []byte) (bool, error) {
		var st placementState
		if err := decodeState(val, &st); err != nil {
			return false, err
		}
		j, err := json.Marshal(&st)
		if err != nil {
			return false, err
		}
		n++
		return true, b.Set(append([]byte{}, k...), j, nil)
	})
	if err != nil {
		return 0, err
	}
	return n, b.Commit(v.syncOpts())
}

// StateAsJSONForTest decodes a stored placement state (either form) and
// returns it as JSON, to compare states by content.
func StateAsJSONForTest(b []byte) (string, error) {
	var st placementState
	if err := decodeState(b, &st); err != nil {
		return "", err
	}
	j, err := json.Marshal(&st)
	return string(j), err
}
