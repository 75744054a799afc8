package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad input found by throwing files and flags at the commands: each must exit 2 with one
// line naming the file (and the line and key where there is one), never a stack trace.

func TestReplayDirectoryIsBadInput(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "replay", dir)
	wantOneErrorLine(t, code, stdout, stderr, dir, "directory")
	arr := writeFile(t, "arr.jsonl", "[1, 2]\n")
	code, stdout, stderr = runCLI(t, "replay", arr)
	wantOneErrorLine(t, code, stdout, stderr, arr+":1:", "not a trace", "array")
}

// TestSimulateScenarioOverrideLocatesTheKey: with --scenario the config is validated
// again; its problems used to come out as "world.world.scenario..." without a line.
func TestSimulateScenarioOverrideLocatesTheKey(t *testing.T) {
	p := writeFile(t, "c.yaml", "seed: 1\nworld:\n  scenario:\n    heatwave: {location: nowhere}\n")
	code, stdout, stderr := runCLI(t, "simulate", "-c", p, "--scenario", "heatwave", "--ticks", "2")
	wantOneErrorLine(t, code, stdout, stderr, p+":4: world.scenario.heatwave.location", "nowhere")
	if strings.Contains(stderr, "world.world") {
		t.Errorf("doubled prefix: %q", stderr)
	}
	p = writeFile(t, "s.yaml", "world:\n  scenario:\n    demand_surge: {multiplier: 1e9}\n")
	code, stdout, stderr = runCLI(t, "simulate", "-c", p, "--scenario", "demand-surge", "--ticks", "2")
	wantOneErrorLine(t, code, stdout, stderr, p+":3: world.scenario.demand_surge.multiplier")
}

// TestRunawayScenarioKnobsAreBadConfig: a churn rate or demand multiplier of 1e12 used
// to pass validation and then exhaust memory within a few ticks.
func TestRunawayScenarioKnobsAreBadConfig(t *testing.T) {
	for _, tc := range []struct{ key, line string }{
		{"provider_churn_per_day", "world:\n  market:\n    provider_churn_per_day: 1e12\n"},
		{"demand_multiplier", "world:\n  market:\n    demand_multiplier: 1e12\n"},
	} {
		p := writeFile(t, "c.yaml", tc.line)
		code, stdout, stderr := runCLI(t, "config", "validate", p)
		wantOneErrorLine(t, code, stdout, stderr, p+":3: world.market."+tc.key)
		code, stdout, stderr = runCLI(t, "simulate", "-c", p, "--ticks", "2")
		wantOneErrorLine(t, code, stdout, stderr, p+":3: world.market."+tc.key)
	}
}

// TestUnwritableOutputIsBadInput: an output path that cannot be created is a bad flag
// (exit 2, one line naming it), not a failed run; series used to log first and exit 1.
func TestUnwritableOutputIsBadInput(t *testing.T) {
	file := writeFile(t, "a-file", "x")
	code, stdout, stderr := runCLI(t, "series", "--ticks", "3", "--plots=false", "--out", file)
	wantOneErrorLine(t, code, stdout, stderr, file, "not a directory")

	sw := writeFile(t, "sw.yaml", "name: s\ngrid:\n  metrics.eta: [0.1]\nseeds: [1]\n")
	code, stdout, stderr = runCLI(t, "sweep", "-c", sw, "--out", file)
	wantOneErrorLine(t, code, stdout, stderr, file, "not a directory")

	out, ids := smallStore(t)
	dir := t.TempDir()
	code, stdout, stderr = runCLI(t, "runs", "export", ids[0], "--store", out, "--out", dir)
	wantOneErrorLine(t, code, stdout, stderr, dir, "is a directory")
	code, stdout, stderr = runCLI(t, "runs", "merge", "--out", filepath.Join(file, "m.db"), out)
	wantOneErrorLine(t, code, stdout, stderr, file, "not a directory")
	code, stdout, stderr = runCLI(t, "report", "--store", out, "--out", file)
	wantOneErrorLine(t, code, stdout, stderr, file, "not a directory")
}

// TestRunsListDoesNotConvertFiles: an empty file given as --store is refused and stays
// empty (it used to be migrated into a store by a listing).
func TestRunsListDoesNotConvertFiles(t *testing.T) {
	empty := writeFile(t, "empty.db", "")
	code, stdout, stderr := runCLI(t, "runs", "list", "--store", empty)
	wantOneErrorLine(t, code, stdout, stderr, empty, "not a hivegym run store")
	if b, err := os.ReadFile(empty); err != nil || len(b) != 0 {
		t.Fatalf("the file has %d bytes now (%v)", len(b), err)
	}
}

// TestConfigOneDocument: a second YAML document in a config is an error at its line.
func TestConfigOneDocument(t *testing.T) {
	p := writeFile(t, "c.yaml", "seed: 1\n---\nseed: 2\n")
	code, stdout, stderr := runCLI(t, "config", "validate", p)
	wantOneErrorLine(t, code, stdout, stderr, p+":2:", "one YAML document")
}

// TestSeedsTicksAndEmptyConfig: `--seed -1` printed strconv's message, `seed: -1` named
// no key, `simulate --ticks 0` ran the default length silently, and an empty config
// validated "ok" and ran the defaults.
func TestSeedsTicksAndEmptyConfig(t *testing.T) {
	for _, cmd := range []string{"simulate", "series", "train", "eval"} {
		args := []string{cmd, "--seed", "-1"}
		if cmd == "eval" {
			args = append(args, t.TempDir())
		}
		code, stdout, stderr := runCLI(t, args...)
		wantOneErrorLine(t, code, stdout, stderr, `"--seed"`, "a seed is a whole number from 0 to")
		if strings.Contains(stderr, "strconv") {
			t.Errorf("%s: %q leaks strconv", cmd, stderr)
		}
	}
	p := writeFile(t, "s.yaml", "seed: -1\n")
	code, stdout, stderr := runCLI(t, "config", "validate", p)
	wantOneErrorLine(t, code, stdout, stderr, p+":1: seed: want a whole number from 0 to")

	code, stdout, stderr = runCLI(t, "simulate", "--ticks", "0")
	wantOneErrorLine(t, code, stdout, stderr, "--ticks must be between 1 and")

	empty := writeFile(t, "empty.yaml", "# nothing but a comment\n")
	code, stdout, stderr = runCLI(t, "config", "validate", empty)
	wantOneErrorLine(t, code, stdout, stderr, empty+": the config is empty")
	code, stdout, stderr = runCLI(t, "simulate", "-c", empty, "--ticks", "2")
	wantOneErrorLine(t, code, stdout, stderr, empty+": the config is empty")
}

// TestWorldBoundsAndInputFiles: ETH at 1e308 USD (in the config or in a CSV) validated
// and gave +Inf wealth; sigma 1e308 failed at run time with no key; a CSV path that
// does not exist validated, and train then failed after creating its run directory.
func TestWorldBoundsAndInputFiles(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"world:\n  eth:\n    initial_usd: 1e308\n", ":3: world.eth.initial_usd: must be in [1e-06, 1e+06], got 1e+308"},
		{"world:\n  eth:\n    sigma: 1e308\n", ":3: world.eth.sigma: must be in (0, 5], got 1e+308"},
		{"world:\n  hive:\n    drift: -1e300\n", ":3: world.hive.drift: must be in [-5, 5]"},
	} {
		p := writeFile(t, "c.yaml", tc.src)
		for _, cmd := range [][]string{{"config", "validate", p}, {"simulate", "-c", p, "--ticks", "2"}} {
			code, stdout, stderr := runCLI(t, cmd...)
			wantOneErrorLine(t, code, stdout, stderr, p+tc.want)
		}
	}
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "eth.csv")
	if err := os.WriteFile(csvPath, []byte("time,price\n2024-01-01,2300\n2024-01-02,1e308\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	csvCfg := func(path string) string {
		return "world:\n  eth:\n    source: csv\n    csv:\n      path: " + path + "\n      time_column: time\n      value_column: price\n      layout: \"2006-01-02\"\n"
	}
	p := writeFile(t, "c.yaml", csvCfg(csvPath))
	code, stdout, stderr := runCLI(t, "config", "validate", p)
	wantOneErrorLine(t, code, stdout, stderr, p+":5: world.eth.csv.path: "+csvPath+":3: value 1e+308", "out of range")

	missing := filepath.Join(dir, "nope.csv")
	p = writeFile(t, "c.yaml", csvCfg(missing))
	code, stdout, stderr = runCLI(t, "config", "validate", p)
	wantOneErrorLine(t, code, stdout, stderr, p+":5: world.eth.csv.path: "+missing, "no such file")
	out := filepath.Join(dir, "run")
	code, stdout, stderr = runCLI(t, "train", "-c", p, "--out", out, "--iterations", "1")
	wantOneErrorLine(t, code, stdout, stderr, p+":5: world.eth.csv.path", "no such file")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("train on a bad config left %s (stat: %v)", out, err)
	}
}
