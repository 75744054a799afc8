package yamlkeys

import (
	"reflect"
	"testing"
)

type inner struct {
	A int `yaml:"a"`
	B int `yaml:"b,omitempty"`
}

type outer struct {
	X      int    `yaml:"x"`
	Skip   int    `yaml:"-"`
	NoTag  string // decoded as "notag"
	hidden int
	In     inner `yaml:",inline"`
	Nested inner `yaml:"nested"`
}

func TestFields(t *testing.T) {
	got := Fields(reflect.TypeFor[outer]())
	want := map[string]reflect.Type{
		"x":      reflect.TypeFor[int](),
		"notag":  reflect.TypeFor[string](),
		"a":      reflect.TypeFor[int](),
		"b":      reflect.TypeFor[int](),
		"nested": reflect.TypeFor[inner](),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fields = %v, want %v", got, want)
	}
	if names := Names(got); !reflect.DeepEqual(names, []string{"a", "b", "nested", "notag", "x"}) {
		t.Errorf("Names = %v", names)
	}
	_ = outer{}.hidden
}
