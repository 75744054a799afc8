package tournament

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// FuzzParse: any input either parses or fails with an *experiments.Error naming the
// file; nothing panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte(dominance))
	f.Add([]byte("providers:\n  - {name: a, strategy: cost-plus, params: {margin: 0.2}}\nclients:\n  - {name: b, strategy: budget}\n"))
	f.Add([]byte("providers: []\nclients: [{name: x, run: r, group: g}]\n"))
	f.Add([]byte("matchups: [mixed, head-to-head]\nrating: {bootstrap: 10, prior: 0.5}\nscenarios: [a]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file := filepath.Join(t.TempDir(), "f.yaml")
		_, err := Parse(file, src)
		if err == nil {
			return
		}
		var ce *experiments.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %v (%T) is not an *experiments.Error", err, err)
		}
	})
}
