package command

// CachedForTest tells how many placements and claim owners h holds in
// memory.
func CachedForTest(h *Handler) (placements, owners int) {
	h.cacheMu.Lock()
	defer h.cacheMu.Unlock()
	return len(h.cache), len(h.owners)
}
