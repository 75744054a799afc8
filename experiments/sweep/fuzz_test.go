package sweep

import (
	"errors"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// FuzzSweepFile checks the sweep decoder on arbitrary input: it never panics, every
// error is an *experiments.Error with a message, and a sweep it accepts expands to
// NumRuns runs with distinct ids, indexes 0..n-1 and the seed in every resolved config.
func FuzzSweepFile(f *testing.F) {
	for _, s := range []string{
		grid2x2x3,
		"grid:\n  metrics.eta: [0.01, 2]\n",
		"grid:\n  world.locations[1].mean_usd_per_kwh: [0.01, 0.02]\nseeds: {count: 2, start: 5}\n",
		"random:\n  samples: 3\n  seed: 1\n  params:\n    world.eth.sigma: {uniform: [0.4, 0.9]}\n    metrics.mar: {log_uniform: [1e-6, 1e-3]}\n    world.hive.beta: {choices: [1, 2]}\n",
		"base:\n  seed: 4\n  world: {eth: {sigma: 0.5}}\ngrid:\n  world.eth.jumps: [{rate_per_year: 5}, {mean: 0}]\n",
		"grid:\n  world.tick: [5m, 1h]\n  world.start: [2024-01-01T00:00:00Z]\n",
		"grid: {}\n",
		"gird: 1\n",
		"grid:\n  world.nonsense: [1]\n",
		"grid:\n  metrics.eta: [abc]\n",
		"grid:\n  metrics.eta: &a [1]\n  metrics.mar: *a\n",
		"seeds: [1, -1]\ngrid:\n  metrics.eta: [0.1]\n",
		"name: \"\"\n",
		"- 1\n",
		"",
		"base: default.yaml\ngrid:\n  metrics.eta: [0.1]\n",
		"grid:\n  world.catalog: [[{model: x}]]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Load("fuzz.yaml", src)
		if err != nil {
			var ce *experiments.Error
			if !errors.As(err, &ce) || ce.Msg == "" || ce.File == "" {
				t.Fatalf("error %v (%T) is not a located *experiments.Error", err, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		n := s.NumRuns()
		if n < 1 || n > MaxRuns {
			t.Fatalf("NumRuns %d", n)
		}
		if n > 16 {
			return // expansion resolves a config per run; keep the fuzzer fast
		}
		runs := s.Runs(Shard{})
		if len(runs) != n {
			t.Fatalf("%d runs, NumRuns %d", len(runs), n)
		}
		ids := map[string]bool{}
		for i, r := range runs {
			if r.Index != i || ids[r.ID] || len(r.ID) != 16 {
				t.Fatalf("run %d: index %d id %q (dup %v)", i, r.Index, r.ID, ids[r.ID])
			}
			ids[r.ID] = true
			if r.Err == nil && r.Config.Seed != r.Seed {
				t.Fatalf("run %d: config seed %d, run seed %d", i, r.Config.Seed, r.Seed)
			}
		}
	})
}
