// Package eventstore defines the one interface every event-store engine of the
// ledger implements, the records it stores, and the sentinel errors callers
// match with errors.Is.
//
// The package holds no backend code. The engines live in sub-packages:
// embedded (Pebble, the default: one directory on disk, nothing to install),
// postgres (PostgreSQL through pgx, for several ledger processes on one
// database) and kurrent (KurrentDB through the official v4 client). One
// contract suite, storetest.Run, is run against each, so the ledger can move from one engine to
// the other without its behaviour changing.
//
// The promises every engine keeps:
//
//   - Nothing acknowledged is ever lost: Append returns only after its events
//     are durable.
//   - Two writers that expect the same stream revision never both win: the
//     expected revision is always explicit (the zero ExpectedRevision is
//     refused, so "any" is never a silent default).
//   - $all is one total order: positions strictly increase, and an event
//     that a reader has not seen can never appear behind one it has, so a
//     projection can stop anywhere and resume exactly where it stopped.
//   - An append is atomic: all of its events are visible or none are.
package eventstore
