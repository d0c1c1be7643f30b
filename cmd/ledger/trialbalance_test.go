package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTrialBalanceCommand(t *testing.T) {
	dir := reconcileStore(t)
	env := func(string) string { return "" }
	tests := map[string]struct {
		args []string
		code int
		want []string
	}{
		"OK_every_creditor": {args: []string{"-asOf", "2024-04-01"}, want: []string{
			"acme,claim/CL-0/principal/I1,EUR,100,20,80\n", "acme,creditor/placed,EUR,0,200,-200\n", "acme,creditor/collected,EUR,40,0,40\n",
			"acme,creditor/fees,EUR,8,0,8\n", "acme,agency/fees,EUR,0,8,-8\n", ",TOTAL,EUR,248,248,0\n"}},
		"OK_booking_basis_before_anything": {args: []string{"-creditor", "acme", "-asOf", "2024-03-31", "-basis", "booking"}, want: []string{"creditorId,account,currency,debit,credit,balance\n"}},
		"Err_basis":                        {args: []string{"-basis", "cash"}, code: 2},
		"Err_asOf":                         {args: []string{"-asOf", "yesterday"}, code: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out, errOut syncBuffer
			code := run(context.Background(), append([]string{"trial-balance", "-LEDGER_STORE", dir}, tc.args...), env, &out, &errOut)
			assert.Equal(t, tc.code, code, "%s %s", out.String(), errOut.String())
			for _, w := range tc.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}
