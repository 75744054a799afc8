package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/rng"
)

// tinyConfig is a small market for fast tests: six RTX 4090 providers, sixty inference
// clients, half-day episodes, four iterations of two environments.
func tinyConfig(t testing.TB) Config {
	t.Helper()
	c := DefaultConfig()
	c.Market.Providers = c.Market.Providers[:1]
	c.Market.Providers[0].Count = 6
	c.Market.Clients = c.Market.Clients[:1]
	c.Market.Clients[0].Count = 60
	c.Env.EpisodeTicks = 144
	c.Training.Iterations = 4
	c.Training.NumEnvs = 2
	c.Training.Workers = 2
	c.Training.CheckpointEvery = 2
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTrainDeterministicAndResume trains the same config twice (byte-identical run
// directories), then interrupts a third run after iteration 3 (not a checkpoint
// iteration) and resumes it: the final checkpoints and curves equal the uninterrupted
// run's, byte for byte.
func TestTrainDeterministicAndResume(t *testing.T) {
	cfg := tinyConfig(t)
	root := t.TempDir()
	a, b, c := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")
	for _, dir := range []string{a, b} {
		res, err := Train(context.Background(), cfg, TrainOptions{Out: dir})
		if err != nil {
			t.Fatal(err)
		}
		if res.Iterations != 4 || res.Interrupted {
			t.Fatalf("result %+v", res)
		}
	}
	fa, fb := readDir(t, a), readDir(t, b)
	for _, name := range []string{"checkpoints/providers-2.safetensors", "checkpoints/providers-4.safetensors",
		"checkpoints/providers-latest.safetensors", "curves.csv", "run.json", "config.yaml"} {
		if len(fa[name]) == 0 {
			t.Fatalf("%s missing or empty", name)
		}
	}
	if len(fa) != len(fb) {
		t.Fatalf("%d files against %d", len(fa), len(fb))
	}
	for name, x := range fa {
		if name == "run.json" { // names its directory
			continue
		}
		if !bytes.Equal(x, fb[name]) {
			t.Errorf("%s differs between two runs of the same seed", name)
		}
	}
	if !bytes.Equal(fa["checkpoints/providers-4.safetensors"], fa["checkpoints/providers-latest.safetensors"]) {
		t.Error("latest is not the last checkpoint")
	}

	// Interrupt after iteration 3.
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Train(ctx, cfg, TrainOptions{Out: c, Progress: func(r IterationReport) {
		if r.Iteration == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || !res.Interrupted || res.Iterations != 3 {
		t.Fatalf("interrupted run: %+v, %v", res, err)
	}
	info, err := ReadRunJSON(c)
	if err != nil || info.Status != StatusInterrupted {
		t.Fatalf("run.json %+v, %v", info, err)
	}
	if _, err := os.Stat(filepath.Join(c, "checkpoints", "providers-3.safetensors")); err != nil {
		t.Fatalf("no checkpoint of the last completed iteration: %v", err)
	}
	if _, err := Train(context.Background(), cfg, TrainOptions{Out: c}); err == nil {
		t.Fatal("training into a run directory without --resume: no error")
	}
	res, err = Train(context.Background(), cfg, TrainOptions{Out: c, Resume: true})
	if err != nil || res.Iterations != 4 {
		t.Fatalf("resume: %+v, %v", res, err)
	}
	fc := readDir(t, c)
	for _, name := range []string{"checkpoints/providers-latest.safetensors", "checkpoints/providers-4.safetensors", "curves.csv"} {
		if !bytes.Equal(fa[name], fc[name]) {
			t.Errorf("%s of the resumed run differs from the uninterrupted run's", name)
		}
	}
	if info, _ := ReadRunJSON(c); info.Status != StatusDone || info.Episodes != 8 {
		t.Errorf("run.json after resume: %+v", info)
	}

	// A resume under another config is refused.
	other := cfg
	other.Training.PPO.LearningRate *= 2
	if _, err := Train(context.Background(), other, TrainOptions{Out: c, Resume: true}); err == nil || !strings.Contains(err.Error(), "cannot resume") {
		t.Errorf("resume under another config: %v", err)
	}
}

// TestCheckpointRoundTrip loads the run's latest checkpoint and checks that it acts as
// the learner that wrote it on the same observations.
func TestCheckpointRoundTrip(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Training.Iterations = 2
	dir := t.TempDir()
	res, err := Train(context.Background(), cfg, TrainOptions{Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrained(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Iteration != 2 {
		t.Errorf("loaded iteration %d, want 2", tr.Iteration)
	}
	mem, disk := res.Trained.PPO["providers"], tr.PPO["providers"]
	e, err := env.New(cfg.Settings())
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Reset(99)
	if err != nil {
		t.Fatal(err)
	}
	n := b.Len()
	want, got := make([]int, n), make([]int, n)
	if err := mem.Greedy(b.Obs, b.Masks, n, want); err != nil {
		t.Fatal(err)
	}
	if err := disk.Greedy(b.Obs, b.Masks, n, got); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("row %d: loaded learner takes %d, the trained one %d", i, got[i], want[i])
		}
	}
	vm, vd := make([]float32, n), make([]float32, n)
	_ = mem.Value(b.Obs, n, vm)
	_ = disk.Value(b.Obs, n, vd)
	for i := range vm {
		if vm[i] != vd[i] {
			t.Fatalf("row %d: value %g, loaded %g", i, vd[i], vm[i])
		}
	}
	// A checkpoint is refused under a config that changes what is learned.
	other := cfg
	other.Env.Actions.PriceMultipliers = []float64{0.9, 1, 1.1}
	if _, err := LoadTrained(dir, other); err == nil {
		t.Error("loading under another action space: no error")
	}
	// It loads for evaluation under a config that changes only how it was trained (the
	// config hash differs: a key added by a later hivegym looks the same), and acts the same.
	trainedOther := cfg
	trainedOther.Training.PPO.EntCoef, trainedOther.Training.PPO.InitKL = 0.5, 0.2
	if trainedOther.HashForCheckpoint() == cfg.HashForCheckpoint() {
		t.Fatal("the edit does not change the config hash")
	}
	tr2, err := LoadTrained(dir, trainedOther)
	if err != nil {
		t.Fatalf("loading under a config with other training keys: %v", err)
	}
	v2 := make([]float32, n)
	_ = tr2.PPO["providers"].Value(b.Obs, n, v2)
	for i := range vd {
		if v2[i] != vd[i] {
			t.Fatalf("row %d: value %g under the other config, %g under the run's", i, v2[i], vd[i])
		}
	}
}

// TestTrainingRaisesReturn trains the tiny market and compares, on the same held-out
// episodes, the trained providers' cumulative return with the untrained learner's. The
// token prices barely move here (ETH volatility 1% a year, no jumps), so the return is
// what the providers earn.
func TestTrainingRaisesReturn(t *testing.T) { testTrainingRaisesReturn(t, "go") }

// testTrainingRaisesReturn is TestTrainingRaisesReturn on the named network backend (the
// torch build runs it on libtorch too: train_torch_test.go).
func testTrainingRaisesReturn(t *testing.T, backend string) {
	cfg := tinyConfig(t)
	cfg.Training.PPO.Backend = backend
	cfg.World.ETH.Sigma = 0.01
	cfg.World.ETH.Jumps.RatePerYear = 0
	// 30 iterations: with the reservation anchor the untrained learner already counters
	// from the cost up, and 12 iterations no longer leave a clear gap (0.0011 -> 0.0014;
	// 25 and more reach 0.0018).
	cfg.Training.Iterations = 30
	cfg.Training.PPO.NumMinibatches = 16
	res, err := Train(context.Background(), cfg, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := ppo.New("providers", cfg.Training.PPO, env.ObsDim, res.Trained.PPO["providers"].NumActions(), rng.New(cfg.Seed, "train.init").Uint64())
	if err != nil {
		t.Fatal(err)
	}
	score := func(tr *Trained) float64 {
		r, err := Eval(context.Background(), cfg, EvalOptions{Episodes: 8, Seed: 5, Trained: tr, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		return float64(r.Doc.Groups[0].Metrics[MetricCumulativeReturn].Mean)
	}
	before := score(&Trained{PPO: map[string]*ppo.Learner{"providers": fresh}})
	after := score(res.Trained)
	t.Logf("providers' cumulative return: untrained %.4f, trained %.4f", before, after)
	if !(after > before+0.0005) {
		t.Fatalf("training did not raise the return: untrained %.4f, trained %.4f", before, after)
	}
}

// TestEval checks the evaluation's document and files on a trained tiny run.
func TestEval(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Training.Iterations = 1
	dir := t.TempDir()
	if _, err := Train(context.Background(), cfg, TrainOptions{Out: dir}); err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrained(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "eval")
	res, err := Eval(context.Background(), cfg, EvalOptions{Episodes: 3, Seed: 100, Baselines: []string{"random", "cost-plus"}, Trained: tr, Out: out, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var names, kinds []string
	for _, g := range res.Doc.Groups {
		names = append(names, g.Name)
		kinds = append(kinds, g.Kind)
		for _, m := range EvalMetrics {
			iv, ok := g.Metrics[m]
			if !ok || iv.N != 3 {
				t.Errorf("group %s metric %s: %+v", g.Name, m, iv)
			}
			if !(float64(iv.CI95[0]) <= float64(iv.Mean) && float64(iv.Mean) <= float64(iv.CI95[1])) {
				t.Errorf("group %s metric %s: mean outside its interval %+v", g.Name, m, iv)
			}
		}
	}
	if strings.Join(names, ",") != "providers,clients,providers/random,providers/cost-plus" ||
		strings.Join(kinds, ",") != "ppo,scripted,scripted,scripted" {
		t.Fatalf("groups %v kinds %v", names, kinds)
	}
	if err := WriteEvalRun(out, &cfg, res, nil); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, out)
	var doc struct {
		Groups []struct {
			Name    string                    `json:"name"`
			Metrics map[string]map[string]any `json:"metrics"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(files["metrics.json"], &doc); err != nil || len(doc.Groups) != 4 {
		t.Fatalf("metrics.json: %v %s", err, files["metrics.json"])
	}
	if ci, ok := doc.Groups[0].Metrics["sharpe"]["ci95"].([]any); !ok || len(ci) != 2 {
		t.Fatalf("sharpe ci95 %v", doc.Groups[0].Metrics["sharpe"])
	}
	lines := strings.Split(strings.TrimSpace(string(files["episodes.csv"])), "\n")
	if lines[0] != "seed,group,metric,value" || len(lines) != 1+3*4*len(EvalMetrics) {
		t.Errorf("episodes.csv has %d lines, header %q", len(lines), lines[0])
	}
	for _, f := range []string{"equity.csv", "market.csv", "series.csv", "threads.jsonl", "run.json", "actions.csv",
		"baselines/random/market.csv", "baselines/random/threads.jsonl", "baselines/cost-plus/market.csv", "baselines/cost-plus/threads.jsonl"} {
		if len(files[f]) == 0 {
			t.Errorf("%s missing", f)
		}
	}
	if bytes.Equal(files["market.csv"], files["baselines/cost-plus/market.csv"]) {
		t.Error("the cost-plus baseline's market.csv equals the trained run's")
	}
	checkClassesCSV(t, &cfg, files["classes.csv"], files["episodes.csv"])
	// The action histogram counts every decision of the trained providers: its counts
	// add up to its total, its shares to 1, and it has one row per action.
	if len(res.Actions) != 1 || res.Actions[0].Group != "providers" || res.Actions[0].Total == 0 {
		t.Fatalf("actions %+v", res.Actions)
	}
	var sum int64
	var share float64
	for _, a := range res.Actions[0].Actions {
		sum += a.Count
		share += a.Share
	}
	if sum != res.Actions[0].Total || math.Abs(share-1) > 1e-12 || len(res.Actions[0].Actions) != 5+len(cfg.Env.Actions.PriceMultipliers)+6*len(cfg.Env.Actions.SwapFractions) {
		t.Errorf("histogram sums to %d of %d, shares to %g, %d actions", sum, res.Actions[0].Total, share, len(res.Actions[0].Actions))
	}
	if lines := strings.Split(strings.TrimSpace(string(files["actions.csv"])), "\n"); lines[0] != "group,action,index,count,share" || len(lines) != 1+len(res.Actions[0].Actions) {
		t.Errorf("actions.csv: %d lines, header %q", len(lines), lines[0])
	}
	for _, l := range strings.Split(strings.TrimSpace(string(files["threads.jsonl"])), "\n") {
		var th threadRec
		if err := json.Unmarshal([]byte(l), &th); err != nil || th.Provider == "" || th.Client == "" || len(th.Offers) == 0 {
			t.Fatalf("thread line %q: %v", l, err)
		}
	}
	// Samples hold episode i at seed Seeds[i], as episodes.csv (keyed by seed) says:
	// what paired differences rely on.
	bySeed := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		bySeed[f[0]+","+f[1]+","+f[2]] = f[3]
	}
	for _, gs := range res.Samples {
		for mi, m := range EvalMetrics {
			for i, x := range gs.Values[mi] {
				key := strconv.FormatUint(res.Seeds[i], 10) + "," + gs.Name + "," + m
				if got := string(AppendCSVFloat(nil, x)); bySeed[key] != got {
					t.Fatalf("Samples[%s][%s][%d] = %s, episodes.csv has %s for seed %d", gs.Name, m, i, got, bySeed[key], res.Seeds[i])
				}
			}
		}
	}
	// The same evaluation again gives the same files.
	out2 := filepath.Join(dir, "eval2")
	res2, err := Eval(context.Background(), cfg, EvalOptions{Episodes: 3, Seed: 100, Baselines: []string{"random", "cost-plus"}, Trained: tr, Out: out2, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = WriteEvalRun(out2, &cfg, res2, nil)
	files2 := readDir(t, out2)
	for _, f := range []string{"metrics.json", "episodes.csv", "equity.csv", "market.csv", "threads.jsonl", "series.csv", "actions.csv",
		"baselines/random/market.csv", "baselines/cost-plus/threads.jsonl"} {
		if !bytes.Equal(files[f], files2[f]) {
			t.Errorf("%s differs between two evaluations (1 and 2 workers)", f)
		}
	}
	if _, err := Eval(context.Background(), cfg, EvalOptions{Episodes: 2, Baselines: []string{"haggler"}, Trained: tr}); err == nil {
		t.Error("unknown baseline: no error")
	}
	if _, err := Eval(context.Background(), cfg, EvalOptions{Episodes: 2, Baselines: []string{"budget"}, Trained: tr}); err == nil {
		t.Error("a client baseline for a provider group: no error")
	}
}

// TestHeldOutSeeds checks that evaluation seeds are distinct and never a training
// episode's seed, even when the evaluation seed equals the run seed.
func TestHeldOutSeeds(t *testing.T) {
	cfg := tinyConfig(t)
	train := map[uint64]bool{}
	for it := 0; it < cfg.Training.Iterations; it++ {
		for k := 0; k < cfg.Training.NumEnvs; k++ {
			train[rng.New(cfg.Seed, "train.episode."+itoa(it)+"."+itoa(k)).Uint64()] = true
		}
	}
	seen := map[uint64]bool{}
	for _, s := range heldOutSeeds(&cfg, cfg.Seed, 50) {
		if train[s] || seen[s] {
			t.Fatalf("seed %d reused", s)
		}
		seen[s] = true
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// BenchmarkTrainDefault trains the default config, one iteration per b.N, and reports
// environment decisions per second end to end (rollouts and updates).
func BenchmarkTrainDefault(b *testing.B) { benchTrain(b, true) }

// BenchmarkTrainLocalCritic is BenchmarkTrainDefault without the centralized critic: the
// difference is the cost of the state vectors and the critic's wider input.
func BenchmarkTrainLocalCritic(b *testing.B) { benchTrain(b, false) }

func benchTrain(b *testing.B, central bool) {
	b.ReportAllocs()
	cfg := DefaultConfig()
	cfg.Training.CentralCritic = central
	cfg.Training.Iterations = b.N
	start := time.Now()
	res, err := Train(context.Background(), cfg, TrainOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Decisions)/time.Since(start).Seconds(), "decisions/s")
}

// TestConfigYAMLRoundTrip: the resolved config a run writes loads back to the same value.
func TestConfigYAMLRoundTrip(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Population = append(cfg.Population.Clone(), agentsGroupForTest())
	cfg.Population[0].Share = 0.5
	cfg.Training.DSR.Decides, cfg.Training.DSR.Features, cfg.Training.DSR.Sigma = agents.DSRDecidesPricing, []string{"market_rel", "free_gpu"}, 0.5
	dir := t.TempDir()
	if err := WriteConfigYAML(dir, cfg, "test"); err != nil {
		t.Fatal(err)
	}
	back, err := LoadFile(filepath.Join(dir, "config.yaml"))
	if err != nil || !reflect.DeepEqual(back, cfg) {
		t.Fatalf("config.yaml does not load back: %v", err)
	}
}

func agentsGroupForTest() agents.GroupConfig {
	return agents.GroupConfig{Name: "cp", Role: agents.RoleProvider, Kind: agents.KindScripted, Strategy: "cost-plus",
		Params: map[string]float64{"margin": 0.3}, Opening: 3, Share: 0.5}
}

// The team reward by hand: weight 0.25, agents 0 and 1 in group 0 with tick rewards 1
// and 3 (mean 2), agent 2 in group 1 alone (reward 5, its own mean), agent 3 in no
// learning group, agent 4 of group 0 gone (not alive: nothing credited).
func TestTeamRewardMix(t *testing.T) {
	p := &pnlAcc{team: 0.25, group: []int{0, 0, 1, -1, 0}, acc: make([]float64, 5),
		tickPnL: []float64{1, 3, 5, 7, 9}, sum: []float64{4, 5}, n: []int{2, 1}}
	p.mix(func(a int) bool { return a != 4 })
	want := []float64{0.75*1 + 0.25*2, 0.75*3 + 0.25*2, 5, 0, 0}
	for a := range want {
		if math.Abs(p.acc[a]-want[a]) > 1e-15 {
			t.Errorf("agent %d credited %g, want %g", a, p.acc[a], want[a])
		}
	}
	if p.sum[0] != 0 || p.n[0] != 0 {
		t.Error("the group sums were not cleared for the next tick")
	}
}

func TestTeamRewardValidate(t *testing.T) {
	for _, c := range []struct {
		reward string
		team   float64
		ok     bool
	}{{RewardPnLReturn, 1, true}, {RewardPnL, 0.5, true}, {RewardEnv, 0, true}, {RewardEnv, 0.5, false}, {RewardPnL, 1.5, false}, {RewardPnL, -0.1, false}} {
		tc := DefaultTrainingConfig()
		tc.Reward, tc.TeamReward = c.reward, c.team
		tc.BookedReward = c.reward != RewardEnv // on by default; reward env refuses it
		err := tc.Validate()
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), "team_reward")) {
			t.Errorf("reward %s, team_reward %g: %v", c.reward, c.team, err)
		}
	}
}

// TestBookedRewardTelescopes: the booked-contract shaping is potential-based, so with
// γ = 1 its terms telescope. Two copies of one random-legal episode (same seed, same
// actions), one accruing plain pnl and one shaped: for every agent the shaped sum of
// the episode's rewards minus the plain sum is the book value of its contracts at the
// end (market.Market.Booked read directly), and with γ = 0.9 it is Σ_t (0.9 Φ_t - Φ_t-1)
// over the Φ series read each tick.
func TestBookedRewardTelescopes(t *testing.T) {
	cfg := tinyConfig(t)
	for _, gamma := range []float64{1, 0.9} {
		var accs [2]*pnlAcc
		var envs [2]*env.Env
		var phi [][]float64
		for i := range envs {
			e, err := env.New(cfg.Settings())
			if err != nil {
				t.Fatal(err)
			}
			p := &pnlAcc{e: e, booked: i == 1, gamma: gamma}
			envs[i], accs[i] = e, p
			e.SetStop(func() bool {
				p.tick()
				if i == 1 {
					phi = append(phi, e.Market().Booked(nil))
				}
				return false
			})
		}
		var sums [2][]float64
		for i, e := range envs {
			b, err := e.Reset(7)
			if err != nil {
				t.Fatal(err)
			}
			accs[i].reset()
			pol := env.NewRandomLegal(rand.New(rand.NewPCG(3, 4)))
			for !b.Done {
				acts := make([]env.Action, b.Len())
				pol.Act(e, b, acts)
				if b, err = e.Step(acts); err != nil {
					t.Fatal(err)
				}
			}
			sums[i] = append([]float64(nil), accs[i].acc...)
		}
		final := phi[len(phi)-1]
		booked := 0
		for a := range sums[0] {
			want := 0.0
			for k := range phi {
				cur, prev := 0.0, 0.0
				if a < len(phi[k]) {
					cur = phi[k][a]
				}
				if k > 0 && a < len(phi[k-1]) {
					prev = phi[k-1][a]
				}
				want += gamma*cur - prev
			}
			if gamma == 1 && math.Abs(want-final[a]) > 1e-9 {
				t.Fatalf("slow sum %g is not the final book %g", want, final[a])
			}
			if got := sums[1][a] - sums[0][a]; math.Abs(got-want) > 1e-9 {
				t.Errorf("γ %g, agent %d: shaping added %.12f over the episode, want %.12f", gamma, a, got, want)
			}
			if final[a] != 0 {
				booked++
			}
		}
		if booked == 0 {
			t.Fatal("no agent had a contract booked at the end: the test shows nothing")
		}
	}
}

func TestBookedRewardValidate(t *testing.T) {
	tc := DefaultTrainingConfig()
	tc.BookedReward = true
	if err := tc.Validate(); err != nil {
		t.Errorf("booked_reward with reward %s: %v", tc.Reward, err)
	}
	tc.Reward = RewardEnv
	if err := tc.Validate(); err == nil || !strings.Contains(err.Error(), "booked_reward") {
		t.Errorf("booked_reward with reward env: %v, want an error naming booked_reward", err)
	}
}

// TestInitKLAnchor fine-tunes a warm-started group under the init_kl penalty: the
// divergence from the init policy it reports (losses/init_kl) is positive, smaller under
// a strong weight than under a weak one, and a run interrupted and resumed rebuilds the
// anchor from the init checkpoint (not from the resumed weights): its curves equal the
// uninterrupted run's byte for byte.
func TestInitKLAnchor(t *testing.T) {
	root := t.TempDir()
	src := tinyConfig(t)
	src.Training.Iterations = 2
	if _, err := Train(context.Background(), src, TrainOptions{Out: filepath.Join(root, "src")}); err != nil {
		t.Fatal(err)
	}
	tuned := func(weight float64) Config {
		c := tinyConfig(t)
		c.Population[0].Init = filepath.Join(root, "src", "checkpoints", "providers-latest.safetensors")
		c.Training.PPO.InitKL = weight
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	initKLs := func(dir string) []float64 {
		pts, err := readCurves(filepath.Join(dir, "curves.csv"))
		if err != nil {
			t.Fatal(err)
		}
		var kl []float64
		for _, p := range pts {
			if p.Group == "providers" && p.Metric == ppo.MetricInitKL {
				kl = append(kl, p.Value)
			}
		}
		if len(kl) != 4 {
			t.Fatalf("%s: %d losses/init_kl rows, want 4", dir, len(kl))
		}
		return kl
	}
	weak, strong, resumed := filepath.Join(root, "weak"), filepath.Join(root, "strong"), filepath.Join(root, "resumed")
	for dir, w := range map[string]float64{weak: 0.01, strong: 20} {
		if _, err := Train(context.Background(), tuned(w), TrainOptions{Out: dir}); err != nil {
			t.Fatal(err)
		}
	}
	kw, ks := initKLs(weak), initKLs(strong)
	for i := range kw {
		if !(kw[i] > 0 && ks[i] > 0) {
			t.Errorf("iteration %d: KL from the init policy %g (weak), %g (strong); want > 0", i+1, kw[i], ks[i])
		}
	}
	if !(ks[3] < kw[3]) {
		t.Errorf("after 4 iterations the strongly anchored policy is %g from its init, the weakly anchored %g", ks[3], kw[3])
	}

	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Train(ctx, tuned(20), TrainOptions{Out: resumed, Progress: func(r IterationReport) {
		if r.Iteration == 2 {
			cancel()
		}
	}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := Train(context.Background(), tuned(20), TrainOptions{Out: resumed, Resume: true}); err != nil {
		t.Fatal(err)
	}
	a, b := readDir(t, strong), readDir(t, resumed)
	for _, name := range []string{"curves.csv", "checkpoints/providers-latest.safetensors"} {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s of the resumed run differs from the uninterrupted run's", name)
		}
	}
}

// checkClassesCSV checks eval's classes.csv against episodes.csv: every group's
// cumulative return in an episode is the mean over its agents, so the agent-weighted
// mean of its classes' rows must give it back; and the classes are the config's.
func checkClassesCSV(t *testing.T, cfg *Config, classes, episodes []byte) {
	t.Helper()
	known := map[string]bool{}
	for _, p := range cfg.Market.Providers {
		known[p.Name] = p.Count > 0
	}
	for _, c := range cfg.Market.Clients {
		known[c.Name] = c.Count > 0
	}
	lines := strings.Split(strings.TrimSpace(string(classes)), "\n")
	if lines[0] != "seed,group,class,agents,metric,value" || len(lines) < 2 {
		t.Fatalf("classes.csv: header %q, %d lines", lines[0], len(lines))
	}
	type key struct{ seed, group string }
	sum, agents := map[key]float64{}, map[key]float64{}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 6 {
			t.Fatalf("classes.csv line %q", l)
		}
		if !known[f[2]] {
			t.Fatalf("classes.csv: class %q is not one of the config's", f[2])
		}
		seen[f[2]] = true
		if f[4] != MetricCumulativeReturn {
			continue
		}
		n, err1 := strconv.ParseFloat(f[3], 64)
		x, err2 := strconv.ParseFloat(f[5], 64)
		if err1 != nil || err2 != nil || n < 1 {
			t.Fatalf("classes.csv line %q", l)
		}
		k := key{f[0], f[1]}
		sum[k] += n * x
		agents[k] += n
	}
	for name, present := range known {
		if present && !seen[name] {
			t.Errorf("classes.csv has no row for class %s", name)
		}
	}
	checked := 0
	for _, l := range strings.Split(strings.TrimSpace(string(episodes)), "\n")[1:] {
		f := strings.Split(l, ",")
		if f[2] != MetricCumulativeReturn {
			continue
		}
		want, _ := strconv.ParseFloat(f[3], 64)
		k := key{f[0], f[1]}
		if agents[k] == 0 {
			t.Fatalf("classes.csv has no rows for seed %s group %s", k.seed, k.group)
		}
		if got := sum[k] / agents[k]; math.Abs(got-want) > 1e-12+1e-9*math.Abs(want) {
			t.Errorf("seed %s group %s: classes give %g, episodes.csv %g", k.seed, k.group, got, want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no episode checked")
	}
}
