package experiments

import (
	"bytes"
	"context"
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
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Train(ctx, cfg, TrainOptions{Out: b, Progress: func(r IterationReport) {
		if r.Iteration == 1 {
			cancel()
		}
	}}); err == nil {
		t.Fatal("the interrupted run returned no error")
	}
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
