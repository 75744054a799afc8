package nn

import (
	"errors"
	"math"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

func TestCategoricalByHand(t *testing.T) {
	var c Categorical
	logits := []float32{1, 2, 3, 4}
	mask := []bool{true, false, true, true}
	if err := c.Set(logits, mask); err != nil {
		t.Fatal(err)
	}
	// Legal actions 0, 2, 3: p ∝ e¹, e³, e⁴.
	z := math.E + math.Exp(3) + math.Exp(4)
	want := []float64{math.E / z, 0, math.Exp(3) / z, math.Exp(4) / z}
	var sum, ent float64
	for a, w := range want {
		if math.Abs(c.Prob(a)-w) > 1e-15 {
			t.Errorf("P(%d) = %.17g, want %.17g", a, c.Prob(a), w)
		}
		sum += c.Prob(a)
		if w > 0 {
			ent -= w * math.Log(w)
			if math.Abs(c.LogProb(a)-math.Log(w)) > 1e-14 {
				t.Errorf("log P(%d) = %g, want %g", a, c.LogProb(a), math.Log(w))
			}
		}
	}
	if math.Abs(sum-1) > 1e-15 {
		t.Errorf("probabilities sum to %.17g", sum)
	}
	if !math.IsInf(c.LogProb(1), -1) || !math.IsInf(c.LogProb(4), -1) || !math.IsInf(c.LogProb(-1), -1) {
		t.Error("masked or out-of-range action has a finite log-probability")
	}
	if math.Abs(c.Entropy()-ent) > 1e-15 {
		t.Errorf("entropy %g, want %g", c.Entropy(), ent)
	}
	if c.Mode() != 3 || c.Len() != 4 || c.Legal(1) || !c.Legal(0) {
		t.Errorf("Mode %d Len %d Legal(1) %v Legal(0) %v", c.Mode(), c.Len(), c.Legal(1), c.Legal(0))
	}
}

func TestCategoricalUniformEntropy(t *testing.T) {
	var c Categorical
	for k := 1; k <= 6; k++ {
		// 8 actions, k legal with equal logits; the masked ones have huge logits that
		// must not enter the normalization.
		logits := make([]float32, 8)
		mask := make([]bool, 8)
		for j := range logits {
			if j < k {
				logits[j], mask[j] = 0.3, true
			} else {
				logits[j] = 1e30
			}
		}
		if err := c.Set(logits, mask); err != nil {
			t.Fatal(err)
		}
		if got, want := c.Entropy(), math.Log(float64(k)); math.Abs(got-want) > 1e-15 {
			t.Errorf("uniform over %d legal actions: entropy %.17g, want ln %d = %.17g", k, got, k, want)
		}
	}
	// No mask: every action legal.
	if err := c.Set([]float32{-2, -2, -2, -2, -2}, nil); err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Entropy()-math.Log(5)) > 1e-15 {
		t.Errorf("uniform over 5, nil mask: entropy %g, want ln 5", c.Entropy())
	}
}

func TestCategoricalSampling(t *testing.T) {
	var c Categorical
	logits := []float32{0.5, 3, -1, 0, 2, 1}
	mask := []bool{true, false, true, false, true, true}
	if err := c.Set(logits, mask); err != nil {
		t.Fatal(err)
	}
	r := rng.New(1, "categorical")
	const n = 200000
	counts := make([]int, len(logits))
	for i := 0; i < n; i++ {
		counts[c.Sample(r)]++
	}
	for a, k := range counts {
		if !mask[a] && k != 0 {
			t.Errorf("masked action %d sampled %d times", a, k)
		}
		p := c.Prob(a)
		// Binomial standard deviation; 5σ is a false alarm once in ~2 million runs.
		if sd := math.Sqrt(n * p * (1 - p)); math.Abs(float64(k)-n*p) > 5*sd+1 {
			t.Errorf("action %d: %d draws, expected %.0f ± %.0f", a, k, n*p, sd)
		}
	}
	// A single legal action is always drawn; a legal -Inf logit never is.
	if err := c.Set([]float32{float32(math.Inf(-1)), 7, 0}, []bool{true, true, false}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if a := c.Sample(r); a != 1 {
			t.Fatalf("drew %d, only action 1 has positive probability", a)
		}
	}
	if c.Entropy() != 0 {
		t.Errorf("entropy of a certain action = %g", c.Entropy())
	}
	// Same seed, same draws.
	r1, r2 := rng.New(5, "s"), rng.New(5, "s")
	_ = c.Set(logits, mask)
	for i := 0; i < 100; i++ {
		if c.Sample(r1) != c.Sample(r2) {
			t.Fatal("same seed, different draws")
		}
	}
}

func TestCategoricalStable(t *testing.T) {
	var c Categorical
	if err := c.Set([]float32{1000, 1000, -1000}, nil); err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Prob(0)-0.5) > 1e-15 || math.Abs(c.Prob(1)-0.5) > 1e-15 || c.Prob(2) != 0 {
		t.Errorf("probabilities %g %g %g, want 0.5 0.5 0", c.Prob(0), c.Prob(1), c.Prob(2))
	}
	if math.Abs(c.Entropy()-math.Ln2) > 1e-15 || math.IsNaN(c.LogProb(2)) {
		t.Errorf("entropy %g (want ln 2), log P(2) %g", c.Entropy(), c.LogProb(2))
	}
}

func TestCategoricalErrors(t *testing.T) {
	var c Categorical
	nan := float32(math.NaN())
	if err := c.Set([]float32{1, 2}, []bool{false, false}); !errors.Is(err, ErrNoLegalAction) {
		t.Errorf("all masked: %v", err)
	}
	if err := c.Set([]float32{}, nil); !errors.Is(err, ErrNoLegalAction) {
		t.Errorf("no actions: %v", err)
	}
	if err := c.Set([]float32{1, 2}, []bool{true}); !errors.Is(err, ErrShape) {
		t.Errorf("short mask: %v", err)
	}
	if err := c.Set([]float32{nan, 2}, nil); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN logit: %v", err)
	}
	if err := c.Set([]float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, nil); !errors.Is(err, ErrNoLegalAction) {
		t.Errorf("all -Inf: %v", err)
	}
	if err := c.Set([]float32{nan, 2}, []bool{false, true}); err != nil {
		t.Errorf("NaN in a masked logit is ignored, got %v", err)
	}
	dst := make([]float32, 2)
	if err := c.AddGradLogProb(dst, 0, 1); err == nil {
		t.Error("gradient of a masked action's log-probability accepted")
	}
	if err := c.AddGradLogProb(dst[:1], 1, 1); !errors.Is(err, ErrShape) {
		t.Errorf("short dst: %v", err)
	}
	if err := c.AddGradEntropy(dst[:1], 1); !errors.Is(err, ErrShape) {
		t.Errorf("short dst: %v", err)
	}
}

// TestCategoricalGradients checks AddGradLogProb and AddGradEntropy against central
// differences of LogProb and Entropy in the logits. The step h = 2⁻¹⁰ is exact in
// float32 for these logits, so only the O(h²) truncation error remains; tolerance 1e-5.
func TestCategoricalGradients(t *testing.T) {
	logits := []float32{0.5, -1.25, 2, 0.75, 1}
	mask := []bool{true, true, false, true, true}
	const h, coef, tol = 1.0 / 1024, 0.7, 1e-5
	for _, a := range []int{0, 3} {
		var c Categorical
		if err := c.Set(logits, mask); err != nil {
			t.Fatal(err)
		}
		gl := make([]float32, len(logits))
		ge := make([]float32, len(logits))
		if err := c.AddGradLogProb(gl, a, coef); err != nil {
			t.Fatal(err)
		}
		if err := c.AddGradEntropy(ge, coef); err != nil {
			t.Fatal(err)
		}
		for j := range logits {
			eval := func(d float32) (lp, ent float64) {
				z := append([]float32(nil), logits...)
				z[j] += d
				var cc Categorical
				if err := cc.Set(z, mask); err != nil {
					t.Fatal(err)
				}
				return cc.LogProb(a), cc.Entropy()
			}
			lpUp, entUp := eval(h)
			lpDown, entDown := eval(-h)
			wantL := coef * (lpUp - lpDown) / (2 * h)
			wantE := coef * (entUp - entDown) / (2 * h)
			if math.Abs(float64(gl[j])-wantL) > tol {
				t.Errorf("a=%d: d log P / d z%d = %g, finite difference %g", a, j, gl[j], wantL)
			}
			if math.Abs(float64(ge[j])-wantE) > tol {
				t.Errorf("d H / d z%d = %g, finite difference %g", j, ge[j], wantE)
			}
			if !mask[j] && (gl[j] != 0 || ge[j] != 0) {
				t.Errorf("masked logit %d got gradient %g, %g", j, gl[j], ge[j])
			}
		}
	}
}

func TestCategoricalNoAllocs(t *testing.T) {
	var c Categorical
	logits := randF32(1, 16)
	mask := make([]bool, 16)
	for i := range mask {
		mask[i] = i%3 != 0
	}
	dst := make([]float32, 16)
	r := rng.New(1, "c")
	n := testing.AllocsPerRun(100, func() {
		_ = c.Set(logits, mask)
		a := c.Sample(r)
		_ = c.AddGradLogProb(dst, a, 1)
		_ = c.AddGradEntropy(dst, 0.01)
	})
	if n != 0 {
		t.Errorf("%g allocations per Set+Sample+gradients", n)
	}
}

// TestCategoricalKL checks KL(p || q) against the sum written out by hand and its
// gradient with respect to p's logits against central finite differences of that sum.
func TestCategoricalKL(t *testing.T) {
	zp := []float32{0.5, -1.25, 2, 0.75, 1}
	zq := []float32{-0.3, 0.4, 9, 1.5, 0.2}
	mask := []bool{true, true, false, true, true}
	// By hand: the softmaxes over the legal actions 0, 1, 3, 4, then Σ p log(p/q).
	byHand := func(zp []float32) float64 {
		legal := []int{0, 1, 3, 4}
		var sp, sq float64
		for _, j := range legal {
			sp += math.Exp(float64(zp[j]))
			sq += math.Exp(float64(zq[j]))
		}
		var kl float64
		for _, j := range legal {
			p, q := math.Exp(float64(zp[j]))/sp, math.Exp(float64(zq[j]))/sq
			kl += p * math.Log(p/q)
		}
		return kl
	}
	var p, q Categorical
	if err := p.Set(zp, mask); err != nil {
		t.Fatal(err)
	}
	if err := q.Set(zq, mask); err != nil {
		t.Fatal(err)
	}
	if got, want := p.KL(&q), byHand(zp); math.Abs(got-want) > 1e-14 || want <= 0 {
		t.Errorf("KL = %.17g, want %.17g (> 0)", got, want)
	}
	if kl := p.KL(&p); kl != 0 {
		t.Errorf("KL(p || p) = %g, want 0", kl)
	}
	const h, coef, tol = 1.0 / 1024, 0.7, 1e-5
	g := make([]float32, len(zp))
	if kl, err := p.AddGradKL(g, &q, coef); err != nil || kl != p.KL(&q) {
		t.Fatalf("AddGradKL returned KL %g, %v; KL gives %g", kl, err, p.KL(&q))
	}
	for j := range zp {
		up := append([]float32(nil), zp...)
		down := append([]float32(nil), zp...)
		up[j] += h
		down[j] -= h
		want := coef * (byHand(up) - byHand(down)) / (2 * h)
		if math.Abs(float64(g[j])-want) > tol {
			t.Errorf("d KL / d z%d = %g, finite difference %g", j, g[j], want)
		}
		if !mask[j] && g[j] != 0 {
			t.Errorf("masked logit %d got gradient %g", j, g[j])
		}
	}
	// q forbids an action p may take: the divergence is infinite and has no gradient.
	var r Categorical
	if err := r.Set(zq, []bool{false, true, false, true, true}); err != nil {
		t.Fatal(err)
	}
	if kl := p.KL(&r); !math.IsInf(kl, 1) {
		t.Errorf("KL against a distribution without action 0 = %g, want +Inf", kl)
	}
	if _, err := p.AddGradKL(g, &r, coef); !errors.Is(err, ErrNonFinite) {
		t.Errorf("AddGradKL with an infinite KL: %v, want ErrNonFinite", err)
	}
}
