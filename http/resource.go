package http

import (
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/projections"
)

// resourceBufs are the buffers placement resources are written into.
var resourceBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// placementJSON answers with a placement resource as c.JSON does (the same
// bytes, a newline after them: see rawJSON), written by its own encoder into a pooled
// buffer rather than by reflection: every command on a placement answers
// with one. ?pretty (and echo's debug mode) keep c.JSON's indented form.
func placementJSON(c echo.Context, code int, r projections.PlacementResource) error {
	if _, pretty := c.QueryParams()["pretty"]; pretty || c.Echo().Debug {
		return c.JSON(code, r)
	}
	bp := resourceBufs.Get().(*[]byte)
	defer resourceBufs.Put(bp)
	b, ok := r.AppendJSON((*bp)[:0])
	if !ok {
		return c.JSON(code, r) // its error, as before
	}
	*bp = b
	return rawJSON(c, code, b)
}
