//go:build race

package http_test

// underRace: the race detector slows the server about tenfold, so the
// longest concurrency tests run fewer rounds with it (and all of them
// without it).
const underRace = true
