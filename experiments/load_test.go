package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if c.Seed != 1 || c.Metrics.Eta != 0.01 {
		t.Errorf("default config = %+v, want seed 1 and eta 0.01 as default.yaml says", c)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		path      string
		msg       string // substring
	}{
		{"unknown top-level key", "seed: 3\nsede: 4\n", 2, "sede", `unknown key "sede" at the top level`},
		{"unknown nested key", "seed: 3\nmetrics:\n  eta: 0.1\n  etaa: 0.2\n", 4, "metrics.etaa", `unknown key "etaa" in metrics (valid keys: eta, mar, risk_free)`},
		{"wrong type", "metrics:\n  eta: fast\n", 2, "metrics.eta", `want a number, got "fast"`},
		{"negative seed", "seed: -1\n", 1, "seed", `want a whole number from 0 to 18446744073709551615, got "-1"`},
		{"fractional integer", "env:\n  episode_ticks: 1.5\n", 2, "env.episode_ticks", `want a whole number`},
		{"list for a section", "seed: 1\nmetrics: [1]\n", 2, "metrics", "want a mapping of keys to values, got a list"},
		{"scalar for a list", "population: 3\n", 1, "population", `want a list, got "3"`},
		{"alias of a bad anchor", "population:\n  - &g {name: p, role: provider, kind: ppo, share: bad}\n  - *g\n  - *g\n", 2, "population[0].share", `want a number, got "bad"`},
		{"validation", "seed: 2\nmetrics:\n  eta: 1.5\n", 3, "metrics.eta", "must be in (0, 1), got 1.5"},
		{"dsr decides", "training:\n  dsr:\n    decides: prices\n", 3, "training.dsr.decides", `must be treasury or pricing, got "prices"`},
		{"dsr key beside the learner's", "training:\n  dsr:\n    eta: 0.1\n    explor: group\n", 4, "training.dsr.explor", `unknown key "explor" in training.dsr`},
		{"dsr group exploration of the treasury", "training:\n  dsr:\n    explore: group\n", 3, "training.dsr.explore", "group exploration is for decides: pricing"},
		{"dsr feature", "training:\n  dsr:\n    decides: pricing\n    features: [market_rel, free_gpus]\n", 4, "training.dsr.features[1]", `unknown observation feature "free_gpus"`},
		{"duplicate key", "seed: 1\nseed: 2\n", 2, "", "already defined"},
		{"syntax", "metrics: [1, 2\n", 0, "", "did not find expected"},
		{"not a mapping", "- 1\n- 2\n", 1, "", "must be a mapping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("f.yaml", []byte(c.src))
			if err == nil {
				t.Fatal("no error")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if ce.File != "f.yaml" || (c.line != 0 && ce.Line != c.line) || ce.Path != c.path {
				t.Errorf("got file %q line %d path %q, want f.yaml line %d path %q (%v)", ce.File, ce.Line, ce.Path, c.line, c.path, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not contain %q", err, c.msg)
			}
			if strings.Contains(err.Error(), "experiments.") {
				t.Errorf("error %q leaks a Go type name", err)
			}
		})
	}
}

func TestLoadOverridesOnlyGivenKeys(t *testing.T) {
	c, err := Load("f.yaml", []byte("metrics:\n  mar: 0.001\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Metrics.MAR = 0.001
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
	// Load (a source in memory) takes an empty one as the defaults; LoadFile refuses an
	// empty file (TestLoadFileEmptyAndHuge).
	for _, empty := range []string{"", "# only a comment\n", "~\n"} {
		c, err := Load("f.yaml", []byte(empty))
		if err != nil || !reflect.DeepEqual(c, DefaultConfig()) {
			t.Errorf("Load(%q) = %+v, %v; want the default", empty, c, err)
		}
	}
}

func TestLoadFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := LoadFile(path)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != path || !strings.Contains(ce.Msg, "no such file") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadFileRoundTripDefault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, DefaultYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(path)
	if err != nil || !reflect.DeepEqual(c, DefaultConfig()) {
		t.Fatalf("LoadFile(default) = %+v, %v", c, err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte("seed: 3\nmetrics:\n  eta: 0.5\n"))
	f.Add([]byte("metrics: {eta: 2}\n"))
	f.Add([]byte("a: [1, {b: c}]\n"))
	f.Add(DefaultYAML())
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Load("fuzz.yaml", src)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted an invalid config: %v", err)
		}
	})
}

// TestDefaultYAMLMatchesGoDefaults keeps default.yaml, the documented defaults, equal to
// the defaults each package declares in Go.
func TestDefaultYAMLMatchesGoDefaults(t *testing.T) {
	got := DefaultConfig()
	if want := data.DefaultConfig(); !reflect.DeepEqual(got.World, want) {
		t.Errorf("world section of default.yaml differs from data.DefaultConfig():\n yaml %+v\n   go %+v", got.World, want)
	}
	if want := scheme.DefaultConfig(); !reflect.DeepEqual(got.Scheme, want) {
		t.Errorf("scheme section of default.yaml differs from scheme.DefaultConfig():\n yaml %+v\n   go %+v", got.Scheme, want)
	}
	if want := market.DefaultEngineConfig(); !reflect.DeepEqual(got.Market, want) {
		t.Errorf("market section of default.yaml differs from market.DefaultEngineConfig():\n yaml %+v\n   go %+v", got.Market, want)
	}
	if want := env.DefaultConfig(); !reflect.DeepEqual(got.Env, want) {
		t.Errorf("env section of default.yaml differs from env.DefaultConfig():\n yaml %+v\n   go %+v", got.Env, want)
	}
	if want := DefaultTrainingConfig(); !reflect.DeepEqual(got.Training, want) {
		t.Errorf("training section of default.yaml differs from DefaultTrainingConfig():\n yaml %+v\n   go %+v", got.Training, want)
	}
	if want := agents.DefaultPopulation(); !reflect.DeepEqual(got.Population, want) {
		t.Errorf("population section of default.yaml differs from agents.DefaultPopulation():\n yaml %+v\n   go %+v", got.Population, want)
	}
}

func TestWorldValidationHasLine(t *testing.T) {
	_, err := Load("f.yaml", []byte("seed: 1\nworld:\n  eth:\n    sigma: -1\n"))
	var ce *Error
	if !errors.As(err, &ce) || ce.Line != 4 || ce.Path != "world.eth.sigma" {
		t.Fatalf("got %v, want f.yaml:4: world.eth.sigma: ...", err)
	}
}

// TestLoadErrorSaidOnce: a type error under an anchor used to come out once per alias,
// naming a Go type (agents.GroupConfig).
func TestLoadErrorSaidOnce(t *testing.T) {
	src := "x: &a notamap\npopulation: [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	_, err := Load("f.yaml", []byte("population: [&a notamap, *a, *a, *a, *a, *a]\n"))
	if err == nil || strings.Count(err.Error(), "\n") != 0 || strings.Contains(err.Error(), "agents.") {
		t.Errorf("Load = %v; want one line in the config's words", err)
	}
	if !strings.Contains(err.Error(), "f.yaml:1: population[0]: want a mapping of keys to values, got \"notamap\"") {
		t.Errorf("Load = %v", err)
	}
	if _, err := Load("f.yaml", []byte(src)); err == nil || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("Load = %v; want one line", err)
	}
}

func TestLoadFileEmptyAndHuge(t *testing.T) {
	dir := t.TempDir()
	for _, src := range []string{"", "# only a comment\n\n", "~\n"} {
		p := filepath.Join(dir, "empty.yaml")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(p)
		var ce *Error
		if !errors.As(err, &ce) || ce.File != p || !strings.Contains(ce.Msg, "empty") {
			t.Errorf("LoadFile(%q) = %v; want an *Error saying the file is empty", src, err)
		}
	}
	// A 10 MB key and a file over the cap: refused before decoding, naming the cap.
	p := filepath.Join(dir, "huge.yaml")
	big := strings.Repeat("k", 10<<20) + ": 1\n"
	if err := os.WriteFile(p, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(p)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != p || !strings.Contains(ce.Msg, "1024 KiB") {
		t.Errorf("LoadFile(10 MB key) = %v; want an *Error naming the 1024 KiB cap", err)
	}
	// Exactly at the cap is read (and then judged by its content).
	at := "seed: 1\n#" + strings.Repeat("x", MaxConfigBytes-len("seed: 1\n#")-1) + "\n"
	if err := os.WriteFile(p, []byte(at), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(p); err != nil {
		t.Errorf("LoadFile(%d bytes) = %v; want it read", len(at), err)
	}
}
