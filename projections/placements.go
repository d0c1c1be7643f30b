package projections

import (
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
)

// Placements is the read model of placements: each placement's folded state,
// and each creditor's placements in the order they were placed.
type Placements struct {
	mu         sync.RWMutex
	byID       map[uuid.UUID]*placementEntry
	byCreditor map[string][]uuid.UUID
	// resumeAt indexes the held placements that the ledger resumes by itself.
	resumeAt map[uuid.UUID]time.Time
}

type placementEntry struct {
	state    domain.Placement
	revision uint64
}

// NewPlacements returns an empty read model.
func NewPlacements() *Placements {
	return &Placements{byID: map[uuid.UUID]*placementEntry{}, byCreditor: map[string][]uuid.UUID{}, resumeAt: map[uuid.UUID]time.Time{}}
}

// Apply folds one event of placement id into the model.
func (m *Placements) Apply(id uuid.UUID, revision uint64, e domain.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ent, ok := m.byID[id]
	if !ok {
		ent = &placementEntry{}
		m.byID[id] = ent
	}
	ent.state = domain.Evolve(ent.state, e)
	ent.revision = revision
	if opened, isOpen := e.(domain.PlacementOpened); isOpen {
		m.byCreditor[opened.CreditorID] = append(m.byCreditor[opened.CreditorID], id)
	}
	if p := ent.state.Pause; p != nil && p.ResumeAt != nil && ent.state.Status == domain.StatusPaused {
		m.resumeAt[id] = *p.ResumeAt
	} else {
		delete(m.resumeAt, id)
	}
}

// DueResume is a held placement whose resumeAt has come.
type DueResume struct {
	ID       uuid.UUID
	ResumeAt time.Time
}

// Due returns the held placements whose resumeAt is not after now.
func (m *Placements) Due(now time.Time) []DueResume {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []DueResume
	for id, at := range m.resumeAt {
		if !at.After(now) {
			out = append(out, DueResume{ID: id, ResumeAt: at})
		}
	}
	return out
}

// Get returns a placement as the model holds it. creditor, when not empty,
// must own it: another creditor's placement is not found.
func (m *Placements) Get(id uuid.UUID, creditor string) (Placement, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ent, ok := m.byID[id]
	if !ok || !ent.state.Exists() || (creditor != "" && ent.state.CreditorID != creditor) {
		return Placement{}, false
	}
	return Render(ent.state, ent.revision), true
}

// List returns up to limit of a creditor's placements, in the order they were
// placed, from index from on, with the given status when status is not empty,
// and the index to continue from (-1 when there are no more).
func (m *Placements) List(creditor string, status domain.Status, from, limit int) ([]Placement, int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ids := m.byCreditor[creditor]
	out := []Placement{}
	i := max(from, 0)
	for ; i < len(ids) && len(out) < limit; i++ {
		ent := m.byID[ids[i]]
		if status != "" && ent.state.Status != status {
			continue
		}
		out = append(out, Render(ent.state, ent.revision))
	}
	if i >= len(ids) {
		return out, -1
	}
	return out, i
}

// IDs returns a creditor's placement ids in the order they were placed.
func (m *Placements) IDs(creditor string) []uuid.UUID {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]uuid.UUID(nil), m.byCreditor[creditor]...)
}

// Each calls f with every placement's folded state and revision.
func (m *Placements) Each(f func(id uuid.UUID, p domain.Placement, revision uint64)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for id, ent := range m.byID {
		f(id, ent.state, ent.revision)
	}
}

// Count returns how many placements the model holds.
func (m *Placements) Count() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.byID)
}

// Snapshot renders every placement, for comparing a live model with a
// rebuild.
func (m *Placements) Snapshot() map[uuid.UUID]Placement {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[uuid.UUID]Placement, len(m.byID))
	for id, ent := range m.byID {
		out[id] = Render(ent.state, ent.revision)
	}
	return out
}
