package sweep

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/jsonfloat"
	"github.com/hivegym/hivegym/internal/yamlkeys"
	"go.yaml.in/yaml/v3"
)

var configType = reflect.TypeFor[experiments.Config]()

// seg is one step of a dotted key: a mapping key, then zero or more list indexes
// ("locations[2]" is {locations, [2]}).
type seg struct {
	name string
	idx  []int
}

// parseKey splits a dotted config key such as "world.locations[0].ou.sigma".
func parseKey(key string) ([]seg, error) {
	var out []seg
	for part := range strings.SplitSeq(key, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" || strings.ContainsAny(name, "] \t") {
			return nil, fmt.Errorf("%q is not a dotted key such as world.scenario.name", key)
		}
		s := seg{name: name}
		if rest != "" || strings.Contains(part, "[") {
			rest = "[" + rest
			for rest != "" {
				if rest[0] != '[' {
					return nil, fmt.Errorf("%q: bad list index in %q", key, part)
				}
				end := strings.IndexByte(rest, ']')
				if end < 2 || end > 7 {
					return nil, fmt.Errorf("%q: bad list index in %q", key, part)
				}
				i, err := strconv.Atoi(rest[1:end])
				if err != nil || i < 0 || rest[1] == '+' || rest[1] == '-' {
					return nil, fmt.Errorf("%q: bad list index in %q", key, part)
				}
				s.idx = append(s.idx, i)
				rest = rest[end+1:]
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func isUnmarshaler(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]())
}

// fieldType walks experiments.Config along path by its yaml tags and returns the type
// of the value there.
func fieldType(path []seg) (reflect.Type, error) {
	t, where := configType, ""
	for _, s := range path {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case where != "" && isUnmarshaler(t):
			return nil, fmt.Errorf("%s is set as a whole; it has no keys inside", where)
		case t.Kind() == reflect.Struct:
			fields := yamlkeys.Fields(t)
			f, ok := fields[s.name]
			if !ok {
				in := "the config"
				if where != "" {
					in = where
				}
				return nil, fmt.Errorf("%s has no key %q (valid keys: %s)", in, s.name, strings.Join(yamlkeys.Names(fields), ", "))
			}
			t = f
		case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
			t = t.Elem()
		default:
			return nil, fmt.Errorf("%s is a value, not a section with keys", where)
		}
		where = join(where, s.name)
		for _, i := range s.idx {
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil, fmt.Errorf("%s is not a list", where)
			}
			t = t.Elem()
			where += fmt.Sprintf("[%d]", i)
		}
	}
	return t, nil
}

// applicable checks that every list index on path exists in the base document (a
// missing mapping key is fine: setPath creates it).
func applicable(base *yaml.Node, path []seg) error {
	n, where := base, ""
	for _, s := range path {
		where = join(where, s.name)
		n = lookup(n, s.name)
		if n == nil {
			if len(s.idx) > 0 {
				return fmt.Errorf("%s is not a list in the base config, so it cannot be indexed", where)
			}
			return nil
		}
		for _, i := range s.idx {
			if n.Kind != yaml.SequenceNode {
				return fmt.Errorf("%s is not a list in the base config, so it cannot be indexed", where)
			}
			if i >= len(n.Content) {
				return fmt.Errorf("%s has %d entries in the base config; index %d is out of range", where, len(n.Content), i)
			}
			n = n.Content[i]
			where += fmt.Sprintf("[%d]", i)
		}
	}
	return nil
}

// setPath replaces the value at path in the mapping root by a copy of v, creating
// mapping keys on the way (a value in the way that is not a mapping becomes one).
func setPath(root *yaml.Node, path []seg, v *yaml.Node) error {
	n := root
	for si, s := range path {
		last := si == len(path)-1
		if n.Kind != yaml.MappingNode {
			*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		var child *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == s.name {
				child = n.Content[i+1]
			}
		}
		if child == nil {
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.name}, child)
		}
		if last && len(s.idx) == 0 {
			*child = *deepCopy(v)
			return nil
		}
		n = child
		for ii, i := range s.idx {
			if n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return fmt.Errorf("list index %d out of range at %q", i, s.name)
			}
			if last && ii == len(s.idx)-1 {
				n.Content[i] = deepCopy(v)
				return nil
			}
			n = n.Content[i]
		}
	}
	return nil
}

// overlay returns a copy of dst with src laid over it the way decoding src over dst's
// decoded value behaves: two mappings merge key by key, anything else is replaced.
func overlay(dst, src *yaml.Node) *yaml.Node {
	if dst == nil || dst.Kind != yaml.MappingNode || src.Kind != yaml.MappingNode {
		return deepCopy(src)
	}
	out := deepCopy(dst)
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], src.Content[i+1]
		found := false
		for j := 0; j+1 < len(out.Content); j += 2 {
			if out.Content[j].Value == k.Value {
				out.Content[j+1] = overlay(out.Content[j+1], v)
				found = true
				break
			}
		}
		if !found {
			out.Content = append(out.Content, deepCopy(k), deepCopy(v))
		}
	}
	return out
}

func deepCopy(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, x := range n.Content {
			c.Content[i] = deepCopy(x)
		}
	}
	return &c
}

// canonJSON renders a YAML value as canonical JSON: mapping keys sorted, numbers in the
// shortest form that reads back to the same value (an integral float is written like an
// integer, so 1 and 1.0 are the same value), NaN and infinities as the strings "NaN",
// "+Inf", "-Inf", timestamps in RFC 3339.
func canonJSON(n *yaml.Node) (string, error) {
	var b strings.Builder
	if err := writeCanon(&b, n); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeCanon(b *strings.Builder, n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return yamlError("", n.Line, err)
		}
		return writeScalar(b, v)
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanon(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case yaml.MappingNode:
		type kv struct {
			k string
			v *yaml.Node
		}
		var kvs []kv
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Kind != yaml.ScalarNode {
				return errors.New("mapping keys must be plain values")
			}
			kvs = append(kvs, kv{n.Content[i].Value, n.Content[i+1]})
		}
		slices.SortStableFunc(kvs, func(a, b kv) int { return strings.Compare(a.k, b.k) })
		b.WriteByte('{')
		for i, e := range kvs {
			if i > 0 {
				if e.k == kvs[i-1].k {
					return fmt.Errorf("key %q appears twice", e.k)
				}
				b.WriteByte(',')
			}
			writeString(b, e.k)
			b.WriteByte(':')
			if err := writeCanon(b, e.v); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
	return errors.New("YAML anchors and aliases are not supported in sweep files")
}

func writeScalar(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(v, 10))
	case float64:
		s, nonFinite := jsonfloat.NonFinite(v)
		switch {
		case nonFinite:
			b.WriteString(`"` + s + `"`)
		case v == 0:
			b.WriteString("0") // -0 and 0 decode to the same config
		default:
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
	case string:
		writeString(b, v)
	case time.Time:
		writeString(b, v.UTC().Format(time.RFC3339Nano))
	case []byte:
		writeString(b, base64.StdEncoding.EncodeToString(v))
	default:
		return fmt.Errorf("unsupported value %v", v)
	}
	return nil
}

func writeString(b *strings.Builder, s string) {
	j, _ := json.Marshal(s) // a string always marshals
	b.Write(j)
}
