package eventstore_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
)

func events(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = eventstore.EventData{ID: uuid.New(), Type: "Something", Data: []byte(`{}`)}
	}
	return out
}

// An append's ids are compared one by one for the first few events and
// through a map after them: a repeat is found on both sides of that line.
func TestValidateAppendFindsARepeatedIDAnywhere(t *testing.T) {
	require.NoError(t, eventstore.ValidateAppend("s", eventstore.Any(), events(eventstore.MaxAppendEvents)))
	for _, c := range []struct{ first, again int }{{0, 1}, {2, 5}, {0, 7}, {3, 8}, {7, 8}, {0, 30}, {20, 21}, {9, eventstore.MaxAppendEvents - 1}} {
		evs := events(eventstore.MaxAppendEvents)
		evs[c.again].ID = evs[c.first].ID
		err := eventstore.ValidateAppend("s", eventstore.Any(), evs)
		require.Error(t, err, "event %d repeats event %d's id", c.again, c.first)
		assert.True(t, errors.Is(err, eventstore.ErrInvalidArgument))
		assert.Equal(t, "eventstore: invalid argument: event "+strconv.Itoa(c.again)+" repeats ID "+evs[c.first].ID.String()+" within the append", err.Error())
	}
}

// A refused name is described as it was before the description was made
// only on refusal.
func TestValidateAppendNamesWhatItRefuses(t *testing.T) {
	for _, c := range []struct {
		stream, typ, want string
	}{
		{"", "T", "eventstore: invalid argument: stream name is empty"},
		{"$all", "T", `eventstore: invalid argument: stream name "$all" starts with '$', which is reserved for system streams and events`},
		{"s", "", "eventstore: invalid argument: event 1 type is empty"},
		{"s", "a\x01b", `eventstore: invalid argument: event 1 type "a\x01b" holds a control character`},
		{"s", "\xff", "eventstore: invalid argument: event 1 type is not valid UTF-8"},
		{"s", string(make([]byte, eventstore.MaxEventTypeBytes+1)), "eventstore: invalid argument: event 1 type is " + strconv.Itoa(eventstore.MaxEventTypeBytes+1) + " bytes, over the limit of " + strconv.Itoa(eventstore.MaxEventTypeBytes)},
	} {
		evs := events(2)
		evs[1].Type = c.typ
		err := eventstore.ValidateAppend(c.stream, eventstore.Any(), evs)
		require.Error(t, err)
		assert.Equal(t, c.want, err.Error())
	}
}
