package postgres

import "sync"

// recentGroups bounds how many committed transactions of its groups a Store
// remembers; one older than these is asked about on the server.
const recentGroups = 1024

// groupTracker follows a Store's groups: those being written, and the IDs of
// the transactions of those that committed recently, so that a group can
// tell, without asking the server, when the older transactions it saw in
// flight are done.
type groupTracker struct {
	mu       sync.Mutex
	seq      uint64
	inFlight map[uint64]struct{}
	done     map[int64]struct{}
	recent   []int64 // done's keys, oldest first
}

// begin registers a group about to be sent and returns its number.
func (t *groupTracker) begin() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inFlight == nil {
		t.inFlight = map[uint64]struct{}{}
		t.done = map[int64]struct{}{}
	}
	t.seq++
	t.inFlight[t.seq] = struct{}{}
	return t.seq
}

// end registers that group seq's statement returned (committed, with
// transaction xid, if ok), and returns the other groups still in flight: any
// group whose transaction is older than this one's is among them or ended.
func (t *groupTracker) end(seq uint64, xid int64, ok bool) map[uint64]struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.inFlight, seq)
	if ok {
		t.done[xid] = struct{}{}
		t.recent = append(t.recent, xid)
		if len(t.recent) > recentGroups {
			delete(t.done, t.recent[0])
			t.recent = t.recent[1:]
		}
	}
	others := make(map[uint64]struct{}, len(t.inFlight))
	for s := range t.inFlight {
		others[s] = struct{}{}
	}
	return others
}

// resolved reports whether every transaction of older is known done, and
// whether every group of others has ended.
func (t *groupTracker) resolved(older []int64, others map[uint64]struct{}) (done, othersEnded bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	done = true
	for _, x := range older {
		if _, ok := t.done[x]; !ok {
			done = false
			break
		}
	}
	othersEnded = true
	for s := range others {
		if _, ok := t.inFlight[s]; ok {
			othersEnded = false
			break
		}
	}
	return done, othersEnded
}
