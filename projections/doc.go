// Package projections turns the event log into everything the ledger serves.
//
// The Runner subscribes to $all from position 0 (the read models live in
// memory and are rebuilt on every start, which 1,000,000 events allow in a
// few seconds), applies each placement event to the read models and records
// the position it has applied. It reports itself ready once it has reached the
// head of the log as it was at start-up; ?minPosition= waits on its position.
//
// The placement resource, the transaction feed and the audit trail are each
// rendered by one pure function of a placement's events (Render, FeedItems,
// AuditItems): the command responses, the read model and a rebuild from 0 all
// go through them, so they cannot disagree, and feed item ids are derived from
// event ids, so a rebuild yields byte-identical items.
package projections
