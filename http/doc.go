// Package http is the ledger's HTTP API on echo: the routes of API.md,
// authentication and tenancy, strict request decoding, one table that maps
// errors to application/problem+json, Idempotency-Key, If-Match,
// Ledger-Position and ?minPosition=, Prometheus metrics and the OpenAPI
// document.
//
// Handlers are thin: they decode strictly, call one command.Handler method
// through Server.run (metrics, idempotency, Ledger-Position and problem
// documents in one place) or one query (package projections), and encode.
// Nothing here appends to the log, seals personal data or erases it: the
// command handler does (see deps_test.go).
//
// The package is named as its directory; importers, which usually need
// net/http beside it, name it httpapi.
package http
