// Package domain is the placement (claim) aggregate: its commands, its events,
// the pure Decide and Evolve functions, money, and the domain's errors.
//
// Decide(state, command) returns the events a command produces, or a domain
// error; Evolve(state, event) applies one event. Both are pure: no I/O and no
// clock (the time arrives on the command), so every rule of API.md section 5
// lives here and is tested here, and replaying a stream always rebuilds the
// same state. The package imports no engine, no HTTP code and no client
// library; a test keeps it so.
//
// Money is decimal.Decimal beside its currency in commands and events, and
// Amount (the same exact value, in an int64 while it fits) in a claim's
// folded figures. Amounts are rounded in one place, RoundMoney, half-up to
// the currency's minor unit.
package domain
