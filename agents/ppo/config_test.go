package ppo

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// CleanRL's ppo.py defaults, restated from its Args dataclass.
func TestDefaultConfigIsCleanRL(t *testing.T) {
	c := DefaultConfig()
	if c.LearningRate != 2.5e-4 || c.Gamma != 0.99 || c.GAELambda != 0.95 || c.NumMinibatches != 4 ||
		c.UpdateEpochs != 4 || !c.NormAdv || c.ClipCoef != 0.2 || !c.ClipVLoss || c.EntCoef != 0.01 ||
		c.VFCoef != 0.5 || c.MaxGradNorm != 0.5 || c.TargetKL != 0 || c.AdamEps != 1e-5 ||
		len(c.Hidden) != 2 || c.Hidden[0] != 64 || c.Hidden[1] != 64 || c.Activation != "tanh" || c.Backend != "go" {
		t.Errorf("DefaultConfig() = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the default config is invalid: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	c.LearningRate = math.NaN()
	c.AnnealLR = true
	c.Gamma = 1.5
	c.GAELambda = -0.1
	c.NumMinibatches = 0
	c.UpdateEpochs = 0
	c.ClipCoef = 1
	c.EntCoef = -1
	c.VFCoef = math.Inf(1)
	c.MaxGradNorm = -0.5
	c.TargetKL = -1
	c.AdamEps = 0
	c.Hidden = []int{64, 0}
	c.Activation = "sigmoid"
	c.Backend = "cuda"
	err := c.Validate()
	paths := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *fieldpath.Error
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a fieldpath error", e)
		}
		paths[fe.Path] = true
	}
	for _, p := range []string{"learning_rate", "total_updates", "gamma", "gae_lambda", "num_minibatches",
		"update_epochs", "clip_coef", "ent_coef", "vf_coef", "max_grad_norm", "target_kl", "adam_eps",
		"hidden[1]", "activation", "backend"} {
		if !paths[p] {
			t.Errorf("no error for %s (got %v)", p, err)
		}
	}
	if _, err := New("x", c, 1, 1, 1); err == nil {
		t.Error("New accepted an invalid config")
	}
}

// The YAML keys are CleanRL's argument names, and a config read from YAML is the same
// config (same hash).
func TestConfigYAML(t *testing.T) {
	src := `
learning_rate: 0.001
anneal_lr: true
total_updates: 100
gamma: 0.98
gae_lambda: 0.9
num_minibatches: 8
update_epochs: 10
norm_adv: false
clip_coef: 0.1
clip_vloss: false
ent_coef: 0.02
vf_coef: 1
max_grad_norm: 1
target_kl: 0.015
adam_eps: 1.0e-8
hidden: [128, 128]
activation: relu
backend: go
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := Config{LearningRate: 0.001, AnnealLR: true, TotalUpdates: 100, Gamma: 0.98, GAELambda: 0.9,
		NumMinibatches: 8, UpdateEpochs: 10, ClipCoef: 0.1, EntCoef: 0.02, VFCoef: 1, MaxGradNorm: 1,
		TargetKL: 0.015, AdamEps: 1e-8, Hidden: []int{128, 128}, Activation: "relu", Backend: "go"}
	if c.Hash() != want.Hash() {
		t.Errorf("decoded %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	out, err := yaml.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("gae_lambda: 0.95")) || !bytes.Contains(out, []byte("clip_vloss: true")) {
		t.Errorf("YAML of the default config:\n%s", out)
	}
}

// Update reports CleanRL's metric names, in a fixed order, with sane values.
func TestStatsNames(t *testing.T) {
	want := []string{"losses/policy_loss", "losses/value_loss", "losses/entropy", "losses/old_approx_kl",
		"losses/approx_kl", "losses/clipfrac", "losses/explained_variance", "charts/learning_rate", "losses/init_kl"}
	env := newBandit(3)
	cfg := toyConfig()
	cfg.AnnealLR, cfg.TotalUpdates = true, 4
	l, _ := New("stats", cfg, env.nCtx, env.nAct, 3)
	buf := l.NewBuffer()
	runBandit(t, l, env, buf, nil2rand(), 16, 4, 2) // two updates
	// A third by hand, to look at its stats.
	d, k := env.nCtx, env.nAct
	obs, mask := make([]float32, d), make([]bool, k)
	a, lp, v := make([]int, 1), make([]float32, 1), make([]float32, 1)
	r := nil2rand()
	for i := 0; i < 64; i++ {
		env.draw(obs, mask)
		must(t, l.Act(obs, mask, 1, r, a, lp, v))
		must(t, buf.Add(i, 0, obs, mask, a[0], lp[0], v[0]))
		must(t, buf.Reward(i, 0, float64(i%3)))
		must(t, buf.End(i, 1, true, 0))
	}
	st, err := l.Update(buf)
	if err != nil {
		t.Fatal(err)
	}
	list := st.List()
	if len(list) != len(want) {
		t.Fatalf("%d metrics", len(list))
	}
	for i, m := range list {
		if m.Name != want[i] {
			t.Errorf("metric %d is %q, want %q", i, m.Name, want[i])
		}
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			t.Errorf("%s = %g", m.Name, m.Value)
		}
	}
	// The third of four annealed updates runs at (1 - 2/4) of the learning rate.
	if got := st.Get(MetricLearningRate); got != cfg.LearningRate*0.5 {
		t.Errorf("learning rate %g, want %g", got, cfg.LearningRate*0.5)
	}
	if st.Samples != 64 || st.Epochs != cfg.UpdateEpochs || st.Minibatches != cfg.UpdateEpochs*cfg.NumMinibatches {
		t.Errorf("samples %d epochs %d minibatches %d", st.Samples, st.Epochs, st.Minibatches)
	}
	if st.Get(MetricEntropy) <= 0 || st.Get(MetricApproxKL) < 0 || st.Get(MetricClipFrac) < 0 || st.Get(MetricClipFrac) > 1 {
		t.Errorf("implausible stats %v", list)
	}
	if !math.IsNaN(st.Get("losses/nonexistent")) {
		t.Error("Get of an unknown name is not NaN")
	}
}

// A target KL of almost zero stops every update after its first epoch.
func TestTargetKLStopsEarly(t *testing.T) {
	env := newBandit(4)
	cfg := toyConfig()
	cfg.TargetKL = 1e-12
	l, _ := New("kl", cfg, env.nCtx, env.nAct, 4)
	buf := l.NewBuffer()
	runBandit(t, l, env, buf, nil2rand(), 32, 2, 1)
	r := nil2rand()
	d, k := env.nCtx, env.nAct
	obs, mask := make([]float32, d), make([]bool, k)
	a, lp, v := make([]int, 1), make([]float32, 1), make([]float32, 1)
	for i := 0; i < 32; i++ {
		env.draw(obs, mask)
		must(t, l.Act(obs, mask, 1, r, a, lp, v))
		must(t, buf.Add(i, 0, obs, mask, a[0], lp[0], v[0]))
		must(t, buf.Reward(i, 0, float64(i%3)))
		must(t, buf.End(i, 1, true, 0))
	}
	st, err := l.Update(buf)
	if err != nil {
		t.Fatal(err)
	}
	if st.Epochs != 1 || st.Minibatches != cfg.NumMinibatches {
		t.Errorf("%d epochs, %d minibatches; want 1 and %d", st.Epochs, st.Minibatches, cfg.NumMinibatches)
	}
}

// Hash is defined for every config, invalid ones included, and tells configs apart.
func TestConfigHash(t *testing.T) {
	a, b := DefaultConfig(), DefaultConfig()
	if a.Hash() != b.Hash() || len(a.Hash()) != 64 {
		t.Fatalf("equal configs: %s, %s", a.Hash(), b.Hash())
	}
	b.Hidden = []int{64, 65}
	c := DefaultConfig()
	c.LearningRate = math.NaN()
	d := DefaultConfig()
	d.LearningRate = math.NaN()
	if a.Hash() == b.Hash() || a.Hash() == c.Hash() || c.Hash() != d.Hash() {
		t.Error("different configs hash equal, or a NaN config hashes unstably")
	}
}

// The schedules: with TotalUpdates 4, the entropy weight 0.02 decays by a quarter per
// update (0.02, 0.015, 0.01, 0.005, then 0) and the learning rate keeps its value unless
// AnnealLR; with both, both decay.
func TestSchedule(t *testing.T) {
	env := newBandit(3)
	for _, annealLR := range []bool{false, true} {
		cfg := toyConfig()
		cfg.EntCoef, cfg.AnnealEnt, cfg.AnnealLR, cfg.TotalUpdates = 0.02, true, annealLR, 4
		cfg.LearningRate = 0.001
		l, err := New("sched", cfg, env.nCtx, env.nAct, 3)
		if err != nil {
			t.Fatal(err)
		}
		buf := l.NewBuffer()
		wantEnt := []float64{0.02, 0.015, 0.01, 0.005, 0, 0}
		for u, we := range wantEnt {
			lr, ent := l.Schedule()
			wl := 0.001
			if annealLR {
				wl = 0.001 * we / 0.02
			}
			if math.Abs(ent-we) > 1e-15 || math.Abs(lr-wl) > 1e-15 {
				t.Fatalf("anneal_lr %v, update %d: lr %g, ent_coef %g; want %g, %g", annealLR, u, lr, ent, wl, we)
			}
			runBandit(t, l, env, buf, nil2rand(), 8, 2, 1)
		}
	}
	c := DefaultConfig()
	c.AnnealEnt = true
	if err := c.Validate(); err == nil {
		t.Error("anneal_ent without total_updates accepted")
	}
}
