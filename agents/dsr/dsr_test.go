package dsr

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/metrics"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ar1 returns n returns r_t = φ r_{t-1} + σ ε_t, ε standard normal from r.
func ar1(r *rand.Rand, n int, phi, sigma float64) []float64 {
	out := make([]float64, n)
	prev := 0.0
	for i := range out {
		prev = phi*prev + sigma*r.NormFloat64()
		out[i] = prev
	}
	return out
}

// reference is a slow, independent transcription of the trader for a fixed θ: the
// features (window of scaled returns newest first, extras, previous position, 1), the
// position tanh(θ·z), the trading return, and the moments. It returns the trading
// returns and the moments A, B before the last step.
func reference(cfg Config, theta, rs []float64, extras [][]float64) (rets []float64, aLast, bLast float64) {
	var prevF, a, b, v float64
	window := make([]float64, cfg.Window)
	for t, r := range rs {
		x := r
		if cfg.NormEta > 0 {
			if v == 0 {
				v = r * r
			}
			if v > 0 {
				x = r / math.Sqrt(v)
			}
			v = v + cfg.NormEta*(r*r-v)
		}
		window = append([]float64{x}, window[:len(window)-1]...)
		z := append(append(append([]float64{}, window...), extras[t]...), prevF, 1)
		var s float64
		for i := range z {
			s += theta[i] * z[i]
		}
		f := math.Tanh(s)
		ret := prevF*r - cfg.Cost*math.Abs(f-prevF)
		rets = append(rets, ret)
		aLast, bLast = a, b
		a += cfg.Eta * (ret - a)
		b += cfg.Eta * (ret*ret - b)
		prevF = f
	}
	return rets, aLast, bLast
}

// The analytic gradient dD_T/dθ the learner steps along, checked against central
// finite differences of D_T(θ) on a short fixed series: with ρ = 0 the weights stay
// fixed, so the recurrence dF_t/dθ is exact, and D_T is a function of θ through R_T
// with A_{T-1}, B_{T-1} held at their values (the paper's online gradient). The
// reference recomputes the whole series for each perturbed θ.
func TestGradientFiniteDifference(t *testing.T) {
	for _, normEta := range []float64{0, 0.05} {
		cfg := Config{Eta: 0.1, LearningRate: 0, Cost: 0.003, Window: 3, Extra: 2, NormEta: normEta, InitScale: 0.7}
		const T = 15
		l, err := New(cfg, 3)
		must(t, err)
		theta := l.Theta()
		r := rng.New(1, "fd")
		rs := make([]float64, T)
		extras := make([][]float64, T)
		for i := range rs {
			rs[i] = 0.02 * r.NormFloat64()
			extras[i] = []float64{r.NormFloat64(), r.Float64()}
		}
		var last Outcome
		for i := range rs {
			last, err = l.Step(0, rs[i], extras[i])
			must(t, err)
		}
		rets, a, b := reference(cfg, theta, rs, extras)
		if math.Abs(rets[T-1]-last.Return) > 1e-15 {
			t.Fatalf("norm_eta %g: learner's R_T %g, reference %g", normEta, last.Return, rets[T-1])
		}
		d := func(th []float64) float64 {
			rets, _, _ := reference(cfg, th, rs, extras)
			rT := rets[T-1]
			return (b*(rT-a) - 0.5*a*(rT*rT-b)) / math.Pow(b-a*a, 1.5)
		}
		if got := d(theta); math.Abs(got-last.DSR) > 1e-9*math.Abs(got) {
			t.Fatalf("norm_eta %g: learner's D_T %g, reference %g", normEta, last.DSR, got)
		}
		const h = 1e-6
		for i := range theta {
			p, m := append([]float64(nil), theta...), append([]float64(nil), theta...)
			p[i] += h
			m[i] -= h
			fd := (d(p) - d(m)) / (2 * h)
			if math.Abs(fd-l.grad[i]) > 1e-6*(1+math.Abs(fd)) {
				t.Errorf("norm_eta %g: dD/dθ[%d] = %.10g, central difference %.10g", normEta, i, l.grad[i], fd)
			}
		}
	}
}

// The learner's D_t and moving Sharpe ratio are metrics.DifferentialSharpe's, and
// dD_t/dR_t is the central difference of metrics' D_t in R_t (on a copy of the
// estimator: the struct holds no pointers).
func TestDSRMatchesMetrics(t *testing.T) {
	const eta = 0.05
	ref := metrics.NewDifferentialSharpe(eta)
	var a, b float64
	r := rng.New(2, "dsr")
	for i := 0; i < 2000; i++ {
		x := 0.01*r.NormFloat64() + 0.002
		if i > 10 {
			const h = 1e-7
			p, m := ref, ref
			fd := (p.Update(x+h) - m.Update(x-h)) / (2 * h)
			if g := dDdR(a, b, x); math.Abs(g-fd) > 1e-5*math.Abs(fd) {
				t.Fatalf("step %d: dD/dR %g, central difference %g", i, g, fd)
			}
		}
		want := ref.Update(x)
		got := diffSharpe(a, b, x)
		a += eta * (x - a)
		b += eta * (x*x - b)
		if math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Fatalf("step %d: D %g, metrics %g", i, got, want)
		}
	}
	// And through the learner, agent by agent.
	cfg := DefaultConfig()
	cfg.Eta = eta
	l, err := New(cfg, 1)
	must(t, err)
	m := metrics.NewDifferentialSharpe(eta)
	for _, x := range ar1(rng.New(3, "x"), 500, 0.1, 0.01) {
		o, err := l.Step(0, x, nil)
		must(t, err)
		if want := m.Update(o.Return); math.Abs(o.DSR-want) > 1e-12*math.Abs(want) {
			t.Fatalf("learner D %g, metrics %g", o.DSR, want)
		}
	}
	if s, want := l.Sharpe(0), m.Sharpe(); math.Abs(s-want) > 1e-12*math.Abs(want) {
		t.Errorf("moving Sharpe %g, metrics %g", s, want)
	}
	if !math.IsNaN(l.Sharpe(7)) {
		t.Error("Sharpe of an unknown agent is not NaN")
	}
}

// trainEval trains a fresh learner online on n returns of the AR(1) with coefficient
// phi (σ = 0.01), then trades a fresh out-of-sample series of m returns with the weights
// frozen, and returns the out-of-sample per-period Sharpe ratio of the trading returns
// and the mean turnover |F_t - F_{t-1}|.
func trainEval(t *testing.T, cfg Config, seed uint64, phi float64, n, m int) (sharpe, turnover float64) {
	t.Helper()
	l, err := New(cfg, seed)
	must(t, err)
	for _, r := range ar1(rng.New(seed, "train"), n, phi, 0.01) {
		_, err := l.Step(0, r, nil)
		must(t, err)
	}
	theta := l.Theta()
	rets := make([]float64, m)
	prev := l.Position(0)
	for i, r := range ar1(rng.New(seed, "test"), m, phi, 0.01) {
		o, err := l.Trade(0, r, nil)
		must(t, err)
		rets[i] = o.Return
		turnover += math.Abs(o.Position - prev)
		prev = o.Position
	}
	for i, w := range l.Theta() {
		if w != theta[i] {
			t.Fatal("Trade changed the weights")
		}
	}
	return metrics.Sharpe(rets, 0, 1), turnover / float64(m)
}

// Tolerances for a per-period Sharpe ratio estimated on N returns: with no edge,
// R_t = F_{t-1} r_t is a martingale difference (F_{t-1} uses only past returns, r_t is
// independent of the past with mean 0), so the sample mean has standard error
// sqrt(E[F²] σ² / N) and the sample deviation tends to sqrt(E[F²]) σ: the Sharpe
// estimate has standard error about 1/sqrt(N).
const oosN = 5000

// On returns with positive autocorrelation (AR(1), φ = 0.2) the trained trader's
// out-of-sample Sharpe ratio is clearly positive: more than 5 standard errors (5/√N).
// (For reference, holding sign(r_t) earns a per-period Sharpe ratio of about
// φ sqrt(2/π) ≈ 0.16 here.)
func TestLearnsAutocorrelation(t *testing.T) {
	cfg := DefaultConfig()
	for seed := uint64(1); seed <= 3; seed++ {
		s, _ := trainEval(t, cfg, seed, 0.2, 20000, oosN)
		t.Logf("seed %d: out-of-sample Sharpe %.4f per period", seed, s)
		if limit := 5 / math.Sqrt(oosN); s < limit {
			t.Errorf("seed %d: out-of-sample Sharpe %.4f, want > %.4f", seed, s, limit)
		}
	}
}

// On i.i.d. returns the trader finds no edge: the out-of-sample Sharpe ratio is within
// 4 standard errors (4/√N) of 0, with and without transaction costs (the cost's bias,
// δ × turnover / σ, is negligible at the turnover it learns).
func TestNoEdgeOnIID(t *testing.T) {
	for _, cost := range []float64{0, 0.002} {
		cfg := DefaultConfig()
		cfg.Cost = cost
		for seed := uint64(1); seed <= 3; seed++ {
			s, _ := trainEval(t, cfg, seed, 0, 20000, oosN)
			t.Logf("cost %g seed %d: out-of-sample Sharpe %.4f", cost, seed, s)
			if limit := 4 / math.Sqrt(oosN); math.Abs(s) > limit {
				t.Errorf("cost %g seed %d: out-of-sample Sharpe %.4f on i.i.d. returns, want |S| <= %.4f", cost, seed, s, limit)
			}
		}
	}
}

// Transaction costs reduce turnover: on the same AR(1) series and seed, the learned
// out-of-sample turnover falls strictly as δ rises from 0 to 0.2σ to σ.
func TestCostsReduceTurnover(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		var turns []float64
		for _, cost := range []float64{0, 0.002, 0.01} {
			cfg := DefaultConfig()
			cfg.Cost = cost
			_, turn := trainEval(t, cfg, seed, 0.2, 20000, oosN)
			turns = append(turns, turn)
		}
		t.Logf("seed %d: turnover %.4f, %.4f, %.4f for δ = 0, 0.002, 0.01", seed, turns[0], turns[1], turns[2])
		if !(turns[0] > turns[1] && turns[1] > turns[2]) {
			t.Errorf("seed %d: turnover %v does not fall as costs rise", seed, turns)
		}
	}
}

// Agents of a group keep separate recurrent states: with frozen weights, two agents
// traded interleaved give the same positions as each traded alone.
func TestAgentsIndependentState(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Extra = 1
	l, err := New(cfg, 5)
	must(t, err)
	xs := ar1(rng.New(1, "a"), 300, 0.3, 0.01)
	ys := ar1(rng.New(2, "b"), 300, -0.3, 0.02)
	alone := func(rs []float64) []float64 {
		l2, _ := New(cfg, 5)
		var out []float64
		for i, r := range rs {
			o, err := l2.Trade(0, r, []float64{float64(i)})
			must(t, err)
			out = append(out, o.Position)
		}
		return out
	}
	ax, ay := alone(xs), alone(ys)
	for i := range xs {
		ox, err := l.Trade(3, xs[i], []float64{float64(i)})
		must(t, err)
		oy, err := l.Trade(0, ys[i], []float64{float64(i)})
		must(t, err)
		if ox.Position != ax[i] || oy.Position != ay[i] {
			t.Fatalf("step %d: interleaved positions %g, %g; alone %g, %g", i, ox.Position, oy.Position, ax[i], ay[i])
		}
	}
	if l.Agents() != 4 || l.Position(3) != ax[len(ax)-1] || l.Position(9) != 0 {
		t.Errorf("agents %d, position %g", l.Agents(), l.Position(3))
	}
}

// Decide and Feedback with a return model of the caller's: Feedback with the trading
// return and its derivatives is exactly Step.
func TestDecideFeedbackIsStep(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cost, cfg.WarmUp = 0.001, 10
	a, _ := New(cfg, 2)
	b, _ := New(cfg, 2)
	for _, r := range ar1(rng.New(4, "x"), 400, 0.2, 0.01) {
		oa, err := a.Step(1, r, nil)
		must(t, err)
		prev := b.Position(1)
		f, err := b.Decide(1, r, nil)
		must(t, err)
		s := sign(f - prev)
		ret := prev*r - cfg.Cost*math.Abs(f-prev)
		d, err := b.Feedback(1, ret, -cfg.Cost*s, r+cfg.Cost*s)
		must(t, err)
		if f != oa.Position || ret != oa.Return || d != oa.DSR {
			t.Fatalf("Decide+Feedback (%g %g %g), Step (%g %g %g)", f, ret, d, oa.Position, oa.Return, oa.DSR)
		}
	}
	for i, w := range a.Theta() {
		if b.Theta()[i] != w {
			t.Fatal("weights differ")
		}
	}
}

func TestSequenceAndInputErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Extra = 1
	l, _ := New(cfg, 1)
	if _, err := l.Feedback(0, 0, 0, 0); !errors.Is(err, ErrSequence) {
		t.Errorf("feedback first: %v", err)
	}
	_, err := l.Decide(0, 0.01, []float64{1})
	must(t, err)
	if _, err := l.Decide(0, 0.01, []float64{1}); !errors.Is(err, ErrSequence) {
		t.Errorf("decide twice: %v", err)
	}
	if err := l.Save(&bytes.Buffer{}, nil); !errors.Is(err, ErrPending) {
		t.Errorf("save with a pending decision: %v", err)
	}
	if _, err := l.Feedback(0, math.NaN(), 0, 0); !errors.Is(err, ErrInput) {
		t.Errorf("NaN return: %v", err)
	}
	_, err = l.Feedback(0, 0.001, 0, 0.01)
	must(t, err)
	for name, f := range map[string]func() error{
		"NaN r":           func() error { _, err := l.Step(0, math.NaN(), []float64{1}); return err },
		"Inf r":           func() error { _, err := l.Step(0, math.Inf(1), []float64{1}); return err },
		"missing extra":   func() error { _, err := l.Step(0, 0.01, nil); return err },
		"NaN extra":       func() error { _, err := l.Step(0, 0.01, []float64{math.NaN()}); return err },
		"negative agent":  func() error { _, err := l.Step(-1, 0.01, []float64{1}); return err },
		"huge agent":      func() error { _, err := l.Step(MaxAgentKey, 0.01, []float64{1}); return err },
		"feedback no one": func() error { _, err := l.Feedback(5, 0, 0, 0); return err },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if l.Steps() != 1 {
		t.Errorf("%d steps after one good step and failures", l.Steps())
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := Config{Eta: 1, LearningRate: -1, Cost: math.NaN(), Window: -1, Extra: 5000, NormEta: 1,
		InitScale: math.Inf(1), WarmUp: -3, MaxGradNorm: -1}
	err := c.Validate()
	paths := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *fieldpath.Error
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a fieldpath error", e)
		}
		paths[fe.Path] = true
	}
	for _, p := range []string{"eta", "learning_rate", "cost", "window", "extra", "norm_eta", "init_scale", "warm_up", "max_grad_norm"} {
		if !paths[p] {
			t.Errorf("no error for %s", p)
		}
	}
	if _, err := New(c, 1); err == nil {
		t.Error("New accepted an invalid config")
	}
}

func savedBytes(t testing.TB, l *Learner) []byte {
	t.Helper()
	var buf bytes.Buffer
	must(t, l.Save(&buf, nil))
	return buf.Bytes()
}

// Two agents sharing the weights, trained on interleaved series: stopping halfway,
// saving and restoring (by Load, and by New with another seed then Restore) continues
// to a byte-identical checkpoint; the same seed twice gives the same checkpoint.
func TestCheckpointResume(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Extra, cfg.Cost = 1, 0.001
	xs := ar1(rng.New(1, "x"), 3000, 0.2, 0.01)
	ys := ar1(rng.New(2, "y"), 3000, 0.1, 0.02)
	run := func(l *Learner, from, to int) {
		for i := from; i < to; i++ {
			_, err := l.Step(0, xs[i], []float64{ys[i]})
			must(t, err)
			_, err = l.Step(1, ys[i], []float64{xs[i]})
			must(t, err)
		}
	}
	straight, _ := New(cfg, 7)
	run(straight, 0, 3000)
	want := savedBytes(t, straight)
	again, _ := New(cfg, 7)
	run(again, 0, 3000)
	if !bytes.Equal(savedBytes(t, again), want) {
		t.Error("same seed, same data: different checkpoints")
	}

	half, _ := New(cfg, 7)
	run(half, 0, 1500)
	file := savedBytes(t, half)
	loaded, err := Load(bytes.NewReader(file), nil)
	must(t, err)
	run(loaded, 1500, 3000)
	if !bytes.Equal(savedBytes(t, loaded), want) {
		t.Error("Load and continue: checkpoint differs from the uninterrupted run's")
	}
	restored, _ := New(cfg, 99)
	must(t, restored.Restore(bytes.NewReader(file), nil))
	run(restored, 1500, 3000)
	if !bytes.Equal(savedBytes(t, restored), want) {
		t.Error("Restore and continue: checkpoint differs from the uninterrupted run's")
	}
	if loaded.Steps() != 6000 || loaded.Agents() != 2 {
		t.Errorf("steps %d agents %d", loaded.Steps(), loaded.Agents())
	}
}

// A checkpoint for other features or of another algorithm is refused, naming the
// difference, and leaves the learner unchanged.
func TestCheckpointMismatch(t *testing.T) {
	cfg := DefaultConfig()
	src, _ := New(cfg, 1)
	_, err := src.Step(0, 0.01, nil)
	must(t, err)
	file := savedBytes(t, src)
	other := cfg
	other.Window = 4
	l, _ := New(other, 2)
	before := l.Theta()
	err = l.Restore(bytes.NewReader(file), nil)
	if !errors.Is(err, checkpoint.ErrMismatch) || !strings.Contains(err.Error(), `hivegym.observation_space is "dsr(window=8,extra=0)", want "dsr(window=4,extra=0)"`) {
		t.Errorf("window 8 into window 4: %v", err)
	}
	for i, w := range l.Theta() {
		if w != before[i] {
			t.Fatal("a refused Restore changed the weights")
		}
	}
	if _, err := Load(bytes.NewReader(file), map[string]string{checkpoint.MetaConfigHash: "x"}); !errors.Is(err, checkpoint.ErrMismatch) {
		t.Errorf("config hash required: %v", err)
	}
	var buf bytes.Buffer
	must(t, checkpoint.Save(&buf, nil, map[string]string{checkpoint.MetaAlgorithm: "ppo"}))
	if _, err := Load(bytes.NewReader(buf.Bytes()), nil); !errors.Is(err, checkpoint.ErrMismatch) {
		t.Errorf("a ppo checkpoint: %v", err)
	}
}

// Load never panics; what it accepts can trade.
func FuzzLoad(f *testing.F) {
	cfg := DefaultConfig()
	cfg.Window = 2
	l, _ := New(cfg, 1)
	for i := 0; i < 3; i++ {
		if _, err := l.Step(i, 0.01*float64(i), nil); err != nil {
			f.Fatal(err)
		}
	}
	var good bytes.Buffer
	if err := l.Save(&good, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:64])
	f.Add(bytes.Replace(good.Bytes(), []byte(`"window":2`), []byte(`"window":3`), 1))
	f.Add([]byte("{}"))
	// The score-function variant, with an agent's decision and a group's perturbation
	// waiting.
	sc := cfg
	sc.Gradient, sc.Extra = GradientScore, 1
	ls, _ := New(sc, 2)
	rnd := rng.New(1, "fuzz")
	if _, err := ls.Explore(1, 0.01, []float64{0.5}, rnd); err != nil {
		f.Fatal(err)
	}
	if _, err := ls.Perturb(3, rnd, nil); err != nil {
		f.Fatal(err)
	}
	var scored bytes.Buffer
	if err := ls.Save(&scored, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(scored.Bytes())
	f.Fuzz(func(t *testing.T, file []byte) {
		l, err := Load(bytes.NewReader(file), nil)
		if err != nil {
			return
		}
		extra := make([]float64, l.Config().Extra)
		if !l.Config().Score() {
			if _, err := l.Step(0, 0.01, extra); err != nil {
				t.Fatalf("a loaded learner cannot step: %v", err)
			}
			return
		}
		r := rng.New(2, "fuzz")
		for key := 0; key < l.Agents(); key++ {
			l.Forget(key)
		}
		if _, err := l.Explore(0, 0.01, extra, r); err != nil {
			t.Fatalf("a loaded learner cannot explore: %v", err)
		}
		if _, err := l.Feedback(0, 0.01, 0, 0); err != nil {
			t.Fatalf("a loaded learner cannot learn: %v", err)
		}
		l.ForgetGroup(3)
		if _, err := l.Perturb(3, r, nil); err != nil {
			t.Fatalf("a loaded learner cannot perturb: %v", err)
		}
		if _, err := l.Credit(3, 0.01); err != nil {
			t.Fatalf("a loaded learner cannot credit: %v", err)
		}
	})
}

// BenchmarkStep: one learning step of one agent with the default 8-return window.
func BenchmarkStep(b *testing.B) {
	l, _ := New(DefaultConfig(), 1)
	rs := ar1(rng.New(1, "bench"), 4096, 0.1, 0.01)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Step(i%64, rs[i%len(rs)], nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
