package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/env"
)

// TestCentralCriticTraining: training with training.central_critic gives the group a
// critic over the observation and env.StateDim state features (the checkpoint says so
// and its critic is that wide), is deterministic, resumes byte-identically from an
// interruption between checkpoints, and its checkpoint evaluates like any other.
func TestCentralCriticTraining(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Training.CentralCritic = true
	cfg.Training.Iterations = 3
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	if _, err := Train(context.Background(), cfg, TrainOptions{Out: a}); err != nil {
		t.Fatal(err)
	}
	latest := "checkpoints/providers-latest.safetensors"
	fa := readDir(t, a)
	_, meta, err := checkpoint.Load(bytes.NewReader(fa[latest]))
	if err != nil {
		t.Fatal(err)
	}
	if meta[ppo.MetaStateSize] != strconv.Itoa(env.StateDim) {
		t.Fatalf("%s = %q, want %d", ppo.MetaStateSize, meta[ppo.MetaStateSize], env.StateDim)
	}
	l, err := ppo.Load(bytes.NewReader(fa[latest]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, c := l.Params(); c[0].Shape[1] != env.ObsDim+env.StateDim {
		t.Fatalf("the critic's first layer is %v, want %d inputs", c[0].Shape, env.ObsDim+env.StateDim)
	}

	// Interrupted after iteration 1 (checkpoints every 2), then resumed.
	trainInterruptedAfter(t, cfg, b, 1)
	if _, err := Train(context.Background(), cfg, TrainOptions{Out: b, Resume: true}); err != nil {
		t.Fatal(err)
	}
	fb := readDir(t, b)
	for _, name := range []string{latest, "curves.csv"} {
		if len(fa[name]) == 0 || !bytes.Equal(fa[name], fb[name]) {
			t.Errorf("%s of the resumed run differs from the uninterrupted run's", name)
		}
	}

	// The same config without the centralized critic trains another critic and, from
	// the same seed, starts from the same actor: the first iteration's policy is the
	// same, so its return is too.
	local := cfg
	local.Training.CentralCritic = false
	local.Training.Iterations = 1
	c := filepath.Join(root, "c")
	if _, err := Train(context.Background(), local, TrainOptions{Out: c}); err != nil {
		t.Fatal(err)
	}
	first := func(curves []byte) string {
		for _, line := range bytes.Split(curves, []byte("\n")) {
			if bytes.HasPrefix(line, []byte("1,providers,charts/episodic_return,")) {
				return string(line)
			}
		}
		return ""
	}
	if x, y := first(fa["curves.csv"]), first(readDir(t, c)["curves.csv"]); x == "" || x != y {
		t.Errorf("first iteration's return: central %q, local %q", x, y)
	}

	tr, err := LoadTrained(a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Eval(context.Background(), cfg, EvalOptions{Episodes: 2, Seed: 100, Baselines: []string{"cost-plus"}, Trained: tr, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Doc.Groups) != 3 {
		t.Fatalf("eval groups: %+v", res.Doc.Groups)
	}
}

// trainInterruptedAfter trains cfg into dir and cancels it after iteration it.
func trainInterruptedAfter(t *testing.T, cfg Config, dir string, it int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := Train(ctx, cfg, TrainOptions{Out: dir, Progress: func(r IterationReport) {
		if r.Iteration == it {
			cancel()
		}
	}}); err == nil {
		t.Fatal("the interrupted run returned no error")
	}
}

// TestRunsFromBeforeTheCentralCritic: a run directory written before
// training.central_critic existed (its config.yaml has no such key) trained with local
// critics. LoadRunConfig reads it that way, so it resumes and evaluates as trained, while
// a config a user writes without the key gets today's default; and a checkpoint meets a
// config of the other kind when only its policy is needed.
func TestRunsFromBeforeTheCentralCritic(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Training.CentralCritic = false
	cfg.Training.Iterations = 2
	dir := t.TempDir()
	trainInterruptedAfter(t, cfg, dir, 1)
	// Make it an old run: drop the key from its config.yaml.
	path, b := dropConfigLine(t, dir, "central_critic: false")
	if c, err := LoadFile(path); err != nil || !c.Training.CentralCritic {
		t.Fatalf("LoadFile: central_critic %v (%v), want today's default, true", c.Training.CentralCritic, err)
	}
	rc, err := LoadRunConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Training.CentralCritic {
		t.Fatal("LoadRunConfig of a run without the key: central_critic true, want false")
	}
	if _, err := Train(context.Background(), rc, TrainOptions{Out: dir, Resume: true}); err != nil {
		t.Fatalf("resuming the old run: %v", err)
	}
	if _, err := LoadTrained(dir, rc); err != nil {
		t.Fatalf("evaluating the old run: %v", err)
	}
	// Its checkpoint (a local critic), copied out of the run, under a config that asks
	// for a centralized one.
	central := cfg
	central.Training.CentralCritic = true
	ckb, err := os.ReadFile(filepath.Join(dir, "checkpoints", "providers-latest.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(t.TempDir(), "providers.safetensors")
	if err := os.WriteFile(ck, ckb, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPPOCheckpoint(ck, "providers", "provider", central); err != nil {
		t.Fatalf("a local critic's checkpoint under a central config: %v", err)
	}
	// A run that has the key keeps it.
	keep := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(keep, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadRunConfig(keep); err != nil || c.Training.CentralCritic {
		t.Fatalf("LoadRunConfig with central_critic: false written: %v (%v)", c.Training.CentralCritic, err)
	}
}
