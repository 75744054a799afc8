package metrics_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/metrics"
)

// The worked example of specs/metrics.md: eta = 0.1, R = [0.02, -0.01] gives D = [0, -2.5].
//
//	t=1: A_0 = B_0 = 0, B_0 - A_0^2 = 0: warm-up, D_1 = 0.
//	     A_1 = 0.1 * 0.02 = 0.002, B_1 = 0.1 * 0.0004 = 0.00004
//	t=2: dA = -0.01 - 0.002 = -0.012, dB = 0.0001 - 0.00004 = 0.00006
//	     B_1 - A_1^2 = 0.00004 - 0.000004 = 0.000036, ^(3/2) = 0.000036 * 0.006 = 2.16e-7
//	     numerator 0.00004 * -0.012 - 0.5 * 0.002 * 0.00006 = -4.8e-7 - 0.6e-7 = -5.4e-7
//	     D_2 = -5.4e-7 / 2.16e-7 = -2.5
//
// (The spec prints this example under the downside-ratio heading and calls it DSR; the
// numbers are those of the differential Sharpe ratio. The downside ratio of the same
// returns is [0, 0]: see TestDifferentialDownsideSpecReturns.)
func TestDifferentialSharpeSpecExample(t *testing.T) {
	d := metrics.NewDifferentialSharpe(0.1)
	check(t, "D_1", d.Update(0.02), 0, 0)
	check(t, "D_2", d.Update(-0.01), -2.5, 1e-12)
	// A_2 = 0.002 + 0.1 * -0.012 = 0.0008, B_2 = 0.00004 + 0.1 * 0.00006 = 0.000046
	check(t, "A_2", d.A(), 0.0008, 1e-12)
	check(t, "B_2", d.B(), 0.000046, 1e-12)
}

// A 4-step differential Sharpe sequence by hand, eta = 0.5, R = [0.1, -0.1, 0.2, 0].
//
//	t=1: warm-up, D_1 = 0; A_1 = 0.05, B_1 = 0.5 * 0.01 = 0.005
//	t=2: dA = -0.15, dB = 0.01 - 0.005 = 0.005; B_1 - A_1^2 = 0.005 - 0.0025 = 0.0025,
//	     ^(3/2) = 0.0025 * 0.05 = 0.000125;
//	     num = 0.005 * -0.15 - 0.5 * 0.05 * 0.005 = -0.00075 - 0.000125 = -0.000875
//	     D_2 = -0.000875 / 0.000125 = -7
//	     A_2 = 0.05 - 0.075 = -0.025, B_2 = 0.005 + 0.0025 = 0.0075
//	t=3: dA = 0.225, dB = 0.04 - 0.0075 = 0.0325; B_2 - A_2^2 = 0.0075 - 0.000625 = 0.006875
//	     num = 0.0075 * 0.225 - 0.5 * -0.025 * 0.0325 = 0.0016875 + 0.00040625 = 0.00209375
//	     D_3 = 0.00209375 / 0.006875^(3/2) ≈ 3.673
//	     A_3 = -0.025 + 0.1125 = 0.0875, B_3 = 0.0075 + 0.01625 = 0.02375
//	     K = sqrt(0.75 / 0.5) = sqrt(1.5); B_3 - A_3^2 = 0.02375 - 0.00765625 = 0.01609375
//	     S_3 = 0.0875 / sqrt(1.5 * 0.01609375) ≈ 0.5632
//	t=4: dA = -0.0875, dB = -0.02375
//	     num = 0.02375 * -0.0875 - 0.5 * 0.0875 * -0.02375 = -0.5 * 0.0875 * 0.02375 = -0.0010390625
//	     D_4 = -0.0010390625 / 0.01609375^(3/2) ≈ -0.5089
//	     A_4 = 0.04375, B_4 = 0.011875
func TestDifferentialSharpeByHand(t *testing.T) {
	const tol = 1e-12
	d := metrics.NewDifferentialSharpe(0.5)
	if !math.IsNaN(d.Sharpe()) {
		t.Errorf("S_0 = %g, want NaN (no variance yet)", d.Sharpe())
	}
	check(t, "D_1", d.Update(0.1), 0, 0)
	check(t, "D_2", d.Update(-0.1), -7, tol)
	check(t, "A_2", d.A(), -0.025, tol)
	check(t, "B_2", d.B(), 0.0075, tol)
	check(t, "D_3", d.Update(0.2), 0.00209375/math.Pow(0.006875, 1.5), tol)
	check(t, "S_3", d.Sharpe(), 0.0875/math.Sqrt(1.5*0.01609375), tol)
	check(t, "D_4", d.Update(0), -0.0010390625/math.Pow(0.01609375, 1.5), tol)
	check(t, "A_4", d.A(), 0.04375, tol)
	check(t, "B_4", d.B(), 0.011875, tol)

	// Non-finite returns are skipped: 0 returned, state unchanged.
	a, b := d.A(), d.B()
	for _, r := range []float64{nan, math.Inf(1), math.Inf(-1)} {
		if got := d.Update(r); got != 0 || d.A() != a || d.B() != b {
			t.Errorf("Update(%g) = %g, state (%g, %g) -> (%g, %g); want 0 and unchanged", r, got, a, b, d.A(), d.B())
		}
	}
	d.Reset()
	if d.A() != 0 || d.B() != 0 || d.Eta() != 0.5 {
		t.Errorf("after Reset: A=%g B=%g eta=%g", d.A(), d.B(), d.Eta())
	}
	check(t, "D_1 after Reset", d.Update(0.1), 0, 0)
}

func TestDifferentialSharpeClipAndWarmStart(t *testing.T) {
	// Clip bounds the reward, not the state: the spec example's -2.5 becomes -1.
	c := metrics.NewDifferentialSharpe(0.1)
	c.Clip = 1
	c.Update(0.02)
	check(t, "clipped D_2", c.Update(-0.01), -1, 0)
	check(t, "clipped A_2", c.A(), 0.0008, 1e-12)
	check(t, "clipped B_2", c.B(), 0.000046, 1e-12)

	// WarmStart on [0.1, -0.1, 0.2, 0, NaN]: A = 0.2/4 = 0.05,
	// B = (0.01 + 0.01 + 0.04 + 0)/4 = 0.015. The first update is then past warm-up:
	// r = 0.1: dA = 0.05, dB = 0.01 - 0.015 = -0.005, B - A^2 = 0.0125,
	// num = 0.015 * 0.05 - 0.5 * 0.05 * -0.005 = 0.00075 + 0.000125 = 0.000875.
	w := metrics.NewDifferentialSharpe(0.5)
	w.WarmStart([]float64{0.1, -0.1, 0.2, 0, nan})
	check(t, "warm A", w.A(), 0.05, 1e-12)
	check(t, "warm B", w.B(), 0.015, 1e-12)
	check(t, "warm D_1", w.Update(0.1), 0.000875/math.Pow(0.0125, 1.5), 1e-12)
	a, b := w.A(), w.B()
	w.WarmStart([]float64{nan})
	if w.A() != a || w.B() != b {
		t.Errorf("WarmStart with no finite value changed the state")
	}
}

func TestInvalidEta(t *testing.T) {
	for _, eta := range []float64{0, 1, -0.1, 1.5, nan, math.Inf(1)} {
		d := metrics.NewDifferentialSharpe(eta)
		if got := d.Update(0.01); !math.IsNaN(got) || d.A() != 0 || d.B() != 0 {
			t.Errorf("eta=%g: Update = %g, A=%g B=%g; want NaN and no state change", eta, got, d.A(), d.B())
		}
		d.WarmStart([]float64{0.01, 0.03})
		if !math.IsNaN(d.Sharpe()) {
			t.Errorf("eta=%g: Sharpe = %g, want NaN", eta, d.Sharpe())
		}
		dd := metrics.NewDifferentialDownside(eta)
		dd.WarmStart([]float64{0.01, -0.03})
		if got := dd.Update(0.01); !math.IsNaN(got) || !math.IsNaN(dd.Ratio()) {
			t.Errorf("eta=%g: downside Update = %g, Ratio = %g; want NaN", eta, got, dd.Ratio())
		}
		s := metrics.Summarize([]float64{0.01, 0.02, -0.01}, metrics.Options{PeriodsPerYear: 252, Eta: eta})
		if !math.IsNaN(s.DSRFinal) {
			t.Errorf("eta=%g: DSRFinal = %g, want NaN", eta, s.DSRFinal)
		}
	}
}

// naiveDSR transcribes eqs. 14-16 with arrays indexed by t and math.Pow for the 3/2 power.
func naiveDSR(eta float64, r []float64) (d []float64, sT float64) {
	a, b := []float64{0}, []float64{0}
	for _, x := range r {
		t := len(a) // A[t-1] = a[t-1]
		if math.IsNaN(x) {
			d = append(d, 0)
			continue
		}
		dA, dB := x-a[t-1], x*x-b[t-1]
		v := b[t-1] - a[t-1]*a[t-1]
		dt := 0.0
		if v > 0 {
			dt = (b[t-1]*dA - 0.5*a[t-1]*dB) / math.Pow(v, 1.5)
		}
		d = append(d, dt)
		a = append(a, a[t-1]+eta*dA)
		b = append(b, b[t-1]+eta*dB)
	}
	A, B := a[len(a)-1], b[len(b)-1]
	K := math.Sqrt((1 - eta/2) / (1 - eta))
	return d, A / (K * math.Sqrt(B-A*A))
}

// naiveDDR transcribes eqs. 19-24 the same way.
func naiveDDR(eta float64, r []float64) []float64 {
	a, dd2 := []float64{0}, []float64{0}
	var d []float64
	for _, x := range r {
		if math.IsNaN(x) {
			d = append(d, 0)
			continue
		}
		t := len(a)
		dt := 0.0
		if dd2[t-1] > 0 {
			DD := math.Sqrt(dd2[t-1])
			if x > 0 {
				dt = (x - 0.5*a[t-1]) / DD
			} else {
				dt = (dd2[t-1]*(x-0.5*a[t-1]) - 0.5*a[t-1]*x*x) / math.Pow(DD, 3)
			}
		}
		d = append(d, dt)
		a = append(a, a[t-1]+eta*(x-a[t-1]))
		m := math.Min(x, 0)
		dd2 = append(dd2, dd2[t-1]+eta*(m*m-dd2[t-1]))
	}
	return d
}

func TestOnlineAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 707))
	for trial := 0; trial < 50; trial++ {
		eta := []float64{0.001, 0.01, 0.1, 0.5}[trial%4]
		r := randomSeries(rng, 500, 0.0005, 0.01, 0.02)
		wantD, wantS := naiveDSR(eta, r)
		wantDD := naiveDDR(eta, r)
		s := metrics.NewDifferentialSharpe(eta)
		dd := metrics.NewDifferentialDownside(eta)
		for i, x := range r {
			// The 3/2 and cube powers differ by an ulp or two from math.Pow.
			check(t, "DSR D_t", s.Update(x), wantD[i], 1e-13)
			check(t, "DDR D_t", dd.Update(x), wantDD[i], 1e-13)
			if t.Failed() {
				t.Fatalf("trial %d eta %g step %d", trial, eta, i)
			}
		}
		check(t, "S_T", s.Sharpe(), wantS, 1e-13)
	}
}

// For i.i.d. returns with Sharpe ratio S per period, the moving estimate S_T is a ratio
// of exponentially weighted moments with weights eta (1-eta)^(T-t), whose sum of squares
// is eta/(2-eta): an effective sample of (2-eta)/eta. By the delta method, a Sharpe
// estimate from n normal returns has standard deviation sqrt((1 + S^2/2) / n), so
//
//	sd(S_T)   ≈ sqrt(eta/(2-eta) (1 + S^2/2))   ≈ 0.034  (eta = 0.002, S = 0.5)
//	sd(batch) ≈ sqrt((1 + S^2/2) / N)           ≈ 0.0075 (N = 20000)
//
// The start A_0 = B_0 = 0 is forgotten by a factor (1-eta)^N = e^-40. Each series must
// agree within 5 sd of the difference (≈ 0.17), and the mean difference over 8 series
// within 5 sd of the mean (≈ 0.06), against S = 0.5.
func TestMovingSharpeApproximatesBatch(t *testing.T) {
	const (
		eta    = 0.002
		n      = 20000
		series = 8
		mu     = 0.005
		sigma  = 0.01
		s      = mu / sigma
	)
	sdDiff := math.Sqrt(eta/(2-eta)*(1+s*s/2) + (1+s*s/2)/n)
	sumDiff := 0.0
	for i := 0; i < series; i++ {
		r := randomSeries(rand.New(rand.NewPCG(8, uint64(i))), n, mu, sigma, 0)
		d := metrics.NewDifferentialSharpe(eta)
		for _, x := range r {
			d.Update(x)
		}
		online := d.Sharpe()
		batch := metrics.Sharpe(r, 0, 1) // F = 1: per period
		if diff := online - batch; math.Abs(diff) > 5*sdDiff || math.IsNaN(diff) {
			t.Errorf("series %d: S_T = %.4f, batch Sharpe = %.4f, |diff| > %.4f", i, online, batch, 5*sdDiff)
		}
		sumDiff += online - batch
	}
	if mean, tol := sumDiff/series, 5*sdDiff/math.Sqrt(series); math.Abs(mean) > tol {
		t.Errorf("mean S_T - batch over %d series = %.4f, beyond %.4f", series, mean, tol)
	}
}

// D_t is dS_t/deta at eta = 0 for the ratio A_t / sqrt(B_t - A_t^2) (Moody et al. 1998),
// and S_t divides that ratio by the constant K, so each step
// S_t - S_{t-1} = eta D_t / K + O(eta^2). The second-order term is, relative to the
// first, of order eta |D_t| (|D_t| is about 1 for standardized returns): about 1% at
// eta = 0.01. The checks below are loose versions of that: the per-step errors sum to
// under 3% of the first-order terms, and eta * sum(D_t) / K tracks the total change in
// S_t over 2000 steps within 3% of sum |eta D_t / K|. (A wrong coefficient in D_t,
// such as a missing 1/2, makes the per-step error comparable to the terms themselves.)
func TestEtaSumDTracksSharpeChange(t *testing.T) {
	const eta = 0.01
	rng := rand.New(rand.NewPCG(9, 909))
	k := math.Sqrt((1 - eta/2) / (1 - eta))
	for trial := 0; trial < 10; trial++ {
		d := metrics.NewDifferentialSharpe(eta)
		d.WarmStart(randomSeries(rng, 1000, 0.001, 0.01, 0))
		// A regime change halfway makes S_t move substantially.
		r := append(randomSeries(rng, 1000, 0.002, 0.01, 0), randomSeries(rng, 1000, -0.002, 0.01, 0)...)
		s0 := d.Sharpe()
		var sumD, firstOrder, stepErr float64
		for _, x := range r {
			before := d.Sharpe()
			dt := d.Update(x)
			change := d.Sharpe() - before
			sumD += dt
			firstOrder += math.Abs(eta * dt / k)
			stepErr += math.Abs(change - eta*dt/k)
		}
		total := d.Sharpe() - s0
		if stepErr > 0.03*firstOrder {
			t.Errorf("trial %d: sum |dS_t - eta D_t/K| = %.4g, more than 3%% of sum |eta D_t/K| = %.4g", trial, stepErr, firstOrder)
		}
		if err := math.Abs(total - eta*sumD/k); err > 0.03*firstOrder {
			t.Errorf("trial %d: S_T - S_0 = %.4f, eta sum D / K = %.4f (tolerance %.4f)", trial, total, eta*sumD/k, 0.03*firstOrder)
		}
	}
}

// A 4-step differential downside deviation ratio by hand, eta = 0.5, R = [-0.1, 0.2, -0.1, 0.05].
//
//	t=1: DD2_0 = 0: D_1 = 0; A_1 = -0.05, DD2_1 = 0.5 * 0.01 = 0.005
//	t=2: R > 0: D_2 = (0.2 - 0.5 * -0.05) / sqrt(0.005) = 0.225 / sqrt(0.005) ≈ 3.182
//	     A_2 = -0.05 + 0.5 * 0.25 = 0.075, DD2_2 = 0.005 + 0.5 * (0 - 0.005) = 0.0025
//	t=3: R <= 0: DD_2 = 0.05, DD_2^3 = 0.000125
//	     num = 0.0025 * (-0.1 - 0.0375) - 0.5 * 0.075 * 0.01 = -0.00034375 - 0.000375 = -0.00071875
//	     D_3 = -0.00071875 / 0.000125 = -5.75
//	     A_3 = 0.075 + 0.5 * -0.175 = -0.0125, DD2_3 = 0.0025 + 0.5 * (0.01 - 0.0025) = 0.00625
//	t=4: R > 0: D_4 = (0.05 + 0.00625) / sqrt(0.00625) ≈ 0.7115
//	     A_4 = -0.0125 + 0.5 * 0.0625 = 0.01875, DD2_4 = 0.5 * 0.00625 = 0.003125
//	ratio A_4 / DD_4 = 0.01875 / sqrt(0.003125)
func TestDifferentialDownsideByHand(t *testing.T) {
	const tol = 1e-12
	d := metrics.NewDifferentialDownside(0.5)
	if !math.IsNaN(d.Ratio()) {
		t.Errorf("Ratio before any loss = %g, want NaN", d.Ratio())
	}
	check(t, "D_1", d.Update(-0.1), 0, 0)
	check(t, "A_1", d.A(), -0.05, tol)
	check(t, "DD2_1", d.DD2(), 0.005, tol)
	check(t, "D_2", d.Update(0.2), 0.225/math.Sqrt(0.005), tol)
	check(t, "D_3", d.Update(-0.1), -5.75, tol)
	check(t, "A_3", d.A(), -0.0125, tol)
	check(t, "DD2_3", d.DD2(), 0.00625, tol)
	check(t, "D_4", d.Update(0.05), 0.05625/math.Sqrt(0.00625), tol)
	check(t, "Ratio", d.Ratio(), 0.01875/math.Sqrt(0.003125), tol)

	a, dd2 := d.A(), d.DD2()
	for _, r := range []float64{nan, math.Inf(1), math.Inf(-1)} {
		if got := d.Update(r); got != 0 || d.A() != a || d.DD2() != dd2 {
			t.Errorf("Update(%g) = %g or changed the state; want 0 and unchanged", r, got)
		}
	}

	c := metrics.NewDifferentialDownside(0.5)
	c.Clip = 2
	c.Update(-0.1)
	check(t, "clipped D_2", c.Update(0.2), 2, 0)
	check(t, "clipped D_3", c.Update(-0.1), -2, 0)
	check(t, "state under clip", c.DD2(), 0.00625, tol)

	// WarmStart on [-0.1, 0.2, NaN]: A = 0.05, DD2 = 0.01 / 2 = 0.005; then R = 0.1 > 0:
	// D = (0.1 - 0.025) / sqrt(0.005).
	w := metrics.NewDifferentialDownside(0.5)
	w.WarmStart([]float64{-0.1, 0.2, nan})
	check(t, "warm A", w.A(), 0.05, tol)
	check(t, "warm DD2", w.DD2(), 0.005, tol)
	check(t, "warm D_1", w.Update(0.1), 0.075/math.Sqrt(0.005), tol)
	w.Reset()
	if w.A() != 0 || w.DD2() != 0 || w.Eta() != 0.5 {
		t.Errorf("after Reset: A=%g DD2=%g eta=%g", w.A(), w.DD2(), w.Eta())
	}
}

// With the spec's example returns, eta = 0.1, R = [0.02, -0.01], the downside ratio stays
// 0: DD2_0 = 0 at t=1 and DD2_1 = 0 at t=2 (the gain added min(0.02, 0)^2 = 0); the loss
// enters DD2_2 = 0.1 * 0.0001 = 0.00001, and R_3 = 0.01 > 0 then gives
// D_3 = (0.01 - 0.5 A_2) / sqrt(0.00001), A_2 = 0.002 + 0.1 * (-0.012) = 0.0008.
func TestDifferentialDownsideSpecReturns(t *testing.T) {
	d := metrics.NewDifferentialDownside(0.1)
	check(t, "D_1", d.Update(0.02), 0, 0)
	check(t, "D_2", d.Update(-0.01), 0, 0)
	check(t, "D_3", d.Update(0.01), (0.01-0.0004)/math.Sqrt(0.00001), 1e-12)
}
