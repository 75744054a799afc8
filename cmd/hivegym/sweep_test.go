package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/experiments/sweep"
)

// acceptSweep is the acceptance sweep: a 2 x 2 grid times 3 seeds.
const acceptSweep = `name: accept
grid:
  world.scenario.name: [baseline, gas-spike]
  scheme.scheme: [compute-marketplace, coophive-apiary]
seeds: [1, 2, 3]
`

// runCLICtx is runCLI with a context (to interrupt the command).
func runCLICtx(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := run(ctx, ios, args)
	return code, out.String(), errOut.String()
}

// withRunFunc replaces the sweep's RunFunc for one test.
func withRunFunc(t *testing.T, fn sweep.RunFunc) {
	t.Helper()
	old := sweepRunFunc
	sweepRunFunc = fn
	t.Cleanup(func() { sweepRunFunc = old })
}

// clearShardEnv makes the tests independent of a cluster job's environment.
func clearShardEnv(t *testing.T) {
	for _, k := range []string{"JOB_COMPLETION_INDEX", "HIVEGYM_SHARD_COUNT", "SLURM_ARRAY_TASK_ID",
		"SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP"} {
		t.Setenv(k, "")
	}
}

// storeDump renders a store's runs, configs, curves and metrics (floats by their bits;
// the shard column, provenance, left out).
func storeDump(t *testing.T, path string) string {
	t.Helper()
	st, err := store.OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var b strings.Builder
	if err := st.Dump(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSweepTwelveRunsWithTheSimulator(t *testing.T) {
	clearShardEnv(t)
	withRunFunc(t, simulateRun)
	sw := writeFile(t, "accept.yaml", acceptSweep)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "sweep", "-c", sw, "--workers", "2", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var rep sweepReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	want := sweepReport{Sweep: "accept", Store: filepath.Join(out, "runs.db"), Runs: 12, Done: 12}
	if rep != want {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	if n := strings.Count(stderr, "] done "); n != 12 {
		t.Fatalf("%d progress lines, want 12:\n%s", n, stderr)
	}

	code, stdout, stderr = runCLI(t, "runs", "list", "--store", out, "--json")
	if code != 0 {
		t.Fatalf("runs list: exit %d, %s", code, stderr)
	}
	var list struct {
		Runs []runJSON `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Runs) != 12 {
		t.Fatalf("%d runs listed", len(list.Runs))
	}
	for i, r := range list.Runs {
		if r.Index != i || r.Status != "done" || r.Seed != uint64(i%3+1) {
			t.Errorf("run %d: %+v", i, r)
		}
	}
	// The runner really simulated the market: the gas-spike scenario multiplies L1 gas
	// demand by 20 for a day, which raises the L1 data fee of every L2 transaction, so
	// the market spends more on gas than in the baseline run with the same seed.
	metric := func(id, group, name string) float64 {
		code, stdout, stderr := runCLI(t, "runs", "show", id, "--store", out, "--json")
		if code != 0 {
			t.Fatalf("runs show: %d %s", code, stderr)
		}
		var doc struct {
			Metrics []metricJSON `json:"metrics"`
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatal(err)
		}
		for _, m := range doc.Metrics {
			if m.Key == group && m.Metric == name {
				return float64(m.Value)
			}
		}
		t.Fatalf("run %s has no %s %s", id, group, name)
		return 0
	}
	// Index 0: compute-marketplace, baseline, seed 1; index 3: the same with gas-spike.
	if base, spike := metric(list.Runs[0].ID, "market", "gas_usd"), metric(list.Runs[3].ID, "market", "gas_usd"); !(spike > base) {
		t.Errorf("gas spent: gas-spike %g, baseline %g; want the spike above", spike, base)
	}
	if deals := metric(list.Runs[0].ID, "market", "deals"); !(deals > 0) {
		t.Errorf("no deals in a baseline episode (%g)", deals)
	}
}

func TestSweepShardsMergedEqualUnsharded(t *testing.T) {
	clearShardEnv(t)
	withRunFunc(t, simulateRun)
	sw := writeFile(t, "accept.yaml", acceptSweep)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	if code, _, stderr := runCLI(t, "sweep", "-c", sw, "--workers", "2", "--out", whole); code != 0 {
		t.Fatalf("unsharded: %d %s", code, stderr)
	}
	// Shard 0 from the flag, shard 1 from a Kubernetes Indexed Job's environment.
	s0, s1 := filepath.Join(dir, "s0"), filepath.Join(dir, "s1")
	code, _, stderr := runCLI(t, "sweep", "-c", sw, "--workers", "2", "--shard", "0/2", "--out", s0)
	if code != 0 || !strings.Contains(stderr, "shard 0/2 (from --shard): 6 of 12 runs") {
		t.Fatalf("shard 0: %d %s", code, stderr)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	t.Setenv("HIVEGYM_SHARD_COUNT", "2")
	code, _, stderr = runCLI(t, "sweep", "-c", sw, "--workers", "2", "--out", s1)
	if code != 0 || !strings.Contains(stderr, "shard 1/2 (from JOB_COMPLETION_INDEX): 6 of 12 runs") {
		t.Fatalf("shard 1: %d %s", code, stderr)
	}
	merged := filepath.Join(dir, "merged", "runs.db")
	code, stdout, stderr := runCLI(t, "runs", "merge", "--out", merged, s0, filepath.Join(s1, "runs.db"))
	if code != 0 || !strings.Contains(stdout, "12 runs added") {
		t.Fatalf("merge: %d %q %s", code, stdout, stderr)
	}
	got, want := storeDump(t, merged), storeDump(t, filepath.Join(whole, "runs.db"))
	if got != want {
		t.Fatalf("merged shards differ from the unsharded sweep:\n%s\nvs\n%s", got, want)
	}
	if strings.Count(want, "run ") != 12 || !strings.Contains(want, "metric group providers provider sharpe") {
		t.Fatalf("unexpected store contents:\n%s", want[:min(len(want), 2000)])
	}
	// Merging again is a no-op; the same sweep run twice gives the same store.
	if code, stdout, _ := runCLI(t, "runs", "merge", "--out", merged, s0, s1); code != 0 || !strings.Contains(stdout, "12 already there") {
		t.Fatalf("second merge: %d %q", code, stdout)
	}
	again := filepath.Join(dir, "again")
	t.Setenv("JOB_COMPLETION_INDEX", "")
	if code, _, stderr := runCLI(t, "sweep", "-c", sw, "--workers", "1", "--out", again); code != 0 {
		t.Fatalf("second sweep: %d %s", code, stderr)
	}
	if storeDump(t, filepath.Join(again, "runs.db")) != want {
		t.Fatal("the same sweep twice gave different stores")
	}
}

func TestSweepInterruptThenResume(t *testing.T) {
	clearShardEnv(t)
	sw := writeFile(t, "accept.yaml", acceptSweep)
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int64
	withRunFunc(t, func(c context.Context, r sweep.Run, rec sweep.Recorder) error {
		if err := simulateRun(c, r, rec); err != nil {
			return err
		}
		if calls.Add(1) == 4 {
			cancel() // Ctrl-C after the fourth run
		}
		return c.Err()
	})
	code, stdout, stderr := runCLICtx(ctx, "sweep", "-c", sw, "--workers", "2", "--out", out)
	if code != exitInterrupted || !strings.Contains(stderr, "continue with --resume") {
		t.Fatalf("interrupted sweep: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	st, err := store.OpenExisting(filepath.Join(out, "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := st.List(context.Background())
	st.Close()
	done := 0
	for _, r := range runs {
		switch r.Status {
		case store.StatusDone:
			done++
		case store.StatusPending:
		default:
			t.Fatalf("run %d is %s after an interruption", r.Index, r.Status)
		}
	}
	if done < 1 || done > 4 || len(runs) != 12 {
		t.Fatalf("%d runs, %d done after the interruption", len(runs), done)
	}

	// Without --resume the existing store is refused; with it, only the missing runs run.
	code, stdout, stderr = runCLI(t, "sweep", "-c", sw, "--out", out)
	wantOneErrorLine(t, code, stdout, stderr, "already holds runs", "--resume")
	var resumed atomic.Int64
	withRunFunc(t, func(c context.Context, r sweep.Run, rec sweep.Recorder) error {
		resumed.Add(1)
		return simulateRun(c, r, rec)
	})
	code, stdout, stderr = runCLI(t, "sweep", "-c", sw, "--workers", "2", "--out", out, "--resume")
	if code != 0 || int(resumed.Load()) != 12-done {
		t.Fatalf("resume: exit %d, %d runs run, want %d; %s", code, resumed.Load(), 12-done, stderr)
	}
	if want := fmt.Sprintf("%d done, 0 failed, %d skipped", 12-done, done); !strings.Contains(stdout, want) {
		t.Fatalf("summary %q lacks %q", stdout, want)
	}
	ref := filepath.Join(t.TempDir(), "ref")
	withRunFunc(t, simulateRun)
	if code, _, stderr := runCLI(t, "sweep", "-c", sw, "--out", ref); code != 0 {
		t.Fatalf("reference sweep: %s", stderr)
	}
	if storeDump(t, filepath.Join(out, "runs.db")) != storeDump(t, filepath.Join(ref, "runs.db")) {
		t.Fatal("interrupted + resumed store differs from an uninterrupted sweep")
	}
}

func TestSweepFailingRunExitsOne(t *testing.T) {
	clearShardEnv(t)
	withRunFunc(t, func(ctx context.Context, run sweep.Run, rec sweep.Recorder) error {
		if run.Config.Metrics.Eta == 0.5 {
			return errors.New("the market diverged")
		}
		return simulateRun(ctx, run, rec)
	})
	sw := writeFile(t, "fail.yaml", "name: fail\ngrid:\n  metrics.eta: [0.01, 0.5]\nseeds: [1, 2]\n")
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "sweep", "-c", sw, "--out", out)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1; %s", code, stderr)
	}
	if !strings.Contains(stdout, "2 done, 2 failed") || !strings.Contains(stderr, "hivegym: 2 of 4 runs failed") ||
		!strings.Contains(stderr, "the market diverged") {
		t.Fatalf("stdout %q stderr %q", stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "runs", "list", "--store", out)
	if code != 0 || strings.Count(stdout, " failed ") != 2 || strings.Count(stdout, " done ") != 2 ||
		!strings.Contains(stdout, "4 runs: 2 done, 2 failed") {
		t.Fatalf("runs list: %d\n%s", code, stdout)
	}
}

// TestSweepInvalidCellExitsTwo: a grid value out of range used to start the sweep and
// fail its runs; now every cell is checked first, and nothing is written.
func TestSweepInvalidCellExitsTwo(t *testing.T) {
	clearShardEnv(t)
	withRunFunc(t, simulateRun)
	sw := writeFile(t, "bad.yaml", "name: bad\ngrid:\n  metrics.eta: [0.01, 2]\nseeds: [1]\n")
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "sweep", "-c", sw, "--out", out)
	wantOneErrorLine(t, code, stdout, stderr, sw+": grid:", "run eta=2,seed=1: invalid config: metrics.eta: must be in (0, 1), got 2")
	if _, err := os.Stat(filepath.Join(out, "runs.db")); !os.IsNotExist(err) {
		t.Errorf("a refused sweep left its store (stat: %v)", err)
	}
}

func TestSweepBadFilesExitTwo(t *testing.T) {
	clearShardEnv(t)
	for _, tc := range []struct {
		name, src string
		frags     []string
	}{
		{"unknown key", "name: x\ngrid:\n  metrics.eta: [0.1]\nseed: [1, 2]\n", []string{":4:", `unknown key "seed"`}},
		{"empty grid", "name: x\nseeds: [1]\ngrid: {}\n", []string{":3:", "grid", "empty grid"}},
		{"key not in config", "name: x\ngrid:\n  metrics.eta: [0.1]\n  world.scenario.nme: [baseline]\n", []string{":4:", "world.scenario.nme", `no key "nme"`}},
		{"wrong type", "name: x\ngrid:\n  world.window:\n    - 288\n    - a day\n", []string{":5:", "world.window", "a day"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "bad.yaml", tc.src)
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, "sweep", "-c", p, "--out", out)
			wantOneErrorLine(t, code, stdout, stderr, append([]string{p}, tc.frags...)...)
		})
	}
	code, stdout, stderr := runCLI(t, "sweep", "-c", filepath.Join(t.TempDir(), "missing.yaml"))
	wantOneErrorLine(t, code, stdout, stderr, "missing.yaml", "no such file")
	p := writeFile(t, "ok.yaml", "grid:\n  metrics.eta: [0.1]\n")
	for _, args := range [][]string{
		{"--workers", "0"},
		{"--shard", "2/2"},
		{"--shard", "x"},
		{"--retry-failed"},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"sweep", "-c", p, "--out", t.TempDir()}, args...)...)
		wantOneErrorLine(t, code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "sweep")
	wantOneErrorLine(t, code, stdout, stderr, "config")
}

func TestResolveShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		name  string
		flag  string
		env   func(string) string
		want  sweep.Shard
		from  string
		isErr bool
	}{
		{"nothing", "", env(), sweep.Shard{}, "", false},
		{"flag", "1/3", env(), sweep.Shard{Index: 1, Count: 3}, "--shard", false},
		{"flag wins over env", "0/2", env("JOB_COMPLETION_INDEX", "1", "HIVEGYM_SHARD_COUNT", "2"), sweep.Shard{Index: 0, Count: 2}, "--shard", false},
		{"kubernetes", "", env("JOB_COMPLETION_INDEX", "3", "HIVEGYM_SHARD_COUNT", "4"), sweep.Shard{Index: 3, Count: 4}, "JOB_COMPLETION_INDEX", false},
		{"kubernetes wins over slurm", "", env("JOB_COMPLETION_INDEX", "0", "HIVEGYM_SHARD_COUNT", "2", "SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_COUNT", "2"), sweep.Shard{Index: 0, Count: 2}, "JOB_COMPLETION_INDEX", false},
		{"kubernetes without count", "", env("JOB_COMPLETION_INDEX", "3"), sweep.Shard{}, "", true},
		{"kubernetes index too big", "", env("JOB_COMPLETION_INDEX", "4", "HIVEGYM_SHARD_COUNT", "4"), sweep.Shard{}, "", true},
		{"slurm", "", env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "5"), sweep.Shard{Index: 2, Count: 5}, "SLURM_ARRAY_TASK_ID", false},
		{"slurm from 1", "", env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "1"), sweep.Shard{Index: 3, Count: 4}, "SLURM_ARRAY_TASK_ID", false},
		{"slurm with a step", "", env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "2", "SLURM_ARRAY_TASK_STEP", "2"), sweep.Shard{}, "", true},
		{"slurm without count", "", env("SLURM_ARRAY_TASK_ID", "2"), sweep.Shard{}, "", true},
		{"slurm garbage", "", env("SLURM_ARRAY_TASK_ID", "two", "SLURM_ARRAY_TASK_COUNT", "4"), sweep.Shard{}, "", true},
	} {
		got, from, err := resolveShard(tc.flag, tc.env)
		if tc.isErr {
			if _, ok := err.(*usageError); !ok {
				t.Errorf("%s: err %v, want a usage error", tc.name, err)
			}
			continue
		}
		if err != nil || got != tc.want || from != tc.from {
			t.Errorf("%s: %v from %q, %v; want %v from %q", tc.name, got, from, err, tc.want, tc.from)
		}
	}
}
