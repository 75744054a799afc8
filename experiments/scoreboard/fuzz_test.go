package scoreboard

import (
	"errors"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// FuzzLoad: any input either loads into a board with a sweep, or is an
// *experiments.Error naming the file; it never panics.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("scenarios: [baseline]\nseeds: [1]\n"))
	f.Add([]byte("name: x\nscenarios: [gas-spike, heatwave]\nschemes: [coophive-apiary]\nroles: [both]\nlearner: dsr\nseeds: {count: 2, start: 5}\neval: {episodes: 3, seed: 1, baselines: [random]}\n"))
	f.Add([]byte("scenarios: [baseline]\nseeds: [1]\neval:\n  baselines: [budget]\nroles: [providers]\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("scenarios: [baseline, baseline]\n"))
	f.Add([]byte("base: /nonexistent.yaml\nscenarios: [baseline]\nseeds: [1]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if strings.Contains(string(in), "base") {
			return // a base is a file on disk: not this target's business
		}
		b, err := Load("f.yaml", in)
		if err != nil {
			var e *experiments.Error
			if !errors.As(err, &e) || e.File != "f.yaml" {
				t.Fatalf("error %v (%T) is not an *experiments.Error naming f.yaml", err, err)
			}
			return
		}
		if b.Sweep == nil || b.Sweep.NumRuns() != len(b.Cells())*len(b.Seeds) {
			t.Fatalf("board without its sweep: %+v", b)
		}
	})
}
