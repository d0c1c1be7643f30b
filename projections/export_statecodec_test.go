package projections

import (
	"encoding/json"

	"github.com/google/uuid"
)

// RewriteStatesAsJSONForTest rewrites every placement state of the views in
// dir as JSON, as code before the binary form wrote them, with the change
// index's row of each placement, which that code wrote too (a JSON state
// does not say where its placement is in the index), and returns how many
// it rewrote.
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
		if st.Change != (changeAt{}) {
			if err := b.Set(key(v.generation(), tChange).b(changeOfPlacement).id(uuid.UUID(k[len(prefix):])), st.Change[:], nil); err != nil {
				return false, err
			}
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

// StateFormatForTest is the format byte of a placement's stored state ('{':
// JSON; 0: none).
func StateFormatForTest(v *Views, id uuid.UUID) (byte, error) {
	b, err := v.get(key(v.generation(), tPlacement).id(id))
	if err != nil || len(b) == 0 {
		return 0, err
	}
	return b[0], nil
}
