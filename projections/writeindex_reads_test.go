package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// TestCommandPathViewReads counts the view store's point reads a command
// makes: none when its placement is cached, one (its snapshot) when it is
// not, and one more per number it names that the cache does not know.
func TestCommandPathViewReads(t *testing.T) {
	s := MustStore(t)
	v := MustViews(t, "")
	ids := drive(t, command.NewHandler(s, projections.NewWriteIndex(v), nil), 3, 60)
	r, _ := MustRunner(t, s, v, 0)
	MustCatchUp(t, s, r)

	idx := projections.NewWriteIndex(v)
	h := command.NewHandler(s, idx, nil)
	pay := func(number string) error {
		_, err := h.Execute(context.Background(), ids[1], command.Request{Actor: "beta", ActorType: journal.ActorCreditor, RequestID: "r"},
			func(at time.Time) domain.Command {
				return domain.ReceivePayment{Amount: decimal.New(1, -2), PaymentNumber: number, At: at}
			})
		return err
	}
	for _, tc := range []struct {
		name   string
		number string
		reads  uint64
	}{
		{name: "a miss reads the snapshot", reads: 1},
		{name: "a hit reads nothing", reads: 0},
		{name: "a hit again reads nothing", reads: 0},
		{name: "a hit naming a new number reads it", number: "N-1", reads: 1},
		{name: "a hit naming a number it processed reads nothing", number: "N-1", reads: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := idx.Reads()
			require.NoError(t, pay(tc.number))
			assert.Equal(t, tc.reads, idx.Reads()-before)
		})
	}
}
