// Package projections turns the event log into everything the ledger serves.
//
// The views (Views) are a Pebble database of their own on disk, beside the
// event store (with KurrentDB, on each instance). The Runner subscribes to
// $all from the views' checkpoint, applies each event (placement events, and
// the webhook configurations and progress) to the read models, and commits
// each batch together with the position it reaches, in one atomic write: after
// a restart or a crash the views are exactly the log up to their checkpoint,
// and the runner goes on from there. Views built by another Version of this
// code are thrown away and rebuilt from position 0 (so is the whole log read
// by ledger rebuild, which builds new views beside the old, and by verify,
// which rebuilds into a temporary directory to compare). The runner reports
// itself ready once it has reached the head of the log as it was at start-up;
// ?minPosition= waits on its position.
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
