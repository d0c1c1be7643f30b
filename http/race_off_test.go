//go:build !race

package http_test

// underRace: see race_on_test.go.
const underRace = false
