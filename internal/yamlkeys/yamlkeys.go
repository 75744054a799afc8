// Package yamlkeys names the YAML keys of Go struct types as go.yaml.in/yaml/v3 decodes
// them, so that strict config decoding (package experiments) and sweep files (package
// experiments/sweep) agree on which keys exist and list the valid ones the same way.
package yamlkeys

import (
	"reflect"
	"slices"
	"strings"
)

// Fields maps the YAML keys of struct type t to their field types: the tag's name, or
// the lowercased field name when the tag has none; "-" fields are skipped and ",inline"
// struct fields are flattened into their parent.
func Fields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "inline") && f.Type.Kind() == reflect.Struct {
			for k, v := range Fields(f.Type) {
				m[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

// Names returns the keys of m in sorted order.
func Names(m map[string]reflect.Type) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
