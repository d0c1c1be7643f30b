package postgres

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
)

// groupRows are the columns of the events a group writes, and each written
// stream's last revision.
type groupRows struct {
	position, revision []int64
	stream, typ        []string
	id                 [][16]byte
	data, metadata     [][]byte

	headStreams   []string
	headRevisions []int64
}

// decide decides each append of group, in order, against its stream's
// revision as the earlier appends of the group leave it, sets the answer of
// those refused or repeated, marks the others as writing and numbers their
// events after st.head.
func (s *Store) decide(group []*appendRequest, st groupState) groupRows {
	var rows groupRows
	pending := map[string]streamState{}
	next := st.head + 1
	for _, req := range group {
		state, ok := pending[req.stream]
		if !ok {
			state = st.streams[req.stream]
		}
		if res, repeat, err := idempotent(req, state, st.ids); repeat {
			req.result, req.err = res, err
			continue
		}
		if !req.expected.Matches(state.rev, state.exists) {
			req.err = &eventstore.ConcurrencyError{Stream: req.stream, Expected: req.expected, Actual: state.rev, Exists: state.exists}
			continue
		}
		rev := state.rev + 1
		if !state.exists {
			rev = 0
		}
		for _, e := range req.events {
			rows.position = append(rows.position, int64(next))
			rows.stream = append(rows.stream, req.stream)
			rows.revision = append(rows.revision, int64(rev))
			rows.id = append(rows.id, e.ID)
			rows.typ = append(rows.typ, e.Type)
			rows.data = append(rows.data, notNil(e.Data))
			rows.metadata = append(rows.metadata, notNil(e.Metadata))
			st.ids[e.ID] = storedEvent{stream: req.stream, revision: rev, position: next}
			req.result = eventstore.AppendResult{Revision: rev, Position: next}
			rev++
			next++
		}
		req.writes = true
		pending[req.stream] = streamState{rev: req.result.Revision, exists: true}
	}
	for stream, state := range pending {
		rows.headStreams = append(rows.headStreams, stream)
		rows.headRevisions = append(rows.headRevisions, int64(state.rev))
	}
	return rows
}

// notNil stores an empty payload as an empty bytea, not NULL.
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// idempotent recognises a retried append: one whose event IDs are stored
// already (or written earlier in the same group). It is answered with the
// first result when all of its IDs are that stream's consecutive events and
// the expected revision matches where they were written; otherwise it is
// refused. repeat is false when none of its IDs is stored.
func idempotent(req *appendRequest, state streamState, ids map[uuid.UUID]storedEvent) (res eventstore.AppendResult, repeat bool, err error) {
	first, found := ids[req.events[0].ID]
	if !found {
		for i, e := range req.events[1:] {
			if rec, ok := ids[e.ID]; ok {
				return res, true, fmt.Errorf("%w: event %d's ID %s is already stored in stream %q at revision %d", eventstore.ErrInvalidArgument, i+1, e.ID, rec.stream, rec.revision)
			}
		}
		return res, false, nil
	}
	for i, e := range req.events {
		rec, ok := ids[e.ID]
		switch {
		case !ok:
			return res, true, fmt.Errorf("%w: events 0..%d of this append are stored already but event %d is not: a retry must repeat the first append exactly", eventstore.ErrInvalidArgument, i-1, i)
		case rec.stream != req.stream:
			return res, true, fmt.Errorf("%w: event %d's ID %s is already stored in stream %q", eventstore.ErrInvalidArgument, i, e.ID, rec.stream)
		case i > 0 && rec.revision != res.Revision+1:
			return res, true, fmt.Errorf("%w: event %d's ID %s is stored, but not right after event %d's", eventstore.ErrInvalidArgument, i, e.ID, i-1)
		}
		res.Revision, res.Position = rec.revision, rec.position
	}
	if !req.expected.Matches(first.revision-1, first.revision > 0) {
		return eventstore.AppendResult{}, true, &eventstore.ConcurrencyError{Stream: req.stream, Expected: req.expected, Actual: state.rev, Exists: state.exists}
	}
	return res, true, nil
}
