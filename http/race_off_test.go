//go:build !race

package httpapi_test

// underRace: see race_on_test.go.
const underRace = false
