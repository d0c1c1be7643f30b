package embedded_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
)

const (
	crashDirEnv   = "LEDGER_CRASH_CHILD_DIR"
	crashRoundEnv = "LEDGER_CRASH_CHILD_ROUND"
	crashWriters  = 6
	crashPerCmd   = 3 // events per append: a half-written append shows as a stream length not divisible by 3
)

// TestCrashChild is the process TestCrashRecovery kills; run on its own it
// does nothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashRecovery; it runs only when that test starts it")
	}
	s, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		fmt.Printf("OPENFAIL %v\n", err)
		os.Exit(3)
	}
	round := os.Getenv(crashRoundEnv)
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("crash-r%s-w%d", round, w)
			exp := eventstore.NoStream()
			for i := 0; ; i++ {
				events := make([]eventstore.EventData, crashPerCmd)
				ids := make([]string, crashPerCmd)
				for k := range events {
					events[k] = eventstore.EventData{ID: uuid.New(), Type: "CrashTest", Data: []byte(fmt.Sprintf(`{"cmd":%d,"part":%d}`, i, k))}
					ids[k] = events[k].ID.String()
				}
				res, err := s.Append(context.Background(), stream, exp, events)
				if err != nil {
					fmt.Printf("APPENDFAIL %v\n", err)
					os.Exit(4)
				}
				exp = eventstore.Exact(res.Revision)
				// One write per line: whatever the parent reads, it read whole.
				out.Lock()
				fmt.Printf("ACK %s %d %d %s\n", stream, res.Revision, res.Position, strings.Join(ids, ","))
				out.Unlock()
			}
		}()
	}
	wg.Wait()
}

type ack struct {
	stream string
	rev    uint64
	pos    eventstore.Position
	ids    []uuid.UUID
}

// TestCrashRecovery kills a writing process with SIGKILL at random moments
// and checks, after each restart, that every acknowledged append is there
// whole, that $all has no gap, and that no append is half there.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var acked []ack
	const rounds = 6
	for round := range rounds {
		acks := runAndKill(t, dir, round, 20+rng.IntN(200), time.Duration(rng.IntN(40))*time.Millisecond)
		acked = append(acked, acks...)
		t.Logf("round %d: killed after %d acknowledged appends", round, len(acks))
		checkRecovered(t, dir, acked)
	}
}

// runAndKill starts the child, waits until it acknowledged minAcks appends,
// lets it run a little longer, kills it and returns every ack it printed.
func runAndKill(t *testing.T, dir string, round, minAcks int, extra time.Duration) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())

	var acks []ack
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<16), 1<<20)
	killed := false
	deadline := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() }) // liveness bound only
	defer deadline.Stop()
	for lines.Scan() {
		line := lines.Text()
		if !strings.HasPrefix(line, "ACK ") {
			if strings.HasPrefix(line, "OPENFAIL") || strings.HasPrefix(line, "APPENDFAIL") {
				t.Fatalf("child failed: %s", line)
			}
			continue
		}
		acks = append(acks, parseAck(t, line))
		if !killed && len(acks) >= minAcks {
			killed = true
			time.AfterFunc(extra, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		}
	}
	err = cmd.Wait()
	require.Error(t, err, "the child only ends by being killed")
	require.True(t, killed, "the child died before acknowledging %d appends: %v", minAcks, err)
	return acks
}

func parseAck(t *testing.T, line string) ack {
	t.Helper()
	f := strings.Fields(line)
	require.Len(t, f, 5, "ack line %q", line)
	rev, err := strconv.ParseUint(f[2], 10, 64)
	require.NoError(t, err)
	pos, err := strconv.ParseUint(f[3], 10, 64)
	require.NoError(t, err)
	a := ack{stream: f[1], rev: rev, pos: eventstore.Position(pos)}
	for _, s := range strings.Split(f[4], ",") {
		a.ids = append(a.ids, uuid.MustParse(s))
	}
	return a
}

func checkRecovered(t *testing.T, dir string, acked []ack) {
	t.Helper()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err, "the store opens cleanly after SIGKILL")
	defer s.Close()
	ctx := context.Background()

	// $all: positions 1..head, each exactly once; ReadAll itself refuses a gap.
	head, err := s.Head(ctx)
	require.NoError(t, err)
	byID := map[uuid.UUID]eventstore.RecordedEvent{}
	streamLen := map[string]uint64{}
	var after eventstore.Position
	for {
		batch, err := s.ReadAll(ctx, after, 5000)
		require.NoError(t, err)
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			require.Equal(t, after+1, e.Position, "$all has no gap")
			after = e.Position
			_, dup := byID[e.ID]
			require.False(t, dup, "event %s is in $all twice", e.ID)
			byID[e.ID] = e
			require.Equal(t, streamLen[e.Stream], e.Revision, "stream %s is dense", e.Stream)
			streamLen[e.Stream]++
		}
	}
	require.Equal(t, head, after, "$all ends at the head")

	// Every acknowledged append is there, whole, where it was acknowledged.
	for _, a := range acked {
		for k, id := range a.ids {
			e, ok := byID[id]
			require.True(t, ok, "acknowledged event %s of %s is lost", id, a.stream)
			wantRev := a.rev - uint64(len(a.ids)-1-k)
			assert.Equal(t, a.stream, e.Stream)
			assert.Equal(t, wantRev, e.Revision)
			if k == len(a.ids)-1 {
				assert.Equal(t, a.pos, e.Position)
			}
		}
	}
	// No append is half there.
	for stream, n := range streamLen {
		assert.Zero(t, n%crashPerCmd, "stream %s holds %d events: an append was torn", stream, n)
	}
}
