// Package kurrent is the event-store engine for KurrentDB (formerly
// EventStoreDB), for ledgers that outgrow one machine. It speaks to a server
// or cluster through the official client, github.com/EventStore/EventStore-Client-Go/v4.
//
// # Mapping
//
//   - Connection strings: esdb://, esdb+discover://, and the kurrentdb:// and
//     kurrentdb+discover:// schemes of current KurrentDB documentation, which
//     are rewritten to the esdb schemes the v4 client parses.
//   - Expected revision: always passed explicitly (Any, NoStream or an exact
//     revision); the client would turn a nil option into Any.
//   - Errors: translated on the raw error the client returned, with
//     errors.As (esdb.FromError reports ok == true only for a nil error, and
//     the client wraps some errors itself): WrongExpectedVersion →
//     ErrConcurrency, ResourceNotFound → ErrStreamNotFound, connection closed
//     → ErrClosed, deadline → context.DeadlineExceeded, everything else (server
//     unavailable, not leader, aborted, authentication) → ErrUnavailable.
//   - Positions: see fromPosition, the one function that turns a KurrentDB
//     (commit, prepare) pair into a ledger Position. Positions increase along
//     $all but are log offsets, not dense numbers.
//   - KurrentDB's own events (system streams and event types starting with
//     '$') are filtered out of reads and, on the server, out of subscriptions;
//     the ledger refuses such names for its own events.
//
// # When the connection drops
//
// An append in flight fails with ErrUnavailable and its outcome is unknown;
// retrying it with the same event IDs and expected revision is safe, because
// KurrentDB recognises the repeat and answers with the first result. A read
// fails with ErrUnavailable. A subscription does not end: it subscribes again
// from the last position it delivered, with exponential backoff from 100 ms to
// 5 s, until its context ends or it is closed, so its reader sees every event
// once and in order across the drop. The client itself reconnects (and
// follows the cluster's leader) for the calls that come after.
package kurrent
