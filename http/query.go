package http

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	"github.com/collections-ledger/ledger/domain"
)

// Query parameters on /v1 (docs/API.md, "Query parameters"): a route takes
// the query parameters its operation in openapi.yaml declares and no other;
// an unknown one is 400 unknown_query_parameter, and one given twice that
// is not an array is 400 repeated_query_parameter. The table is read from
// the embedded OpenAPI document, so the document and the server cannot
// disagree; checkQuery enforces it for every /v1 route, before any handler.

// queryRule is what one route takes in its query string.
type queryRule struct {
	names []string        // sorted, for messages
	multi map[string]bool // the array parameters, which may repeat
}

func (r queryRule) allows(name string) bool { _, ok := slices.BinarySearch(r.names, name); return ok }

// openAPIPathParam is a path parameter as OpenAPI writes it ({id}).
var openAPIPathParam = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// queryRules maps "METHOD /echo/:path" of every operation in the OpenAPI
// document to its query parameters. The document is embedded: one that
// cannot be read is a broken build, and a test reads it.
var queryRules = sync.OnceValue(func() map[string]queryRule {
	rules, err := parseQueryRules(openAPI)
	if err != nil {
		panic("http: openapi.yaml: " + err.Error())
	}
	return rules
})

type openAPIParameter struct {
	Ref    string `yaml:"$ref"`
	Name   string `yaml:"name"`
	In     string `yaml:"in"`
	Schema struct {
		Type string `yaml:"type"`
	} `yaml:"schema"`
}

func parseQueryRules(doc []byte) (map[string]queryRule, error) {
	var d struct {
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components struct {
			Parameters map[string]openAPIParameter `yaml:"parameters"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	rules := map[string]queryRule{}
	for path, ops := range d.Paths {
		route := openAPIPathParam.ReplaceAllString(path, ":$1")
		for method, node := range ops {
			if !slices.Contains([]string{"get", "put", "post", "delete", "patch", "head", "options"}, method) {
				continue // a path item's summary or shared parameters
			}
			var op struct {
				Parameters []openAPIParameter `yaml:"parameters"`
			}
			if err := node.Decode(&op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			rule := queryRule{multi: map[string]bool{}}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					name := strings.TrimPrefix(p.Ref, "#/components/parameters/")
					resolved, ok := d.Components.Parameters[name]
					if !ok {
						return nil, fmt.Errorf("%s %s: no parameter %s", method, path, p.Ref)
					}
					p = resolved
				}
				if p.In != "query" {
					continue
				}
				rule.names = append(rule.names, p.Name)
				rule.multi[p.Name] = p.Schema.Type == "array"
			}
			slices.Sort(rule.names)
			rules[strings.ToUpper(method)+" "+route] = rule
		}
	}
	return rules, nil
}

// checkQuery refuses, on /v1, a query parameter the route does not declare
// and a repeated one that is not an array, naming each. The dashboard and
// the operational routes (/healthz, /metrics…) are not /v1: their query
// strings are theirs.
func (s *Server) checkQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !strings.HasPrefix(c.Path(), "/v1/") || c.Request().URL.RawQuery == "" {
			return next(c)
		}
		rule, routed := queryRules()[c.Request().Method+" "+c.Path()]
		if !routed {
			return next(c) // not a route: the router answers 404 or 405
		}
		q := c.QueryParams()
		names := make([]string, 0, len(q))
		for name := range q {
			names = append(names, name)
		}
		slices.Sort(names)
		var unknown, repeated []domain.FieldError
		for _, name := range names {
			switch {
			case !rule.allows(name):
				unknown = append(unknown, domain.FieldError{Field: name, Message: "is not a query parameter of this route"})
			case len(q[name]) > 1 && !rule.multi[name]:
				repeated = append(repeated, domain.FieldError{Field: name, Message: fmt.Sprintf("is given %d times; give it once", len(q[name]))})
			}
		}
		if len(unknown) > 0 {
			takes := "no query parameters"
			if len(rule.names) > 0 {
				takes = "only " + strings.Join(rule.names, ", ")
			}
			return newError(http.StatusBadRequest, "unknown_query_parameter",
				fmt.Sprintf("unknown query parameter %s: this route takes %s", unknown[0].Field, takes), unknown...)
		}
		if len(repeated) > 0 {
			return newError(http.StatusBadRequest, "repeated_query_parameter",
				fmt.Sprintf("query parameter %s is given more than once", repeated[0].Field), repeated...)
		}
		return next(c)
	}
}
