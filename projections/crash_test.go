package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/projections"
)

// TestViewsSurviveAPowerCut: the views' writes are not synced with each
// batch (without a write-ahead log, the default, they reach disk only when
// the memtables are flushed; with one, its syncs come every SyncEvery), so
// a power cut may lose the last batches, or keep parts of them that were on
// their way to disk. Pebble's crashable file system gives such states:
// images of the views' files at random moments while commands run, keeping
// none, some or all of what was not synced. Each image opens, stands at a
// checkpoint no further than the log, and, once caught up from there,
// holds exactly what a rebuild from position 0 holds: nothing was lost or
// applied twice.
func TestViewsSurviveAPowerCut(t *testing.T) {
	for _, tc := range []struct {
		name string
		wal  bool
	}{
		{name: "without WAL", wal: false},
		{name: "with WAL", wal: true},
	} {
		t.Run(tc.name, func(t *testing.T) { powerCuts(t, tc.wal) })
	}
}

func powerCuts(t *testing.T, wal bool) {
	s := MustStore(t)
	fs := vfs.NewCrashableMem()
	// Synced or flushed every 5 ms (a second or 5 s by default), so images
	// stand at many checkpoints: some durable, some not yet. (At 30 ms, and
	// an image every 5–25 ms, a run whose 400 commands took under 100 ms
	// left its images at two checkpoints, about one run in ten.)
	live, err := projections.OpenViews("views", projections.ViewsOptions{FS: fs, Logger: quiet(), States: 7, SyncEvery: 5 * time.Millisecond, WAL: wal})
	require.NoError(t, err)
	defer live.Close()
	_, stop := MustRunner(t, s, live, eventstore.Start)

	done := make(chan struct{})
	go func() {
		defer close(done)
		drive(t, command.NewHandler(s, projections.NewWriteIndex(live), nil), 42, 400)
	}()
	rng := rand.New(rand.NewPCG(42, 1))
	var images []*vfs.MemFS
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(time.Duration(2+rng.IntN(8)) * time.Millisecond):
		}
		images = append(images, fs.CrashClone(vfs.CrashCloneCfg{
			UnsyncedDataPercent: []int{0, 30, 70, 100}[len(images)%4],
			RNG:                 rand.New(rand.NewPCG(uint64(len(images)), 2)),
		}))
	}
	stop()
	head, err := s.Head(context.Background())
	require.NoError(t, err)
	rebuilt := MustViews(t, "")
	MustRunner(t, s, rebuilt, head)

	checkpoints := map[eventstore.Position]bool{}
	for i, image := range images {
		t.Run(fmt.Sprint("image", i), func(t *testing.T) {
			v, err := projections.OpenViews("views", projections.ViewsOptions{FS: image, Logger: quiet(), States: 7, WAL: wal})
			require.NoError(t, err, "the views open after a power cut")
			defer v.Close()
			cp := v.Checkpoint()
			require.LessOrEqual(t, cp, head)
			checkpoints[cp] = true
			_, stop := MustRunner(t, s, v, head)
			stop()
			diffs := 0
			require.NoError(t, projections.Diff(v, rebuilt, func(table byte, k, a, b []byte) bool {
				diffs++
				t.Errorf("image %d (checkpoint %d) views.%c key %x: %q, rebuilt %q", i, cp, table, k, a, b)
				return diffs < 5
			}))
		})
	}
	t.Logf("%d images at %d checkpoints; log head %d", len(images), len(checkpoints), head)
	assert.Greater(t, len(checkpoints), 2, "the images stand at several checkpoints (else the test shows little)")
}
