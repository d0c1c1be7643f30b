// Package down turns the ledger's OpenAPI 3.1 document into the OpenAPI
// 3.0 form the client generator (oapi-codegen) reads: the document is the
// source, this is a mechanical translation of the few 3.1 forms it uses.
package down

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Convert translates an OpenAPI 3.1 document to 3.0.3:
//   - type: [T, "null"] becomes type: T, nullable: true;
//   - type: [A, B] (two types) becomes oneOf: [{type: A}, {type: B}];
//   - oneOf: [X, {type: "null"}] becomes allOf: [X], nullable: true;
//   - a schema's examples list becomes its first example;
//   - a number is decoded as decimal.Decimal (x-go-type), never as a
//     binary float: money stays exact in the client too;
//   - an object of any shape (no properties), or a property of any type,
//     stays raw JSON (json.RawMessage), so nothing in it is decoded as a
//     float either.
func Convert(doc []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	if err := walk(&root); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString("# Generated from http/openapi.yaml by client/internal/down (make generate): do not edit.\n")
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	return out.Bytes(), enc.Close()
}

func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

func boolean(v bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(v)}
}

// get returns a mapping's value under key and its index; -1 when absent.
func get(m *yaml.Node, key string) (*yaml.Node, int) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1], i
		}
	}
	return nil, -1
}

func set(m *yaml.Node, key string, v *yaml.Node) {
	if _, i := get(m, key); i >= 0 {
		m.Content[i+1] = v
		return
	}
	m.Content = append(m.Content, str(key), v)
}

func remove(m *yaml.Node, key string) {
	if _, i := get(m, key); i >= 0 {
		m.Content = append(m.Content[:i], m.Content[i+2:]...)
	}
}

func isNullType(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	t, _ := get(n, "type")
	return t != nil && t.Kind == yaml.ScalarNode && t.Value == "null" && len(n.Content) == 2
}

// walk translates n and every node under it, children first (see Convert).
func walk(n *yaml.Node) error {
	for _, c := range n.Content {
		if err := walk(c); err != nil {
			return err
		}
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	if v, _ := get(n, "openapi"); v != nil && v.Kind == yaml.ScalarNode && v.Value == "3.1.0" {
		v.Value = "3.0.3"
	}
	if err := downTypeList(n); err != nil {
		return err
	}
	downNullableOneOf(n)
	setGoTypes(n)
	if ex, _ := get(n, "examples"); ex != nil && ex.Kind == yaml.SequenceNode && len(ex.Content) > 0 {
		remove(n, "examples")
		set(n, "example", ex.Content[0])
	}
	return nil
}

// downTypeList translates a schema's list of types: type: [T, "null"]
// becomes type: T, nullable: true, and two or more types other than "null"
// become a oneOf of one schema per type (translated in turn).
func downTypeList(n *yaml.Node) error {
	t, _ := get(n, "type")
	if t == nil || t.Kind != yaml.SequenceNode {
		return nil
	}
	var types []string
	nullable := false
	for _, x := range t.Content {
		if x.Value == "null" {
			nullable = true
		} else {
			types = append(types, x.Value)
		}
	}
	switch len(types) {
	case 1:
		set(n, "type", str(types[0]))
	default:
		remove(n, "type")
		alts := &yaml.Node{Kind: yaml.SequenceNode}
		for _, typ := range types {
			alts.Content = append(alts.Content, &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{str("type"), str(typ)}})
		}
		set(n, "oneOf", alts)
		if err := walk(alts); err != nil { // the new schemas are translated too
			return err
		}
	}
	if nullable {
		set(n, "nullable", boolean(true))
	}
	return nil
}

// downNullableOneOf translates a oneOf that admits null: oneOf: [X,
// {type: "null"}] becomes allOf: [X], nullable: true, and a oneOf of more
// schemas besides null keeps them and becomes nullable.
func downNullableOneOf(n *yaml.Node) {
	o, _ := get(n, "oneOf")
	if o == nil || o.Kind != yaml.SequenceNode {
		return
	}
	var rest []*yaml.Node
	nullable := false
	for _, x := range o.Content {
		if isNullType(x) {
			nullable = true
		} else {
			rest = append(rest, x)
		}
	}
	if nullable {
		remove(n, "oneOf")
		key := "oneOf"
		if len(rest) == 1 {
			key = "allOf"
		}
		set(n, key, &yaml.Node{Kind: yaml.SequenceNode, Content: rest})
		set(n, "nullable", boolean(true))
	}
}

// setGoTypes chooses the Go types the generator uses: decimal.Decimal for a
// number, and json.RawMessage for an object of any shape (no properties) and
// for each property of any type.
func setGoTypes(n *yaml.Node) {
	if t, _ := get(n, "type"); t != nil && t.Kind == yaml.ScalarNode && t.Value == "number" {
		set(n, "x-go-type", str("decimal.Decimal"))
		set(n, "x-go-type-import", &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{str("path"), str("github.com/shopspring/decimal")}})
	}
	if t, _ := get(n, "type"); t != nil && t.Kind == yaml.ScalarNode && t.Value == "object" {
		props, _ := get(n, "properties")
		extra, _ := get(n, "additionalProperties")
		if props == nil && extra == nil {
			set(n, "x-go-type", str("json.RawMessage")) // the generated code imports encoding/json itself
		}
	}
	if props, _ := get(n, "properties"); props != nil && props.Kind == yaml.MappingNode {
		for i := 1; i < len(props.Content); i += 2 {
			if p := props.Content[i]; p.Kind == yaml.MappingNode && anyType(p) {
				set(p, "x-go-type", str("json.RawMessage"))
			}
		}
	}
}

// anyType says whether a schema allows any JSON: no type, reference or
// composition.
func anyType(n *yaml.Node) bool {
	for _, k := range []string{"type", "$ref", "oneOf", "allOf", "anyOf", "items", "properties", "enum", "x-go-type"} {
		if v, _ := get(n, k); v != nil {
			return false
		}
	}
	return true
}
