// Package journal is the ledger's log format: what every reader of the log
// and every writer of it agree on. The names of streams (names.go), the
// metadata every event carries (metadata.go), the hash chain that seals it
// (chain.go), the one decoder of placement records and the stream reader
// (record.go), the helpers that append the ledger's own chained events to
// streams that are not a placement's (system.go), and the store's format
// marker (format.go, format_store.go). Readers (projections, verify, export,
// reconcile, the webhook reactor) depend on it and never on command.
//
// The log has several writers, each on streams of its own kinds, and each
// appends chained events through this package with an explicit expected
// revision:
//
//   - package command: placements, claim number reservations, webhook
//     configurations and the access log record of a read of personal data
//     (Chain, AppendSystem);
//   - the webhook reactor (package webhook): each creditor's delivery
//     progress (AppendSystem);
//   - package lease: the lease that elects the instance running the
//     reactors (AppendAfter);
//   - package retention: a debtor's personal-data erasure (AppendSystem),
//     from its reactor and, through command.Handler.Erase, from the erasure
//     requests http serves;
//
// and the format marker (DeclareFormat: through EnsureFormat when a store is
// first written, and by ledger migrate) and the format 1 to 2 migration's
// copies (package migrate, CreateSystem).
//
// Stream names are built by one function per kind of stream and parsed by
// one function, ParseStream. A name is the kind, a '-', and the stream's
// parts separated by ':'. Kinds contain no '-', so the kind is everything
// before the first '-'; parts are percent-encoded (every byte outside
// A-Z a-z 0-9 . _ ~ -, so ':' and '%' too), so no part can contain the
// separator and no two (kind, parts) give the same name, whatever ids
// clients choose: creditor "acme" with claim "x-1" is claim-acme:x-1, and
// creditor "acme-x" with claim "1" is claim-acme-x:1.
//
// Stores written before format 2 named claim reservations
// "claimnumber-<creditor>-<claim>" and webhook configurations
// "webhook-<creditor>" beside a checkpoint stream "webhook-checkpoint",
// which was ambiguous. Such a store has no format marker; ledger serve
// refuses it and names the command that migrates it (ledger migrate).
package journal
