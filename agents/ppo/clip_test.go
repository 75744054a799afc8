package ppo

import (
	"fmt"
	"math"
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/internal/rng"
)

// The clipped surrogate at and around its boundaries, ε = 0.2, A = ±2. The PPO paper
// (Schulman et al. 2017, Figure 1 and the text after eq. 7) makes the objective flat,
// gradient 0, exactly for r > 1+ε when A > 0 and for r < 1-ε when A < 0; elsewhere the
// gradient of loss = -min(rA, clip(r)A) in r is -A, the boundary itself included.
func TestSurrogateBoundaries(t *testing.T) {
	const eps, tiny = 0.2, 1e-9
	hi, lo := 1+eps, 1-eps
	cases := []struct {
		ratio, adv   float64
		loss, dRatio float64
		what         string
	}{
		// A > 0: loss = max(-2r, -2 clip(r)).
		{hi, 2, -2 * hi, -2, "A>0, r = 1+ε: boundary, still unclipped"},
		{hi - tiny, 2, -2 * (hi - tiny), -2, "A>0, just inside 1+ε"},
		{hi + tiny, 2, -2 * hi, 0, "A>0, just outside 1+ε: flat"},
		{1.5, 2, -2 * hi, 0, "A>0, far above: flat"},
		{lo, 2, -2 * lo, -2, "A>0, r = 1-ε"},
		{lo - tiny, 2, -2 * (lo - tiny), -2, "A>0, just below 1-ε: the pessimistic bound keeps -rA"},
		{0.5, 2, -1, -2, "A>0, far below"},
		{1, 2, -2, -2, "A>0, r = 1"},
		// A < 0: loss = max(2r, 2 clip(r)).
		{lo, -2, 2 * lo, 2, "A<0, r = 1-ε: boundary, still unclipped"},
		{lo + tiny, -2, 2 * (lo + tiny), 2, "A<0, just inside 1-ε"},
		{lo - tiny, -2, 2 * lo, 0, "A<0, just outside 1-ε: flat"},
		{0.5, -2, 2 * lo, 0, "A<0, far below: flat"},
		{hi, -2, 2 * hi, 2, "A<0, r = 1+ε"},
		{hi + tiny, -2, 2 * (hi + tiny), 2, "A<0, just above 1+ε: the pessimistic bound keeps -rA"},
		{1.5, -2, 3, 2, "A<0, far above"},
		// A = 0: nothing to learn.
		{1.5, 0, 0, 0, "A = 0"},
	}
	for _, c := range cases {
		loss, d := surrogate(c.ratio, c.adv, eps)
		if math.Abs(loss-c.loss) > 1e-15 || d != c.dRatio {
			t.Errorf("%s (r = %.10g): loss %.17g, d/dr %g; want %.17g, %g", c.what, c.ratio, loss, d, c.loss, c.dRatio)
		}
	}

	// Away from the kinks the derivative is the central difference of the loss.
	r := rng.New(1, "surrogate")
	for n := 0; n < 1000; n++ {
		ratio, adv := 0.3+1.4*r.Float64(), 4*r.Float64()-2
		if math.Abs(ratio-hi) < 1e-4 || math.Abs(ratio-lo) < 1e-4 {
			continue
		}
		const h = 1e-6
		lp, _ := surrogate(ratio+h, adv, eps)
		lm, _ := surrogate(ratio-h, adv, eps)
		_, d := surrogate(ratio, adv, eps)
		if fd := (lp - lm) / (2 * h); math.Abs(fd-d) > 1e-7 {
			t.Fatalf("r %g A %g: d/dr %g, central difference %g", ratio, adv, d, fd)
		}
	}
}

// CleanRL's clipped value loss, clip 0.2, stored value 0, worked by hand.
func TestValueLossClip(t *testing.T) {
	cases := []struct {
		v, old, ret, clip float64
		loss, dV          float64
		what              string
	}{
		{0.5, 0, 1, 0, 0.125, -0.5, "unclipped: ½(0.5-1)², d = 0.5-1"},
		{0.1, 0, 1, 0.2, 0.405, -0.9, "inside the clip range: ½(0.9)², d = -0.9"},
		{0.5, 0, 1, 0.2, 0.32, 0, "moved 0.5 toward the target: ½ max(0.25, (0.2-1)² = 0.64), flat"},
		{1.5, 0, 1, 0.2, 0.32, 0, "overshot: ½ max(0.25, 0.64), flat"},
		{-0.5, 0, 1, 0.2, 1.125, -1.5, "moved away: ½ max(2.25, (-0.2-1)² = 1.44), unclipped branch"},
		{0.5, 0, -1, 0.2, 1.125, 1.5, "moved away from a negative target: ½ max(2.25, 1.44)"},
		{0.2, 0, 1, 0.2, 0.32, -0.8, "exactly at the clip: both branches equal, unclipped gradient"},
	}
	for _, c := range cases {
		loss, d := valueLoss(c.v, c.old, c.ret, c.clip)
		if math.Abs(loss-c.loss) > 1e-12 || math.Abs(d-c.dV) > 1e-12 {
			t.Errorf("%s: loss %g, d/dv %g; want %g, %g", c.what, loss, d, c.loss, c.dV)
		}
	}
}

// End to end: one decision, one minibatch, one epoch, no entropy bonus and no
// advantage normalization. The stored log-probability is chosen so that the new policy
// has ratio r. The actor's parameters must stay bit-identical exactly when the clip
// makes the objective flat (a zero gradient gives a zero Adam step), and move otherwise;
// the critic learns in every case.
func TestClipStopsActorUpdate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.EntCoef, cfg.NormAdv, cfg.UpdateEpochs, cfg.NumMinibatches = 0, false, 1, 1
	cfg.Hidden = []int{8}
	obs := []float32{0.3, -0.2, 0.5}
	for _, c := range []struct {
		ratio, adv float64
		frozen     bool
	}{
		{1.3, 1, true}, {1.1, 1, false}, {0.7, 1, false},
		{0.7, -1, true}, {0.9, -1, false}, {1.3, -1, false},
	} {
		t.Run(fmt.Sprintf("r=%g,A=%g", c.ratio, c.adv), func(t *testing.T) {
			l, err := New("clip", cfg, 3, 4, 7)
			if err != nil {
				t.Fatal(err)
			}
			actions, logps, values := make([]int, 1), make([]float32, 1), make([]float32, 1)
			must(t, l.Act(obs, nil, 1, rng.New(1, "act"), actions, logps, values))
			// log π_old = log π_new - log r; the return is V + A (terminated, R = V + A).
			oldLogp := float32(float64(logps[0]) - math.Log(c.ratio))
			b := l.NewBuffer()
			must(t, b.Add(0, 0, obs, nil, actions[0], oldLogp, values[0]))
			must(t, b.Reward(0, 0, float64(values[0])+c.adv))
			must(t, b.End(0, 1, true, 0))
			actor0, critic0 := l.Params()
			st, err := l.Update(b)
			if err != nil {
				t.Fatal(err)
			}
			actor1, critic1 := l.Params()
			if got := sameParams(actor0, actor1); got != c.frozen {
				t.Errorf("actor unchanged = %v, want %v (clipfrac %g)", got, c.frozen, st.Get(MetricClipFrac))
			}
			if sameParams(critic0, critic1) {
				t.Error("critic did not learn")
			}
			if want := map[bool]float64{true: 1, false: 0}[math.Abs(c.ratio-1) > cfg.ClipCoef]; st.Get(MetricClipFrac) != want {
				t.Errorf("clipfrac %g, want %g", st.Get(MetricClipFrac), want)
			}
		})
	}
}

func sameParams(a, b []nn.Param) bool {
	for i := range a {
		for j := range a[i].Data {
			if math.Float32bits(a[i].Data[j]) != math.Float32bits(b[i].Data[j]) {
				return false
			}
		}
	}
	return true
}

// refLoss is the minibatch loss as a function of the logits and the new values, written
// independently in float64 from the formulas: mean over decisions of
// max(-A r, -A clip(r)) - c_e H + c_v ½ max((v-ret)², (v_c-ret)²), with a masked
// log-softmax of its own.
//
// With anchor logits (nil: none) it adds cfg.InitKL·Σ_j p_j log(p_j / q_j), q the
// anchor's masked softmax; it returns the mean of that divergence too.
func refLoss(logits []float64, newV []float64, k int, masks []bool, actions []int, oldLogp, adv, oldV, ret []float64, cfg Config, anchor []float64) (loss, meanKL float64) {
	m := len(actions)
	var total, klSum float64
	for r := 0; r < m; r++ {
		z, mk := logits[r*k:(r+1)*k], masks[r*k:(r+1)*k]
		hi := math.Inf(-1)
		for j := range z {
			if mk[j] {
				hi = math.Max(hi, z[j])
			}
		}
		var s float64
		for j := range z {
			if mk[j] {
				s += math.Exp(z[j] - hi)
			}
		}
		logZ := hi + math.Log(s)
		var h float64
		for j := range z {
			if mk[j] {
				p := math.Exp(z[j] - logZ)
				h -= p * (z[j] - logZ)
			}
		}
		ratio := math.Exp(z[actions[r]] - logZ - oldLogp[r])
		clipped := math.Max(1-cfg.ClipCoef, math.Min(ratio, 1+cfg.ClipCoef))
		pg := math.Max(-adv[r]*ratio, -adv[r]*clipped)
		vc := oldV[r] + math.Max(-cfg.ClipCoef, math.Min(newV[r]-oldV[r], cfg.ClipCoef))
		vl := 0.5 * math.Max((newV[r]-ret[r])*(newV[r]-ret[r]), (vc-ret[r])*(vc-ret[r]))
		total += pg - cfg.EntCoef*h + cfg.VFCoef*vl
		if anchor != nil {
			q := anchor[r*k : (r+1)*k]
			var sq float64
			for j := range q {
				if mk[j] {
					sq += math.Exp(q[j])
				}
			}
			var kl float64
			for j := range z {
				if mk[j] {
					p := math.Exp(z[j] - logZ)
					kl += p * ((z[j] - logZ) - (q[j] - math.Log(sq)))
				}
			}
			total += cfg.InitKL * kl
			klSum += kl
		}
	}
	return total / float64(m), klSum / float64(m)
}

// The gradient the update hands to the networks, dLoss/dlogits and dLoss/dvalue, is the
// central difference of refLoss, with masks, advantage normalization, entropy bonus and
// value clipping all on, and stored log-probabilities off the current policy so that
// some ratios are clipped; then again with the init_kl penalty toward an anchor policy,
// whose mean divergence the minibatch also reports.
func TestLossGradient(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testLossGradient(t, 0) })
	t.Run("init_kl", func(t *testing.T) { testLossGradient(t, 0.3) })
}

func testLossGradient(t *testing.T, initKL float64) {
	cfg := DefaultConfig()
	cfg.NumMinibatches, cfg.EntCoef, cfg.InitKL = 1, 0.05, initKL
	const d, k, n = 3, 5, 12
	l, err := New("grad", cfg, d, k, 3)
	if err != nil {
		t.Fatal(err)
	}
	var a *Learner
	if initKL > 0 {
		if a, err = New("anchor", cfg, d, k, 4); err != nil {
			t.Fatal(err)
		}
		must(t, l.SetAnchor(a))
	}
	r := rng.New(3, "grad")
	obs, masks := make([]float32, n*d), make([]bool, n*k)
	for i := range obs {
		obs[i] = float32(r.NormFloat64())
	}
	for i := range masks {
		masks[i] = r.IntN(3) > 0
	}
	for i := 0; i < n; i++ {
		masks[i*k] = true
	}
	actions, logps, values := make([]int, n), make([]float32, n), make([]float32, n)
	must(t, l.Act(obs, masks, n, r, actions, logps, values))
	b := l.NewBuffer()
	for i := 0; i < n; i++ {
		lp := logps[i] + float32(0.4*r.NormFloat64()) // ratios e^{±0.4}: some beyond the clip
		lp = min(lp, 0)
		must(t, b.Add(i, 0, obs[i*d:(i+1)*d], masks[i*k:(i+1)*k], actions[i], lp, values[i]+float32(0.3*r.NormFloat64())))
		must(t, b.Reward(i, 0, r.NormFloat64()))
		must(t, b.End(i, 1, true, 0))
	}
	l.advantages(b)
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	out, err := l.minibatch(b, rows)
	if err != nil {
		t.Fatal(err)
	}
	// The anchor's logits, from its own network on the minibatch's observations.
	var anchor []float64
	if a != nil {
		want := make([]float32, n*k)
		must(t, a.actor.Forward(want, l.mbObs[:n*d], n))
		anchor = make([]float64, n*k)
		for i := range anchor {
			if l.mbAnchor[i] != want[i] {
				t.Fatalf("anchor logit %d: %g, the anchor's network gives %g", i, l.mbAnchor[i], want[i])
			}
			anchor[i] = float64(want[i])
		}
	}
	// The forward outputs and the gradients of that step, before the parameters moved.
	logits, newV := make([]float64, n*k), make([]float64, n)
	for i := range logits {
		logits[i] = float64(l.mbLogits[i])
	}
	for i := range newV {
		newV[i] = float64(l.mbValues[i])
	}
	oldLogp, adv, oldV, ret := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		oldLogp[i], adv[i], oldV[i], ret[i] = float64(b.logps[i]), l.mbAdv[i], float64(b.values[i]), b.ret[i]
	}
	f := func() float64 {
		loss, _ := refLoss(logits, newV, k, b.masks, actions, oldLogp, adv, oldV, ret, cfg, anchor)
		return loss
	}
	_, meanKL := refLoss(logits, newV, k, b.masks, actions, oldLogp, adv, oldV, ret, cfg, anchor)
	if got := out[8]; math.Abs(got-meanKL) > 1e-6 || (initKL > 0) != (meanKL > 0) {
		t.Errorf("%s = %g, by hand %g", metricNames[8], got, meanKL)
	}
	const h = 1e-6
	check := func(name string, x []float64, got []float32) {
		for i := range x {
			x0 := x[i]
			x[i] = x0 + h
			lp := f()
			x[i] = x0 - h
			lm := f()
			x[i] = x0
			fd := (lp - lm) / (2 * h)
			if math.Abs(fd-float64(got[i])) > 1e-5+1e-4*math.Abs(fd) {
				t.Errorf("%s[%d]: gradient %g, central difference %g", name, i, got[i], fd)
			}
		}
	}
	check("dLoss/dlogits", logits, l.dLogits[:n*k])
	check("dLoss/dvalue", newV, l.dValues[:n])
}
