// Package projections turns the event log into everything the ledger serves.
//
// The views (Views) are a Pebble database of their own on disk, beside the
// event store (with KurrentDB, on each instance). The Runner subscribes to
// $all from the views' checkpoint, applies each event (placement events, and
// the webhook configurations and progress) to the read models, and commits
// each batch together with the position it reaches, in one atomic write: after
// a restart or a crash the views are exactly the log up to their checkpoint,
// and the runner goes on from there. The read models are units (Unit), each
// with its tables, in a generation of its own, and its version: the tables
// of a unit another version of this code built are rebuilt from position 0
// in the background, into a new generation swapped in at once when it has
// caught up, while the views keep serving the current one (ledger rebuild
// does the same on a stopped instance, or, with -all, reads the whole log
// into new views beside the old, as verify does into a temporary directory
// to compare). The runner reports itself ready once it has reached the head
// of the log as it was at start-up; ?minPosition= waits on its position.
//
// The same store holds the command side's indexes (idempotency keys,
// placement states, processed payment and credit waiver numbers), written in
// the same batches; package command reaches them only through WriteIndex.
//
// The placement resource, the transaction feed and the audit trail are each
// rendered by one pure function of a placement's events (Render, FeedItems,
// AuditItems): the command responses, the read model and a rebuild from 0 all
// go through them, so they cannot disagree, and feed item ids are derived from
// event ids, so a rebuild yields byte-identical items.
package projections
