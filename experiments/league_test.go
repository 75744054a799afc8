package experiments

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents"
)

// leagueConfig is tinyConfig with half the providers learning (ppo) and half played by
// a prioritized league pool (snapshots of the learners every 2 iterations, the latest 2
// kept, boulware, random-legal), and the clients by a uniform pool of two strategies.
func leagueConfig(t testing.TB, iterations int) Config {
	t.Helper()
	c := tinyConfig(t)
	c.Training.Iterations = iterations
	half := 0.5
	c.Population = agents.Population{
		{Name: "providers", Role: agents.RoleProvider, Kind: agents.KindPPO, Share: 0.5},
		{Name: "rivals", Role: agents.RoleProvider, Kind: agents.KindLeague, Share: 0.5, League: &agents.LeagueConfig{
			Sampling: agents.SamplePrioritized,
			Pool: []agents.PoolEntry{
				{Snapshot: "providers", Every: 2, Keep: 2},
				{Strategy: "boulware"},
				{Strategy: agents.RandomLegal, Weight: &half},
			}}},
		{Name: "clients", Role: agents.RoleClient, Kind: agents.KindLeague, Share: 1, League: &agents.LeagueConfig{
			Pool: []agents.PoolEntry{{Strategy: "budget"}, {Name: "tft", Strategy: "tit-for-tat"}}}},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLeagueTrainResume trains a league config twice (identical league.csv and
// checkpoints), interrupts a third run after iteration 3 and resumes it: the snapshots,
// the prioritized sampler and so every later draw are rebuilt, and the files equal the
// uninterrupted run's byte for byte. It also checks the pool by hand: snapshots at
// iterations 0, 2 and 4, the latest two kept.
func TestLeagueTrainResume(t *testing.T) {
	cfg := leagueConfig(t, 6)
	root := t.TempDir()
	a, b, c := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")
	var resA *TrainResult
	for _, dir := range []string{a, b} {
		res, err := Train(context.Background(), cfg, TrainOptions{Out: dir})
		if err != nil {
			t.Fatal(err)
		}
		resA = res
	}
	pool := resA.Trained.Leagues["rivals"]
	if got, want := pool.Names(), []string{"boulware", "random-legal", "providers@2", "providers@4"}; !slices.Equal(got, want) {
		t.Errorf("final pool %v, want %v", got, want)
	}
	fa, fb := readDir(t, a), readDir(t, b)
	for _, name := range []string{"league.csv", "checkpoints/providers-0.safetensors", "checkpoints/providers-latest.safetensors", "curves.csv"} {
		if len(fa[name]) == 0 || !bytes.Equal(fa[name], fb[name]) {
			t.Errorf("%s missing or differs between two runs of the same seed", name)
		}
	}
	rows, err := readLeague(filepath.Join(a, "league.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6*2*2 {
		t.Fatalf("%d league rows, want iterations x envs x league groups = 24", len(rows))
	}
	opp := map[string]bool{}
	for _, r := range rows {
		opp[r.Group+"/"+r.Opponent] = true
		// A snapshot is in the pool from its iteration on, and providers@0 leaves it
		// once providers@4 comes in (keep 2), before iteration 5 (1-based).
		if r.Opponent == "providers@2" && r.Iteration < 3 || r.Opponent == "providers@0" && r.Iteration >= 5 {
			t.Errorf("row %+v: opponent not in the pool then", r)
		}
		if r.Group == "clients" && r.Opponent != "budget" && r.Opponent != "tft" {
			t.Errorf("row %+v: not a client pool member", r)
		}
	}
	if len(opp) < 4 {
		t.Errorf("six iterations met only %v", opp)
	}

	ctx, cancel := context.WithCancel(context.Background())
	res, err := Train(ctx, cfg, TrainOptions{Out: c, Progress: func(r IterationReport) {
		if r.Iteration == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || res.Iterations != 3 {
		t.Fatalf("interrupted run: %+v, %v", res, err)
	}
	if res, err = Train(context.Background(), cfg, TrainOptions{Out: c, Resume: true}); err != nil || res.Iterations != 6 {
		t.Fatalf("resume: %+v, %v", res, err)
	}
	fc := readDir(t, c)
	for _, name := range []string{"league.csv", "checkpoints/providers-latest.safetensors", "curves.csv"} {
		if !bytes.Equal(fa[name], fc[name]) {
			t.Errorf("%s of the resumed run differs from the uninterrupted run's", name)
		}
	}

	// A resume without a snapshot file it needs says which.
	ctx, cancel = context.WithCancel(context.Background())
	d := filepath.Join(root, "d")
	Train(ctx, cfg, TrainOptions{Out: d, Progress: func(r IterationReport) {
		if r.Iteration == 3 {
			cancel()
		}
	}})
	os.Remove(filepath.Join(d, "checkpoints", "providers-2.safetensors"))
	if _, err := Train(context.Background(), cfg, TrainOptions{Out: d, Resume: true}); err == nil || !strings.Contains(err.Error(), "providers-2.safetensors") {
		t.Errorf("resume without a snapshot: %v", err)
	}
}

// TestLeagueEvalFromDir evaluates a league run in memory and from its directory
// (LoadTrained rebuilds the final pool from the snapshot files): the same pool and the
// same metrics.
func TestLeagueEvalFromDir(t *testing.T) {
	cfg := leagueConfig(t, 4)
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Train(context.Background(), cfg, TrainOptions{Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrained(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tr.Leagues["rivals"].Names(), res.Trained.Leagues["rivals"].Names(); !slices.Equal(got, want) {
		t.Fatalf("loaded pool %v, trained %v", got, want)
	}
	opts := EvalOptions{Episodes: 3, Seed: 11, Workers: 1}
	opts.Trained = res.Trained
	e1, err := Eval(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Trained = tr
	e2, err := Eval(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range e1.Samples {
		for m := range e1.Samples[i].Values {
			if !slices.Equal(e1.Samples[i].Values[m], e2.Samples[i].Values[m]) {
				t.Errorf("group %d metric %d: in memory %v, from the directory %v", i, m, e1.Samples[i].Values[m], e2.Samples[i].Values[m])
			}
		}
	}
}

// TestLeagueCheckpointEntry plays a trained checkpoint as a pool member, and refuses a
// missing one naming the file and the key.
func TestLeagueCheckpointEntry(t *testing.T) {
	base := tinyConfig(t)
	base.Training.Iterations = 1
	dir := filepath.Join(t.TempDir(), "base")
	if _, err := Train(context.Background(), base, TrainOptions{Out: dir}); err != nil {
		t.Fatal(err)
	}
	cfg := leagueConfig(t, 2)
	ck := filepath.Join(dir, "checkpoints", "providers-latest.safetensors")
	cfg.Population[1].League.Pool = []agents.PoolEntry{{Name: "old", Checkpoint: ck}}
	res, err := Train(context.Background(), cfg, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Trained.Leagues["rivals"].Names(); !slices.Equal(got, []string{"old"}) {
		t.Errorf("pool %v", got)
	}
	cfg.Population[1].League.Pool[0].Checkpoint = ck + ".gone"
	_, err = Train(context.Background(), cfg, TrainOptions{Out: filepath.Join(t.TempDir(), "x")})
	var ee *Error
	if !errors.As(err, &ee) || ee.File != ck+".gone" || !strings.Contains(ee.Msg, "population[1].league.pool[0].checkpoint") {
		t.Errorf("missing checkpoint: %v", err)
	}
}
