//go:build !torch

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/sweep"
)

// tinyYAML is a small market that trains in a fraction of a second.
const tinyYAML = `
market:
  providers:
    - name: rtx-4090
      count: 4
      gpu_model: rtx-4090
      gpus: 1
      cpu_cores: 16
      ram_gb: 64
      idle_power_w: 60
      capex_usd_per_hour: 0.11
      locations: [germany, texas]
      failures_per_hour: {min: 0.002, max: 0.02}
      observation: full
      wallet: {usdc: {min: 200, max: 2000}, eth: {min: 0.02, max: 0.1}, hive: {min: 0, max: 500}}
  clients:
    - name: inference
      count: 30
      jobs_per_day: {min: 0.5, max: 2}
      gpu_model: ""
      min_gpu_mem_gb: 16
      gpus: {min: 1, max: 1}
      cpu_cores: {min: 2, max: 8}
      ram_gb: {min: 8, max: 32}
      duration_hours: {median: 1, sd_log: 0.8, min: 0.08333333333333333, max: 24}
      value_usd_per_unit_hour: {median: 0.6, sd_log: 0.4, min: 0.05, max: 5}
      payment_asset: USDC
      collateral_fraction: 0.1
      max_wait_ticks: 12
      wallet: {usdc: {min: 50, max: 500}, eth: {min: 0.01, max: 0.05}, hive: {min: 0, max: 200}}
env:
  episode_ticks: 48
training:
  iterations: 2
  checkpoint_every: 1
`

func TestTrainBackendFlags(t *testing.T) {
	code, out, errOut := runCLI(t, "train", "--backend", "torch", "--out", t.TempDir())
	wantOneErrorLine(t, code, out, errOut, "built without libtorch: build with -tags torch (make torch-setup)")
	code, out, errOut = runCLI(t, "train", "--device", "cuda", "--out", t.TempDir())
	wantOneErrorLine(t, code, out, errOut, "--device cuda")
	code, out, errOut = runCLI(t, "eval", t.TempDir(), "--backend", "torch")
	if code != exitBadInput {
		t.Errorf("eval --backend torch on a build without libtorch: exit %d (%s)", code, errOut)
	}
	_ = out
	code, out, errOut = runCLI(t, "train", "--backend", "tf", "--out", t.TempDir())
	wantOneErrorLine(t, code, out, errOut, "--backend must be go or torch")
}

func TestTrainEvalCLI(t *testing.T) {
	cfg := writeFile(t, "tiny.yaml", tinyYAML)
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errOut := runCLI(t, "train", "-c", cfg, "--out", dir, "--json")
	if code != exitOK {
		t.Fatalf("train exit %d: %s", code, errOut)
	}
	var rep trainReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Iterations != 2 || len(rep.Checkpoints) != 4 {
		t.Fatalf("train --json: %v %s", err, out)
	}
	// A second train into the same directory without --resume is bad input.
	code, _, errOut = runCLI(t, "train", "-c", cfg, "--out", dir)
	if code != exitBadInput || !strings.Contains(errOut, "--resume") {
		t.Errorf("train into a used directory: exit %d, %q", code, errOut)
	}
	code, out, errOut = runCLI(t, "eval", dir, "--episodes", "2", "--seed", "100", "--baselines", "random,cost-plus", "--json")
	if code != exitOK {
		t.Fatalf("eval exit %d: %s", code, errOut)
	}
	var doc struct {
		Groups []struct {
			Name, Role, Kind string
			Metrics          map[string]struct {
				Mean any   `json:"mean"`
				CI95 []any `json:"ci95"`
			} `json:"metrics"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Groups) != 4 {
		t.Fatalf("eval --json: %v %s", err, out)
	}
	for _, g := range doc.Groups {
		if g.Role != "provider" && g.Role != "client" || g.Kind != "ppo" && g.Kind != "scripted" {
			t.Errorf("group %+v", g)
		}
		for _, m := range experiments.EvalMetrics {
			if v, ok := g.Metrics[m]; !ok || len(v.CI95) != 2 {
				t.Errorf("group %s: metric %s = %+v", g.Name, m, v)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "eval", "metrics.json")); err != nil {
		t.Error(err)
	}
	// The table.
	code, out, errOut = runCLI(t, "eval", dir, "--episodes", "2", "--baselines", "random", "--out", filepath.Join(dir, "eval2"))
	if code != exitOK || !strings.Contains(out, "providers/random") || !strings.Contains(out, "cum. return") {
		t.Fatalf("eval table: exit %d\n%s\n%s", code, out, errOut)
	}
	// Evaluating from one checkpoint file.
	code, _, errOut = runCLI(t, "eval", filepath.Join(dir, "checkpoints", "providers-1.safetensors"), "--episodes", "2", "--baselines", "", "--out", filepath.Join(dir, "eval3"))
	if code != exitOK {
		t.Fatalf("eval of a checkpoint: exit %d: %s", code, errOut)
	}
	// Bad input.
	code, out, errOut = runCLI(t, "eval", filepath.Join(dir, "nope"))
	wantOneErrorLine(t, code, out, errOut, "not a run directory")
	code, out, errOut = runCLI(t, "eval", dir, "--baselines", "haggler")
	wantOneErrorLine(t, code, out, errOut, `unknown baseline "haggler"`)
	code, out, errOut = runCLI(t, "eval", dir, "--episodes", "1")
	wantOneErrorLine(t, code, out, errOut, "--episodes")
}

// TestTrainInterruptedAndResume: a cancelled context stops training with exit 130 and
// a checkpoint; --resume finishes the run.
func TestTrainInterruptedAndResume(t *testing.T) {
	cfg := writeFile(t, "tiny.yaml", tinyYAML)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, []string{"train", "-c", cfg, "--out", dir})
	if code != exitInterrupted {
		t.Fatalf("exit %d, want 130: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "providers-latest.safetensors")); err != nil {
		t.Fatalf("no checkpoint after an interrupt: %v", err)
	}
	code, _, stderr := runCLI(t, "train", "--out", dir, "--resume")
	if code != exitOK {
		t.Fatalf("resume exit %d: %s", code, stderr)
	}
	info, err := experiments.ReadRunJSON(dir)
	if err != nil || info.Status != "done" || info.Episodes != 4 {
		t.Fatalf("run.json %+v, %v", info, err)
	}
	code, out2, errOut2 := runCLI(t, "train", "--resume")
	wantOneErrorLine(t, code, out2, errOut2, "--resume needs --out")
}

func TestTrainRunRecordsCurvesAndMetrics(t *testing.T) {
	cfg, err := experiments.Load("tiny", []byte(tinyYAML))
	if err != nil {
		t.Fatal(err)
	}
	rec := &memRecorder{}
	if err := trainRun(context.Background(), sweep.Run{Config: cfg, Seed: 3}, rec); err != nil {
		t.Fatal(err)
	}
	// 2 iterations x (2 curves for both groups + 9 PPO metrics) = 26 points; 2 groups x 5 metrics.
	if rec.curves != 26 || rec.groups != 10 {
		t.Fatalf("curves %d groups %d, want 26 and 10", rec.curves, rec.groups)
	}
}

type memRecorder struct{ curves, groups int }

func (m *memRecorder) Curve(int, string, string, float64) error    { m.curves++; return nil }
func (m *memRecorder) Agent(string, string, string, float64) error { return nil }
func (m *memRecorder) Group(string, string, string, float64) error { m.groups++; return nil }

func TestTrainFlagOverrideOutOfRangeNamesTheKey(t *testing.T) {
	cfg := writeFile(t, "c.yaml", "seed: 1\n")
	code, out, stderr := runCLI(t, "train", "-c", cfg, "--iterations", "99999999", "--out", t.TempDir())
	wantOneErrorLine(t, code, out, stderr, cfg+": training.iterations: must be in [1, 1048576]")
	if strings.Contains(stderr, "world.training") {
		t.Errorf("the key is misnamed: %q", stderr)
	}
}

func TestTrainAndEvalFlagValues(t *testing.T) {
	code, out, stderr := runCLI(t, "train", "--workers", "0", "--out", t.TempDir())
	wantOneErrorLine(t, code, out, stderr, "--workers must be at least 1, got 0")
	code, out, stderr = runCLI(t, "train", "--iterations", "0", "--out", t.TempDir())
	wantOneErrorLine(t, code, out, stderr, "--iterations must be at least 1, got 0")
	code, out, stderr = runCLI(t, "eval", t.TempDir(), "--baselines", "random,")
	wantOneErrorLine(t, code, out, stderr, "has an empty name")
}

// TestScenarioFlagsAndTargetedBaselines trains under --scenario gas-spike (the run's
// config.yaml says so), evaluates under heatwave with both roles learning and a
// baseline aimed at each group, and checks what eval wrote.
func TestScenarioFlagsAndTargetedBaselines(t *testing.T) {
	both := tinyYAML + `population:
  - {name: providers, role: provider, kind: ppo, protocol: scripted, share: 1}
  - {name: clients, role: client, kind: ppo, protocol: scripted, share: 1}
`
	cfg := writeFile(t, "both.yaml", both)
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, errOut := runCLI(t, "train", "-c", cfg, "--out", dir, "--scenario", "gas-spike"); code != exitOK {
		t.Fatalf("train exit %d: %s", code, errOut)
	}
	saved, err := experiments.LoadFile(filepath.Join(dir, "config.yaml"))
	if err != nil || saved.World.Scenario.Name != "gas-spike" {
		t.Fatalf("the run's config: scenario %q, %v", saved.World.Scenario.Name, err)
	}
	out := filepath.Join(t.TempDir(), "eval")
	code, stdout, errOut := runCLI(t, "eval", dir, "--episodes", "2", "--scenario", "heatwave", "--out", out,
		"--baselines", "providers=boulware,clients=budget,random", "--json")
	if code != exitOK {
		t.Fatalf("eval exit %d: %s", code, errOut)
	}
	var doc experiments.MetricsDoc
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range doc.Groups {
		names = append(names, g.Name)
	}
	if got := strings.Join(names, ","); got != "providers,clients,providers/boulware,clients/budget,providers/random,clients/random" {
		t.Fatalf("groups %s", got)
	}
	evalCfg, err := experiments.LoadFile(filepath.Join(out, "config.yaml"))
	if err != nil || evalCfg.World.Scenario.Name != "heatwave" {
		t.Fatalf("eval config: scenario %q, %v", evalCfg.World.Scenario.Name, err)
	}
	for _, f := range []string{"actions.csv", "baselines/providers=boulware/market.csv", "baselines/clients=budget/threads.jsonl", "baselines/random/market.csv"} {
		if b, err := os.ReadFile(filepath.Join(out, f)); err != nil || len(b) == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	acts, _ := os.ReadFile(filepath.Join(out, "actions.csv"))
	if !strings.Contains(string(acts), "\nproviders,wait,0,") || !strings.Contains(string(acts), "\nclients,wait,0,") {
		t.Errorf("actions.csv lacks a group:\n%s", acts)
	}
	if code, _, stderr := runCLI(t, "report", out, "--out", filepath.Join(out, "report")); code != exitOK {
		t.Fatalf("report: exit %d %s", code, stderr)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report", "report.html"))
	if !strings.Contains(string(html), "Actions of the learning groups") || !strings.Contains(string(html), "clients") {
		t.Errorf("report.html has no action histograms")
	}
	if !strings.Contains(errOut, "evaluated") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
	code, stdout, errOut = runCLI(t, "eval", dir, "--episodes", "2", "--scenario", "heatwav")
	wantOneErrorLine(t, code, stdout, errOut, "unknown scenario \"heatwav\"")
	code, stdout, errOut = runCLI(t, "eval", dir, "--episodes", "2", "--baselines", "sellers=boulware")
	wantOneErrorLine(t, code, stdout, errOut, "sellers", "not a learning group")
	code, stdout, errOut = runCLI(t, "train", "-c", cfg, "--out", t.TempDir(), "--scenario", "x")
	wantOneErrorLine(t, code, stdout, errOut, "unknown scenario \"x\"")
}

// TestEvalOfOneCheckpoint: eval of GROUP-1.safetensors logged the run's last iteration;
// a checkpoint outside a run directory failed with "config.yaml: no such file"; a NaN
// weight was accepted at load.
func TestEvalOfOneCheckpoint(t *testing.T) {
	cfg := writeFile(t, "tiny.yaml", tinyYAML)
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, errOut := runCLI(t, "train", "-c", cfg, "--out", dir); code != exitOK {
		t.Fatalf("train exit %d: %s", code, errOut)
	}
	first := filepath.Join(dir, "checkpoints", "providers-1.safetensors")
	code, _, errOut := runCLI(t, "eval", first, "--episodes", "2", "--baselines", "", "--out", t.TempDir())
	if code != exitOK || !strings.Contains(errOut, "iteration=1 ") {
		t.Errorf("eval of providers-1: exit %d, log %q; want iteration=1", code, errOut)
	}

	bare := filepath.Join(t.TempDir(), "p.safetensors")
	b, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bare, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "eval", bare, "--episodes", "2")
	wantOneErrorLine(t, code, stdout, stderr, bare+": no run config found", filepath.Join(filepath.Dir(filepath.Dir(bare)), "config.yaml"), "-c CONFIG")
	code, _, errOut = runCLI(t, "eval", bare, "-c", filepath.Join(dir, "config.yaml"), "--episodes", "2", "--baselines", "", "--out", t.TempDir())
	if code != exitOK || !strings.Contains(errOut, "iteration=1 ") {
		t.Errorf("eval of a bare checkpoint with -c: exit %d, %q", code, errOut)
	}

	// A NaN in a weight tensor: refused at load, exit 2 naming the tensor.
	ts, meta, err := checkpoint.Load(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ts {
		if ts[i].DType == checkpoint.F32 && len(ts[i].Data) >= 4 {
			d := bytes.Clone(ts[i].Data)
			binary.LittleEndian.PutUint32(d, math.Float32bits(float32(math.NaN())))
			ts[i].Data = d
			break
		}
	}
	var buf bytes.Buffer
	if err := checkpoint.Save(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	nan := filepath.Join(dir, "checkpoints", "providers-9.safetensors")
	if err := os.WriteFile(nan, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "eval", nan, "--episodes", "2")
	wantOneErrorLine(t, code, stdout, stderr, nan+":", "element 0 is NaN", "finite numbers only")
	if err := os.Remove(nan); err != nil {
		t.Fatal(err)
	}

	// Another config with -c (here other opponents): the policies need only fit its
	// environment and their group's role, not the config they were trained with.
	other := writeFile(t, "boulware.yaml", tinyYAML+`population:
  - {name: providers, role: provider, kind: ppo, protocol: scripted, share: 1}
  - {name: clients, role: client, kind: scripted, strategy: boulware, share: 1}
`)
	code, _, errOut = runCLI(t, "eval", dir, "-c", other, "--episodes", "2", "--baselines", "", "--out", t.TempDir())
	if code != exitOK || !strings.Contains(errOut, "iteration=2 ") {
		t.Errorf("eval of the run against boulware clients (-c): exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "eval", first, "-c", other, "--episodes", "2", "--baselines", "", "--out", t.TempDir())
	if code != exitOK || !strings.Contains(errOut, "iteration=1 ") {
		t.Errorf("eval of providers-1 against boulware clients (-c): exit %d, %q", code, errOut)
	}
	swapped := writeFile(t, "swapped.yaml", tinyYAML+`population:
  - {name: sellers, role: provider, kind: scripted, strategy: cost-plus, share: 1}
  - {name: providers, role: client, kind: ppo, protocol: scripted, share: 1}
`)
	code, stdout, stderr = runCLI(t, "eval", dir, "-c", swapped, "--episodes", "2", "--baselines", "")
	wantOneErrorLine(t, code, stdout, stderr, "providers-latest.safetensors", "not a client one")
}
