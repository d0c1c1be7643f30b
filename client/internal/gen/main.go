// Command gen writes client/openapi-3.0.yaml from http/openapi.yaml (see
// package down); make generate then runs oapi-codegen on it.
package main

import (
	"fmt"
	"os"

	"github.com/collections-ledger/ledger/client/internal/down"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen http/openapi.yaml client/openapi-3.0.yaml")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err == nil {
		var out []byte
		if out, err = down.Convert(in); err == nil {
			err = os.WriteFile(os.Args[2], out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
