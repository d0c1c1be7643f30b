// Package httpapi is the ledger's HTTP API on echo: the routes of API.md,
// authentication and tenancy, strict request decoding, one table that maps
// errors to application/problem+json, Idempotency-Key, If-Match,
// Ledger-Position and ?minPosition=, Prometheus metrics and the OpenAPI
// document.
//
// Handlers are thin: they decode strictly, call one command (package command)
// or one query (package projections), and encode.
package httpapi
