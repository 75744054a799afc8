package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/rng"
)

func mustLoad(t *testing.T, src string) *Sweep {
	t.Helper()
	s, err := Load("s.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	badBase := filepath.Join(dir, "bad-base.yaml")
	if err := os.WriteFile(badBase, []byte("seed: 3\nmetrics:\n  etaa: 0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := "grid:\n"
	for _, k := range []string{"metrics.eta", "metrics.mar", "metrics.risk_free", "world.eth.sigma", "world.eth.drift"} {
		big += "  " + k + ": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]\n"
	}
	big += "seeds: {count: 2}\n"
	for _, tc := range []struct {
		name, src string
		file      string // default s.yaml
		line      int
		frags     []string
	}{
		{"unknown top key", "name: x\ngird:\n  metrics.eta: [0.1]\n", "", 2, []string{`unknown key "gird"`, "valid keys: base, grid, name, random, seeds"}},
		{"duplicate top key", "grid:\n  metrics.eta: [0.1]\ngrid:\n  metrics.mar: [0.1]\n", "", 3, []string{`"grid" appears twice`}},
		{"empty grid", "name: x\ngrid: {}\n", "", 2, []string{"grid", "empty grid"}},
		{"null grid", "name: x\ngrid:\nseeds: [1]\n", "", 2, []string{"grid", "empty grid"}},
		{"grid not a mapping", "grid: [1, 2]\n", "", 1, []string{"grid", "mapping"}},
		{"empty values", "grid:\n  metrics.eta: []\n", "", 2, []string{"metrics.eta", "empty list"}},
		{"values not a list", "grid:\n  metrics.eta: 0.1\n", "", 2, []string{"metrics.eta", "must be a list"}},
		{"key not in config", "grid:\n  metrics.eta: [0.1]\n  world.nonsense: [1]\n", "", 3, []string{"world.nonsense", `no key "nonsense"`, "not a config key"}},
		{"top key not in config", "grid:\n  sed: [1]\n", "", 2, []string{"sed", `the config has no key "sed"`}},
		{"key through a value", "grid:\n  metrics.eta.x: [1]\n", "", 2, []string{"metrics.eta.x", "is a value"}},
		{"bad key syntax", "grid:\n  world..eth: [1]\n", "", 2, []string{"world..eth", "dotted key"}},
		{"bad index", "grid:\n  world.locations[x].name: [a]\n", "", 2, []string{"bad list index"}},
		{"index out of range", "grid:\n  world.locations[20].name: [a]\n", "", 2, []string{"world.locations[20].name", "9 entries", "out of range"}},
		{"index on a non-list", "grid:\n  metrics[0].eta: [1]\n", "", 2, []string{"metrics[0].eta", "not a list"}},
		{"wrong type", "grid:\n  metrics.eta:\n    - 0.1\n    - abc\n", "", 4, []string{"metrics.eta", "cannot unmarshal", "abc"}},
		{"wrong type duration", "grid:\n  world.tick: [5m, 5x]\n", "", 2, []string{"world.tick", "5x"}},
		{"unknown key in a value", "grid:\n  world.eth:\n    - {sigma: 1}\n    - {sigma: 1, sigmaa: 2}\n", "", 4, []string{"world.eth.sigmaa", `unknown key "sigmaa"`}},
		{"duplicate value", "grid:\n  world.eth.sigma:\n    - 1\n    - 1.0\n", "", 4, []string{"world.eth.sigma", "appears twice", "line 3"}},
		{"seed in grid", "grid:\n  seed: [1, 2]\n", "", 2, []string{"seed", "seeds:"}},
		{"overlapping keys", "grid:\n  world.eth.sigma: [1]\n  world.eth: [{}]\n", "", 3, []string{"world.eth", "overlaps", "world.eth.sigma"}},
		{"no grid", "name: x\nseeds: [1]\n", "", 1, []string{"grid"}},
		{"bad name", "name: my sweep\ngrid:\n  metrics.eta: [0.1]\n", "", 1, []string{"name", "letters"}},
		{"not a mapping", "- a\n- b\n", "", 1, []string{"mapping"}},
		{"syntax error", "grid:\n  metrics.eta: [0.1\n", "", 0, []string{"s.yaml"}},
		{"alias", "grid:\n  metrics.eta: &a [0.1]\n  metrics.mar: *a\n", "", 2, []string{"anchors"}},
		{"empty seeds", "grid:\n  metrics.eta: [0.1]\nseeds: []\n", "", 3, []string{"seeds", "empty"}},
		{"negative seed", "grid:\n  metrics.eta: [0.1]\nseeds: [1, -2]\n", "", 3, []string{"seeds", `"-2"`}},
		{"duplicate seed", "grid:\n  metrics.eta: [0.1]\nseeds:\n  - 1\n  - 1\n", "", 5, []string{"seed 1 appears twice"}},
		{"seeds unknown key", "grid:\n  metrics.eta: [0.1]\nseeds: {count: 2, first: 1}\n", "", 3, []string{"seeds.first", `unknown key "first"`}},
		{"seeds count zero", "grid:\n  metrics.eta: [0.1]\nseeds: {count: 0}\n", "", 3, []string{"seeds.count"}},
		{"seeds count missing", "grid:\n  metrics.eta: [0.1]\nseeds: {start: 4}\n", "", 3, []string{"seeds.count", "missing"}},
		{"seeds overflow", "grid:\n  metrics.eta: [0.1]\nseeds: {count: 3, start: 18446744073709551614}\n", "", 3, []string{"overflows"}},
		{"random without samples", "random:\n  params:\n    metrics.eta: {uniform: [0.1, 0.2]}\n", "", 1, []string{"random.samples", "missing"}},
		{"random unknown key", "random:\n  samples: 2\n  draws: 3\n", "", 3, []string{"random.draws"}},
		{"random empty params", "random:\n  samples: 2\n  params: {}\n", "", 3, []string{"random.params"}},
		{"random unknown dist", "random:\n  samples: 2\n  params:\n    metrics.eta: {normal: [0, 1]}\n", "", 4, []string{"metrics.eta", "exactly one of"}},
		{"uniform on a string", "random:\n  samples: 2\n  params:\n    world.scenario.name: {uniform: [0, 1]}\n", "", 4, []string{"world.scenario.name", "not a real number"}},
		{"uniform bad bounds", "random:\n  samples: 2\n  params:\n    metrics.eta: {uniform: [0.5, 0.1]}\n", "", 4, []string{"lo < hi"}},
		{"log uniform at zero", "random:\n  samples: 2\n  params:\n    metrics.eta: {log_uniform: [0, 0.1]}\n", "", 4, []string{"lo > 0"}},
		{"choices wrong type", "random:\n  samples: 2\n  params:\n    world.window:\n      choices: [1, two]\n", "", 5, []string{"world.window", "two"}},
		{"random key also in grid", "grid:\n  metrics.eta: [0.1]\nrandom:\n  samples: 2\n  params:\n    metrics.eta: {uniform: [0.1, 0.2]}\n", "", 6, []string{"metrics.eta", "already swept", "line 2"}},
		{"base not a config", "base: [1, 2]\ngrid:\n  metrics.eta: [0.1]\n", "", 1, []string{"base", "mapping"}},
		{"base inline unknown key", "base:\n  metrics:\n    etaa: 1\ngrid:\n  metrics.mar: [0.1]\n", "", 3, []string{"metrics.etaa", `unknown key "etaa"`}},
		{"base inline wrong type", "base:\n  world:\n    window: many\ngrid:\n  metrics.mar: [0.1]\n", "", 3, []string{"many"}},
		{"base file missing", "base: nope.yaml\ngrid:\n  metrics.eta: [0.1]\n", "", 1, []string{"base", "nope.yaml"}},
		{"base file unknown key", "base: bad-base.yaml\ngrid:\n  metrics.mar: [0.1]\n", filepath.Join(dir, "s.yaml"), 3, []string{badBase, `unknown key "etaa"`}},
		{"base file is a directory", "base: .\ngrid:\n  metrics.eta: [0.1]\n", "", 1, []string{"regular file"}},
		{"too many runs", big, "", 1, []string{"more than 100000 runs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "s.yaml"
			}
			_, err := Load(file, []byte(tc.src))
			var ce *experiments.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err %v (%T), want *experiments.Error", err, err)
			}
			if tc.line != 0 && ce.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", ce.Line, tc.line, err)
			}
			for _, f := range tc.frags {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q lacks %q", err, f)
				}
			}
		})
	}
}

type point struct {
	eta      float64
	scenario string
	seed     uint64
}

func TestExpansionOrderAndConfigs(t *testing.T) {
	s := mustLoad(t, `name: order
grid:
  world.scenario.name: [gas-spike, baseline]
  metrics.eta: [0.05, 0.01]
seeds: [7, 3]
`)
	// Sorted keys (metrics.eta before world.scenario.name), the first outermost, values
	// in file order, seeds innermost.
	want := []point{
		{0.05, "gas-spike", 7}, {0.05, "gas-spike", 3}, {0.05, "baseline", 7}, {0.05, "baseline", 3},
		{0.01, "gas-spike", 7}, {0.01, "gas-spike", 3}, {0.01, "baseline", 7}, {0.01, "baseline", 3},
	}
	if s.NumRuns() != len(want) {
		t.Fatalf("NumRuns %d, want %d", s.NumRuns(), len(want))
	}
	if got := s.Keys(); !reflect.DeepEqual(got, []string{"metrics.eta", "world.scenario.name"}) {
		t.Fatalf("Keys %v", got)
	}
	runs := s.Runs(Shard{})
	if len(runs) != len(want) {
		t.Fatalf("%d runs, want %d", len(runs), len(want))
	}
	def := experiments.DefaultConfig()
	for i, r := range runs {
		w := want[i]
		if r.Err != nil {
			t.Fatalf("run %d: %v", i, r.Err)
		}
		c := r.Config
		if r.Index != i || c.Metrics.Eta != w.eta || c.World.Scenario.Name != w.scenario || c.Seed != w.seed || r.Seed != w.seed {
			t.Errorf("run %d = index %d eta %g scenario %q seed %d/%d, want %+v", i, r.Index, c.Metrics.Eta, c.World.Scenario.Name, c.Seed, r.Seed, w)
		}
		// Everything not swept keeps its default.
		c.Metrics.Eta, c.World.Scenario.Name, c.Seed = def.Metrics.Eta, def.World.Scenario.Name, def.Seed
		if !reflect.DeepEqual(c, def) {
			t.Errorf("run %d changed keys it does not sweep", i)
		}
	}
	r := runs[2]
	if r.Params != `{"metrics.eta":0.05,"world.scenario.name":"baseline"}` {
		t.Errorf("params %s", r.Params)
	}
	if r.Name != "eta=0.05,scenario.name=baseline,seed=7" {
		t.Errorf("name %q", r.Name)
	}
	// The resolved YAML is the config: it loads back to the same value.
	back, err := experiments.Load("back", []byte(r.ConfigYAML))
	if err != nil || !reflect.DeepEqual(back, r.Config) {
		t.Fatalf("ConfigYAML does not load back to Config: %v", err)
	}
}

func TestRunIDs(t *testing.T) {
	s := mustLoad(t, "name: ids\ngrid:\n  metrics.eta: [0.1, 0.2]\nseeds: {count: 3, start: 5}\n")
	runs := s.Runs(Shard{})
	seen := map[string]bool{}
	for _, r := range runs {
		// The definition in the package doc, computed here independently.
		h := sha256.Sum256([]byte("ids\x00" + r.Params + "\x00" + map[uint64]string{5: "5", 6: "6", 7: "7"}[r.Seed]))
		if want := hex.EncodeToString(h[:])[:16]; r.ID != want {
			t.Errorf("run %d id %s, want %s", r.Index, r.ID, want)
		}
		if seen[r.ID] {
			t.Errorf("duplicate id %s", r.ID)
		}
		seen[r.ID] = true
	}
	// A shard computes the same runs and ids as the whole sweep.
	for i := 0; i < 3; i++ {
		for _, r := range s.Runs(Shard{Index: i, Count: 3}) {
			if r.Index%3 != i || r.ID != runs[r.Index].ID || r.ConfigYAML != runs[r.Index].ConfigYAML {
				t.Errorf("shard %d/3 run %d differs from the whole sweep's", i, r.Index)
			}
		}
	}
	// A different name gives different ids; the same file gives the same ones.
	other := mustLoad(t, "name: ids2\ngrid:\n  metrics.eta: [0.1, 0.2]\nseeds: {count: 3, start: 5}\n")
	if other.Runs(Shard{})[0].ID == runs[0].ID {
		t.Error("the sweep name does not change the id")
	}
	again := mustLoad(t, "name: ids\ngrid:\n  metrics.eta: [0.1, 0.2]\nseeds: {count: 3, start: 5}\n")
	for i, r := range again.Runs(Shard{}) {
		if r.ID != runs[i].ID {
			t.Errorf("run %d: id %s then %s", i, runs[i].ID, r.ID)
		}
	}
}

func TestBase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), []byte("seed: 9\nworld:\n  eth:\n    sigma: 0.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"file":   "base: base.yaml\ngrid:\n  metrics.eta: [0.2]\n",
		"inline": "base:\n  seed: 9\n  world: {eth: {sigma: 0.5}}\ngrid:\n  metrics.eta: [0.2]\n",
	} {
		s, err := Load(filepath.Join(dir, "s.yaml"), []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(s.Seeds, []uint64{9}) {
			t.Errorf("%s: seeds %v, want the base's [9]", name, s.Seeds)
		}
		runs := s.Runs(Shard{})
		c := runs[0].Config
		if len(runs) != 1 || c.World.ETH.Sigma != 0.5 || c.Metrics.Eta != 0.2 || c.Seed != 9 {
			t.Errorf("%s: sigma %g eta %g seed %d", name, c.World.ETH.Sigma, c.Metrics.Eta, c.Seed)
		}
	}
	// Without a base or seeds, the default config's seed.
	s := mustLoad(t, "grid:\n  metrics.eta: [0.2]\n")
	if !reflect.DeepEqual(s.Seeds, []uint64{experiments.DefaultConfig().Seed}) {
		t.Errorf("default seeds %v", s.Seeds)
	}
	if s.Name != "s" {
		t.Errorf("default name %q, want the file's base name", s.Name)
	}
}

func TestListIndexKey(t *testing.T) {
	s := mustLoad(t, "grid:\n  world.locations[1].mean_usd_per_kwh: [0.01, 0.02]\n")
	def := experiments.DefaultConfig()
	for i, r := range s.Runs(Shard{}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		locs := r.Config.World.Locations
		if len(locs) != len(def.World.Locations) {
			t.Fatalf("run %d: %d locations, want %d", i, len(locs), len(def.World.Locations))
		}
		if want := []float64{0.01, 0.02}[i]; locs[1].MeanUSDPerKWh != want {
			t.Errorf("run %d: locations[1] mean %g, want %g", i, locs[1].MeanUSDPerKWh, want)
		}
		if !reflect.DeepEqual(locs[0], def.World.Locations[0]) || locs[1].Name != def.World.Locations[1].Name {
			t.Errorf("run %d: other location fields changed", i)
		}
	}
}

func TestInvalidCombinationIsTheRunsError(t *testing.T) {
	s := mustLoad(t, "grid:\n  metrics.eta: [0.5, 2]\n  world.scenario.name: [baseline, no-such-scenario]\n")
	runs := s.Runs(Shard{})
	if len(runs) != 4 {
		t.Fatalf("%d runs", len(runs))
	}
	wantErr := []string{"", "world.scenario.name", "metrics.eta: must be in (0, 1), got 2", "metrics.eta"}
	for i, r := range runs {
		switch {
		case wantErr[i] == "" && r.Err != nil:
			t.Errorf("run %d: unexpected error %v", i, r.Err)
		case wantErr[i] != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), wantErr[i])):
			t.Errorf("run %d: error %v, want one containing %q", i, r.Err, wantErr[i])
		case r.Err != nil && strings.Contains(r.Err.Error(), ".yaml:"):
			t.Errorf("run %d: error %q points into a generated file", i, r.Err)
		}
	}
}

func TestRandomSamples(t *testing.T) {
	src := `name: rnd
random:
  samples: 4
  seed: 3
  params:
    world.eth.sigma: {uniform: [0.4, 0.9]}
    metrics.mar: {log_uniform: [0.000001, 0.001]}
    world.hive.beta: {choices: [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]}
seeds: [1, 2]
`
	s := mustLoad(t, src)
	runs := s.Runs(Shard{})
	if len(runs) != 8 || s.NumRuns() != 8 {
		t.Fatalf("%d runs, NumRuns %d; want 8", len(runs), s.NumRuns())
	}
	// The reference: the stream "sweep/random" of seed 3, keys in sorted order
	// (metrics.mar, world.eth.sigma, world.hive.beta) within each sample.
	r := rng.New(3, "sweep/random")
	choices := []float64{1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5}
	for j := 0; j < 4; j++ {
		mar := math.Exp(math.Log(1e-6) + (math.Log(1e-3)-math.Log(1e-6))*r.Float64())
		sigma := 0.4 + 0.5*r.Float64()
		beta := choices[r.IntN(len(choices))]
		for k, seed := range []uint64{1, 2} {
			run := runs[2*j+k]
			c := run.Config
			if run.Err != nil || c.Metrics.MAR != mar || c.World.ETH.Sigma != sigma || c.World.HIVE.Beta != beta || c.Seed != seed {
				t.Errorf("sample %d seed %d: mar %g sigma %g beta %g seed %d (%v); want %g %g %g %d",
					j, seed, c.Metrics.MAR, c.World.ETH.Sigma, c.World.HIVE.Beta, c.Seed, run.Err, mar, sigma, beta, seed)
			}
		}
	}
	// Another random seed draws other values.
	s2 := mustLoad(t, strings.Replace(src, "seed: 3", "seed: 4", 1))
	if s2.Runs(Shard{})[0].Config.World.ETH.Sigma == runs[0].Config.World.ETH.Sigma {
		t.Error("random.seed does not change the draws")
	}
	// Samples that repeat an earlier one are dropped.
	s3 := mustLoad(t, "random:\n  samples: 20\n  params:\n    world.scenario.name: {choices: [baseline, gas-spike]}\n")
	got := map[string]bool{}
	for _, r := range s3.Runs(Shard{}) {
		if got[r.Params] {
			t.Errorf("params %s twice", r.Params)
		}
		got[r.Params] = true
	}
	if len(got) != 2 || s3.NumRuns() != 2 {
		t.Errorf("%d distinct samples (NumRuns %d), want 2", len(got), s3.NumRuns())
	}
}

func TestShortNames(t *testing.T) {
	got := shortNames([]string{"metrics.eta", "world.eth.sigma", "world.hive.sigma", "world.scenario.name", "x.seed"})
	want := map[string]string{"metrics.eta": "eta", "world.eth.sigma": "eth.sigma", "world.hive.sigma": "hive.sigma",
		"world.scenario.name": "scenario.name", "x.seed": "x.seed"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("shortNames = %v, want %v", got, want)
	}
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"0/1": {0, 1}, "3/4": {3, 4}, "0/2": {0, 2}} {
		got, err := ParseShard(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseShard(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "1", "2/2", "-1/2", "1/0", "a/b", "1/2/3", " 1/2"} {
		if _, err := ParseShard(in); err == nil {
			t.Errorf("ParseShard(%q) accepted", in)
		}
	}
	s := Shard{Index: 1, Count: 3}
	for i, want := range []bool{false, true, false, false, true} {
		if s.Has(i) != want {
			t.Errorf("1/3 Has(%d) = %v", i, !want)
		}
	}
	if !(Shard{}).Has(5) || (Shard{}).String() != "" {
		t.Error("the zero shard must select everything")
	}
}

func TestExampleSweeps(t *testing.T) {
	for file, want := range map[string]int{"scenarios.yaml": 12, "volatility.yaml": 24} {
		s, err := LoadFile(filepath.Join("..", "..", "examples", "sweeps", file))
		if err != nil {
			t.Fatal(err)
		}
		runs := s.Runs(Shard{})
		if s.NumRuns() != want || len(runs) != want {
			t.Fatalf("%s: %d runs (NumRuns %d), want %d", file, len(runs), s.NumRuns(), want)
		}
		for _, r := range runs {
			if r.Err != nil {
				t.Errorf("%s run %d: %v", file, r.Index, r.Err)
			}
		}
	}
}
