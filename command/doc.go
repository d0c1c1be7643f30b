// Package command executes the ledger's commands: it loads a placement's
// stream, folds it, asks domain.Decide, and appends the decided events in one
// append with the stream's revision as the expected revision, retrying a
// bounded number of times when another writer got there first.
//
// Every change the API, bulk, the dashboard, the resumer and the retention
// reactor make to the ledger is a method of Handler. Besides the
// placements' commands, the handler seals debtors' personal data (HandOver,
// ChangeContact), records their reads in the access log
// (RecordPersonalDataRead), erases it (Erase) and configures webhooks. One
// error comes out: a refusal that nevertheless recorded events is a
// *Refused carrying what it recorded.
//
// It also keeps the promises that span more than one stream:
//
//   - a claim number is unique per creditor because it is reserved by
//     appending to a reservation stream with "no stream" expected, which only
//     one writer can win;
//   - an Idempotency-Key is written into the metadata of the events it
//     produced (with a hash of the request), so the index that answers repeats
//     is rebuilt from the log after a restart.
package command
