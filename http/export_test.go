package http

import "time"

// Hooks for the external tests (package http_test) into what no route
// shows: the session table and the clocks of sessions and sign-in limits.

// SessionCount is how many dashboard sessions the server holds.
func (s *Server) SessionCount() int { return s.sessions.count() }

// SetClock makes sessions and sign-in limits read now instead of the time.
// Call it before the server takes requests.
func (s *Server) SetClock(now func() time.Time) { s.sessions.now, s.signIns.now = now, now }

// SweepSessions runs the timer's sweep at once.
func (s *Server) SweepSessions() { s.sessions.sweep(s.sessions.now()) }
