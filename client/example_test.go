package client_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/client"
)

// A placement's outstanding amount, with the creditor key in LEDGER_KEY (the
// README shows these lines).
func ExampleNewClientWithResponses() {
	c, err := client.NewClientWithResponses("http://localhost:8080", client.WithRequestEditorFn(
		func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+os.Getenv("LEDGER_KEY"))
			return nil
		}))
	if err != nil {
		panic(err)
	}
	id := uuid.MustParse("3fa85f64-5717-4562-b3fc-2c963f66afa6")
	resp, err := c.GetPlacementWithResponse(context.Background(), id, nil)
	if err == nil && resp.JSON200 != nil {
		fmt.Println(resp.JSON200.ClaimNumber, resp.JSON200.OutstandingAmount, resp.JSON200.Currency)
	}
}
