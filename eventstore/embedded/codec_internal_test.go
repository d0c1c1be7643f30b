package embedded

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
)

// TestRecordChecksumIsCRC32COfPositionAndBody holds the record checksum,
// which folds the position in byte by byte, to what it stands for (and
// what every record already on disk was written with): CRC-32C of the
// position's 8 big-endian bytes followed by the body.
func TestRecordChecksumIsCRC32COfPositionAndBody(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2_000 {
		pos := eventstore.Position(rng.Uint64())
		if i < 3 {
			pos = eventstore.Position([]uint64{0, 1, 1 << 63}[i])
		}
		body := make([]byte, rng.IntN(300))
		for j := range body {
			body[j] = byte(rng.Uint32())
		}
		want := crc32.Checksum(append(binary.BigEndian.AppendUint64(nil, uint64(pos)), body...), crc32.MakeTable(crc32.Castagnoli))
		require.Equal(t, want, recordChecksum(pos, body), "position %d, %d bytes", pos, len(body))
	}
	body := []byte("a body")
	require.Zero(t, testing.AllocsPerRun(100, func() { recordChecksum(42, body) }))
}
