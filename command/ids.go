package command

import (
	"fmt"

	"github.com/google/uuid"
)

// eventID returns the ID of the i-th event of a command. With an idempotency
// key the IDs are derived from it, so the store itself recognises a retried
// append; without one they are random.
func eventID(actor, key string, placement uuid.UUID, i int) uuid.UUID {
	if key == "" {
		return uuid.New()
	}
	return uuid.NewSHA1(idNamespace, []byte(fmt.Sprintf("%s\x00%s\x00%s\x00%d", actor, key, placement, i)))
}

var idNamespace = uuid.MustParse("6f1d2a9e-5c1b-4c55-9a8e-2f0b7d4e8a10")
