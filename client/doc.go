// Package client is a typed Go client of the ledger's HTTP API, generated
// with oapi-codegen from the OpenAPI document the server serves
// (http/openapi.yaml, translated to OpenAPI 3.0 in openapi-3.0.yaml by
// client/internal/down). Amounts are decimal.Decimal, never binary floats.
// Regenerate with `make generate`; a test fails when the committed code is
// not what the document generates.
//
//	c, _ := client.NewClientWithResponses("http://localhost:8080", client.WithRequestEditorFn(
//		func(_ context.Context, r *http.Request) error { r.Header.Set("Authorization", "Bearer "+key); return nil }))
//	resp, _ := c.GetPlacementWithResponse(ctx, id, nil)
//	fmt.Println(resp.JSON200.OutstandingAmount)
package client

//go:generate go run ./internal/gen ../http/openapi.yaml openapi-3.0.yaml
//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi-3.0.yaml
