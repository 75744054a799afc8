package dsr

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/internal/rng"
)

func scoreConfig(extra int) Config {
	return Config{Eta: 0.05, LearningRate: 0.05, Extra: extra, InitScale: 0.1, MaxGradNorm: 0, Gradient: GradientScore, Sigma: 0.4, Trace: 0.5, BaselineEta: 0.1}
}

// The first steps of the score-function learner recomputed by hand: the features
// (extra, previous decision, 1), the draw a = μ + σ ε with ε from a copy of the random
// stream, the score (a - μ)/σ² z, the trace, the differential Sharpe ratio from the
// moments (eq. 16, written out here), the baseline and the weights.
func TestScoreStepsByHand(t *testing.T) {
	cfg := scoreConfig(1)
	l, err := New(cfg, 5)
	must(t, err)
	theta := l.Theta()
	rnd, mirror := rng.New(1, "explore"), rng.New(1, "explore")
	var (
		prevF, a, b, base float64
		trace             = make([]float64, 3)
	)
	feats := []float64{0.7, -1.3, 0.2, 2.0, -0.4, 1.1}
	rets := []float64{0.01, -0.02, 0.015, 0.03, -0.01, 0.005}
	for t0 := range feats {
		f, err := l.Explore(0, 0, []float64{feats[t0]}, rnd)
		must(t, err)
		z := []float64{feats[t0], prevF, 1}
		mu := theta[0]*z[0] + theta[1]*z[1] + theta[2]*z[2]
		eps := mirror.NormFloat64()
		act := mu + cfg.Sigma*eps
		if want := math.Tanh(act); math.Abs(f-want) > 1e-15 {
			t.Fatalf("step %d: F %v, want %v", t0, f, want)
		}
		ret := rets[t0]
		var d float64
		if v := b - a*a; v > 0 {
			d = (b*(ret-a) - 0.5*a*(ret*ret-b)) / math.Pow(v, 1.5)
		}
		got, err := l.Feedback(0, ret, 0, 0)
		must(t, err)
		if math.Abs(got-d) > 1e-12*math.Max(1, math.Abs(d)) {
			t.Fatalf("step %d: D %v, want %v", t0, got, d)
		}
		for i := range trace {
			trace[i] = cfg.Trace*trace[i] + (act-mu)/(cfg.Sigma*cfg.Sigma)*z[i]
		}
		for i := range theta {
			theta[i] += cfg.LearningRate * (d - base) * trace[i]
		}
		base += cfg.BaselineEta * (d - base)
		a += cfg.Eta * (ret - a)
		b += cfg.Eta * (ret*ret - b)
		prevF = f
		for i, w := range l.Theta() {
			if math.Abs(w-theta[i]) > 1e-12 {
				t.Fatalf("step %d: θ[%d] = %v, want %v", t0, i, w, theta[i])
			}
		}
		if math.Abs(l.Baseline()-base) > 1e-12 {
			t.Fatalf("step %d: baseline %v, want %v", t0, l.Baseline(), base)
		}
	}
}

// A contextual bandit the RRL gradient cannot learn (the return has no derivative the
// learner is told): each step a feature x = ±1 is drawn, and the return of decision F is
// 0.002 (1 - 4 (F - x/2)²) plus noise of sd 0.001, so the Sharpe-best decision is
// F = x/2. From small random weights the score-function learner ends, greedily, within
// 0.15 of it for both contexts; with the learning rate 0 it stays near F = 0.
func TestScoreLearnsContextualBandit(t *testing.T) {
	run := func(rate float64) (lo, hi float64) {
		cfg := scoreConfig(1)
		cfg.LearningRate, cfg.Trace, cfg.Sigma, cfg.MaxGradNorm = rate, 0, 0.3, 1
		l, err := New(cfg, 3)
		must(t, err)
		ctx, noise, rnd := rng.New(2, "x"), rng.New(2, "noise"), rng.New(2, "explore")
		for i := 0; i < 40000; i++ {
			x := 1.0
			if ctx.IntN(2) == 0 {
				x = -1
			}
			f, err := l.Explore(0, 0, []float64{x}, rnd)
			must(t, err)
			ret := 0.002*(1-4*(f-x/2)*(f-x/2)) + 0.001*noise.NormFloat64()
			_, err = l.Feedback(0, ret, 0, 0)
			must(t, err)
		}
		greedy := func(x float64) float64 {
			// The greedy decision after a previous decision of x/2.
			th := l.Theta()
			return math.Tanh(th[0]*x + th[1]*x/2 + th[2])
		}
		return greedy(-1), greedy(1)
	}
	lo, hi := run(0.003)
	if math.Abs(lo+0.5) > 0.15 || math.Abs(hi-0.5) > 0.15 {
		t.Errorf("learned F(-1) = %.3f, F(+1) = %.3f; want -0.5 and +0.5 within 0.15", lo, hi)
	}
	lo0, hi0 := run(0)
	if math.Abs(lo0) > 0.3 || math.Abs(hi0) > 0.3 {
		t.Errorf("with learning rate 0: F(-1) = %.3f, F(+1) = %.3f, want both near 0", lo0, hi0)
	}
}

// Saving while decisions wait for their returns (a price held over a period) and
// restoring, by Load and by Restore into a learner of another seed, continues to a
// byte-identical checkpoint; Observe and Forget leave the weights alone.
func TestScoreCheckpointResume(t *testing.T) {
	cfg := scoreConfig(2)
	cfg.WarmUp = 3
	type step struct {
		x   [2]float64
		ret float64
	}
	src := rng.New(4, "data")
	steps := make([]step, 400)
	for i := range steps {
		steps[i] = step{[2]float64{src.NormFloat64(), src.Float64()}, 0.01 * src.NormFloat64()}
	}
	// Agents 0 and 3 alternate; each decision's return is reported at its next turn.
	run := func(l *Learner, rnd *rand.Rand, from, to int) {
		for i := from; i < to; i++ {
			key := 3 * (i % 2)
			if i >= 2 {
				_, err := l.Feedback(key, steps[i].ret, 0, 0)
				must(t, err)
			}
			_, err := l.Explore(key, steps[i].ret, steps[i].x[:], rnd)
			must(t, err)
		}
	}
	straight, _ := New(cfg, 7)
	rnd := rng.New(9, "explore")
	run(straight, rnd, 0, 400)
	want := savedBytes(t, straight)

	// Two runs stopped at the same decision, so that the two resumed ones each have
	// their random stream where the save left it.
	half := func() (*Learner, *rand.Rand, []byte) {
		l, _ := New(cfg, 7)
		r := rng.New(9, "explore")
		run(l, r, 0, 201)
		return l, r, savedBytes(t, l)
	}
	_, r1, file := half()
	loaded, err := Load(bytes.NewReader(file), nil)
	must(t, err)
	run(loaded, r1, 201, 400)
	if !bytes.Equal(savedBytes(t, loaded), want) {
		t.Error("Load with decisions waiting, then continue: checkpoint differs from the uninterrupted run's")
	}
	_, r2, _ := half()
	restored, _ := New(cfg, 99)
	must(t, restored.Restore(bytes.NewReader(file), nil))
	run(restored, r2, 201, 400)
	if !bytes.Equal(savedBytes(t, restored), want) {
		t.Error("Restore with decisions waiting, then continue: checkpoint differs from the uninterrupted run's")
	}

	// Evaluation: Decide is greedy, Observe does not learn, Forget drops a waiting
	// decision.
	th, base := loaded.Theta(), loaded.Baseline()
	for _, key := range []int{0, 3} {
		_, err := loaded.Observe(key, 0.02)
		must(t, err)
	}
	g, err := loaded.Decide(11, 0, []float64{1, 0.5}) // a new agent: previous decision 0
	must(t, err)
	if want := math.Tanh(th[0] + 0.5*th[1] + th[3]); math.Abs(g-want) > 1e-15 {
		t.Errorf("greedy decision %v, want tanh(θ·z) = %v", g, want)
	}
	_, err = loaded.Observe(11, -0.01)
	must(t, err)
	_, err = loaded.Explore(0, 0, []float64{0, 0}, rng.New(1, "x"))
	must(t, err)
	loaded.Forget(0)
	if _, err := loaded.Feedback(0, 0.01, 0, 0); !errors.Is(err, ErrSequence) {
		t.Errorf("feedback after Forget: %v, want ErrSequence", err)
	}
	for i, w := range loaded.Theta() {
		if w != th[i] {
			t.Fatalf("Decide, Observe and Forget changed θ[%d]", i)
		}
	}
	if loaded.Baseline() != base {
		t.Error("Observe changed the baseline")
	}
}

// The calls a learning rule does not have, and checkpoints of the other rule, are
// refused.
func TestScoreRuleErrors(t *testing.T) {
	rrl, _ := New(DefaultConfig(), 1)
	if _, err := rrl.Explore(0, 0, nil, rng.New(1, "x")); !errors.Is(err, ErrRule) {
		t.Errorf("Explore on the RRL learner: %v", err)
	}
	cfg := DefaultConfig()
	cfg.Gradient = GradientScore
	sc, _ := New(cfg, 1)
	if _, err := sc.Step(0, 0.01, nil); !errors.Is(err, ErrRule) {
		t.Errorf("Step on the score-function learner: %v", err)
	}
	if _, err := sc.Explore(0, 0, nil, nil); !errors.Is(err, ErrInput) {
		t.Errorf("Explore without a random source: %v", err)
	}
	_, err := sc.Explore(0, 0.01, nil, rng.New(1, "x"))
	must(t, err)
	if _, err := sc.Explore(0, 0.01, nil, rng.New(1, "x")); !errors.Is(err, ErrSequence) {
		t.Errorf("Explore twice: %v", err)
	}
	scFile := savedBytes(t, sc)
	_, err = rrl.Step(0, 0.01, nil)
	must(t, err)
	rrlFile := savedBytes(t, rrl)
	if err := rrl.Restore(bytes.NewReader(scFile), nil); !errors.Is(err, checkpoint.ErrMismatch) {
		t.Errorf("score checkpoint into the RRL learner: %v", err)
	}
	if err := sc.Restore(bytes.NewReader(rrlFile), nil); !errors.Is(err, checkpoint.ErrFormat) {
		t.Errorf("RRL checkpoint into the score-function learner: %v", err)
	}
	for _, bad := range []Config{
		{Eta: 0.01, Gradient: "reinforce"},
		{Eta: 0.01, Gradient: GradientScore, Sigma: -1},
		{Eta: 0.01, Gradient: GradientScore, Trace: 1},
		{Eta: 0.01, Gradient: GradientScore, BaselineEta: 1.5},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v: valid", bad)
		}
	}
}

// Perturb and Credit recomputed by hand: the perturbed weights θ + σ ε with ε from a
// copy of the stream, then its mirror -ε drawing nothing, D_t from the group's own
// moments, and the update ρ (D_t - b) ε / σ.
func TestGroupStepsByHand(t *testing.T) {
	cfg := scoreConfig(1)
	l, err := New(cfg, 5)
	must(t, err)
	theta := l.Theta()
	rnd, mirror := rng.New(3, "perturb"), rng.New(3, "perturb")
	var a, b, base float64
	eps := make([]float64, len(theta))
	rets := []float64{0.01, -0.004, 0.02, 0.007, -0.01}
	for step, ret := range rets {
		dst, err := l.Perturb(2, rnd, nil)
		must(t, err)
		for i := range eps {
			if step%2 == 0 {
				eps[i] = mirror.NormFloat64()
			} else {
				eps[i] = -eps[i]
			}
			if want := theta[i] + cfg.Sigma*eps[i]; math.Abs(dst[i]-want) > 1e-15 {
				t.Fatalf("step %d: perturbed θ[%d] = %v, want %v", step, i, dst[i], want)
			}
		}
		if _, err := l.Perturb(2, rnd, nil); !errors.Is(err, ErrSequence) {
			t.Fatalf("perturbed twice: %v", err)
		}
		var d float64
		if v := b - a*a; v > 0 {
			d = (b*(ret-a) - 0.5*a*(ret*ret-b)) / math.Pow(v, 1.5)
		}
		got, err := l.Credit(2, ret)
		must(t, err)
		if math.Abs(got-d) > 1e-12*math.Max(1, math.Abs(d)) {
			t.Fatalf("step %d: D %v, want %v", step, got, d)
		}
		for i := range theta {
			theta[i] += cfg.LearningRate * (d - base) * eps[i] / cfg.Sigma
		}
		base += cfg.BaselineEta * (d - base)
		a += cfg.Eta * (ret - a)
		b += cfg.Eta * (ret*ret - b)
		for i, w := range l.Theta() {
			if math.Abs(w-theta[i]) > 1e-12 {
				t.Fatalf("step %d: θ[%d] = %v, want %v", step, i, w, theta[i])
			}
		}
	}
	if _, err := l.Credit(2, 0.01); !errors.Is(err, ErrSequence) {
		t.Errorf("credit without a perturbation: %v", err)
	}
	if _, err := l.Credit(7, 0.01); !errors.Is(err, ErrSequence) {
		t.Errorf("credit for an unknown group: %v", err)
	}
}

// bertrand plays a price war between four sellers that share the weights: each round
// every seller names F in [-1, 1], the lowest sells one unit at a margin of
// 0.01 (1 + F) and the others sell nothing (every return carries noise of sd 0.001).
// Each seller gains by undercutting the others, and the group earns most when all ask
// the most. With group, the sellers decide with one perturbation of the weights and the
// learner is credited with the group's return; otherwise each explores on its own and
// is credited with its own return. It returns the greedy decision at the end.
func bertrand(t *testing.T, group bool) float64 {
	cfg := Config{Eta: 0.02, LearningRate: 0.002, InitScale: 0.1, MaxGradNorm: 1, Gradient: GradientScore, Sigma: 0.3}
	l, err := New(cfg, 1)
	must(t, err)
	rnd, noise := rng.New(4, "explore"), rng.New(4, "noise")
	const sellers = 4
	var w []float64
	fs, rets := make([]float64, sellers), make([]float64, sellers)
	for round := 0; round < 30000; round++ {
		if group {
			if w, err = l.Perturb(0, rnd, w); err != nil {
				t.Fatal(err)
			}
		}
		win := 0
		for i := range fs {
			if group {
				fs[i], err = l.DecideAt(i, 0, nil, w)
			} else {
				fs[i], err = l.Explore(i, 0, nil, rnd)
			}
			must(t, err)
			if fs[i] < fs[win] {
				win = i
			}
		}
		total := 0.0
		for i := range rets {
			rets[i] = 0.001 * noise.NormFloat64()
			if i == win {
				rets[i] += 0.01 * (1 + fs[i])
			}
			total += rets[i]
		}
		for i, r := range rets {
			if group {
				_, err = l.Observe(i, r)
			} else {
				_, err = l.Feedback(i, r, 0, 0)
			}
			must(t, err)
		}
		if group {
			_, err = l.Credit(0, total/sellers)
			must(t, err)
		}
	}
	f, err := l.Decide(sellers, 0, nil) // a new seller: previous decision 0
	must(t, err)
	return f
}

// In the price war, exploring as individuals learns to undercut (the greedy decision
// falls below -0.5) and exploring as a group learns to ask more (above +0.5): the reason
// a dsr pricing group shares market counterparties with its own members should explore
// with explore: group.
func TestGroupExplorationAvoidsPriceWar(t *testing.T) {
	if f := bertrand(t, false); f > -0.5 {
		t.Errorf("individual exploration: greedy F %.3f, want below -0.5 (undercutting)", f)
	}
	if f := bertrand(t, true); f < 0.5 {
		t.Errorf("group exploration: greedy F %.3f, want above +0.5", f)
	}
}
