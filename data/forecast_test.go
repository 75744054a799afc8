package data

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestEWMAHand: alpha 0.5 on 1, 3, 2: levels 1, 2, 2; one-step errors 2 and 0, so
// sigma^2 = (4 + 0)/2 = 2. The 1-step forecast is 2 with sd sqrt(2); the 3-step
// variance is 2 (1 + 2 * 0.25) = 3. The 90% half-width is 1.6449 sd.
func TestEWMAHand(t *testing.T) {
	e := EWMA{Alpha: 0.5}
	f := e.Forecast([]float64{1, 3, 2}, 1, 0.9)
	if f.Mean != 2 || math.Abs(f.SD-math.Sqrt2) > 1e-15 {
		t.Errorf("1-step: %+v, want mean 2 sd sqrt(2)", f)
	}
	if math.Abs(f.Hi-f.Mean-1.6448536269514722*f.SD) > 1e-12 || math.Abs(f.Mean-f.Lo-(f.Hi-f.Mean)) > 1e-12 {
		t.Errorf("90%% interval %+v, want mean +- 1.6449 sd", f)
	}
	if f3 := e.Forecast([]float64{1, 3, 2}, 3, 0.9); math.Abs(f3.SD-math.Sqrt(3)) > 1e-15 {
		t.Errorf("3-step sd %g, want sqrt(3)", f3.SD)
	}
	// The ring version sees the same window across the wrap-around.
	r := NewRing(3)
	for _, x := range []float64{9, 9, 1, 3, 2} {
		r.Push(x)
	}
	if g := e.ForecastRing(r, 3, 0.9); g != e.Forecast([]float64{1, 3, 2}, 3, 0.9) {
		t.Errorf("ring forecast %+v differs from the slice forecast", g)
	}
	if g := e.Forecast(nil, 1, 0.9); !math.IsNaN(g.Mean) {
		t.Errorf("empty window: %+v, want NaN", g)
	}
}

// TestAR1Hand: the series 0, 1, 0.5, 0.75 lies exactly on x[t] = 1 - 0.5 x[t-1], so the
// OLS fit is c = 1, phi = -0.5, sigma = 0 (with m - 2 = 1 degree of freedom); the mean is
// 1/1.5 = 2/3 and the 2-step forecast from 0.75 is 2/3 + 0.25 (0.75 - 2/3) = 0.6875.
func TestAR1Hand(t *testing.T) {
	xs := []float64{0, 1, 0.5, 0.75}
	f := FitAR1(xs)
	if math.Abs(f.C-1) > 1e-12 || math.Abs(f.Phi+0.5) > 1e-12 || f.Sigma > 1e-12 || f.N != 3 {
		t.Fatalf("fit %+v, want c 1 phi -0.5 sigma 0", f)
	}
	if fc := f.Forecast(2, 0.9); math.Abs(fc.Mean-0.6875) > 1e-12 || fc.SD > 1e-12 {
		t.Errorf("2-step forecast %+v, want 0.6875 exactly", fc)
	}
	if math.Abs(f.Mu()-2.0/3) > 1e-12 || !math.IsNaN(f.HalfLifeTicks()) {
		t.Errorf("mu %g half-life %g", f.Mu(), f.HalfLifeTicks())
	}
	// A random walk with drift: phi >= 1 forecasts x + c h with variance sigma^2 h.
	rw := AR1Fit{C: 0.1, Phi: 1, Sigma: 2, Last: 5}
	if fc := rw.Forecast(4, 0.9); math.Abs(fc.Mean-5.4) > 1e-12 || math.Abs(fc.SD-4) > 1e-12 {
		t.Errorf("random-walk forecast %+v, want mean 5.4 sd 4", fc)
	}
}

// TestForecastCoverage simulates an OU process (exact AR(1), phi 0.98, sigma 1) and
// checks that AR(1) 90% intervals, fitted on a trailing window of 500, contain the
// value h steps ahead about 90% of the time; and the same for EWMA on the model it is
// optimal for. With 2000 nearly independent trials (spaced 50
// ticks apart) the coverage has sd sqrt(0.09/2000) = 0.0067; parameter uncertainty
// lowers it slightly. We allow [0.85, 0.95].
func TestForecastCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const phi, n, win, h = 0.98, 2000*50 + 600, 500, 10
	xs := make([]float64, n)
	for i := 1; i < n; i++ {
		xs[i] = 3 + phi*(xs[i-1]-3) + r.NormFloat64()
	}
	// The local-level model x[t] = l[t-1] + e[t], l[t] = l[t-1] + alpha e[t], for which
	// simple exponential smoothing with the same alpha is optimal (Hyndman et al. 2008,
	// ETS(A,N,N)), so EWMA's intervals should cover 90% too.
	const alpha = 0.3
	ys := make([]float64, n)
	level := 0.0
	for i := range ys {
		e := r.NormFloat64()
		ys[i] = level + e
		level += alpha * e
	}
	var hitAR, hitEW, trials int
	for end := win; end+h < n; end += 50 {
		if f := (AR1{}).Forecast(xs[end-win:end], h, 0.9); xs[end-1+h] >= f.Lo && xs[end-1+h] <= f.Hi {
			hitAR++
		}
		if f := (EWMA{Alpha: alpha}).Forecast(ys[end-win:end], h, 0.9); ys[end-1+h] >= f.Lo && ys[end-1+h] <= f.Hi {
			hitEW++
		}
		trials++
	}
	if c := float64(hitAR) / float64(trials); c < 0.85 || c > 0.95 {
		t.Errorf("AR(1) 90%% interval coverage %.3f over %d trials", c, trials)
	}
	if c := float64(hitEW) / float64(trials); c < 0.85 || c > 0.95 {
		t.Errorf("EWMA 90%% interval coverage %.3f over %d trials", c, trials)
	}
}

func TestRing(t *testing.T) {
	r := NewRing(3)
	if r.Len() != 0 || r.Last() != 0 {
		t.Fatal("new ring not empty")
	}
	for i := 1; i <= 5; i++ {
		r.Push(float64(i))
	}
	if got := r.AppendTo(nil); len(got) != 3 || got[0] != 3 || got[2] != 5 || r.Last() != 5 || r.Cap() != 3 {
		t.Errorf("ring = %v, want [3 4 5]", got)
	}
	a, b := r.Segments()
	if len(a)+len(b) != 3 {
		t.Errorf("segments %v %v", a, b)
	}
	r.Reset()
	if r.Len() != 0 {
		t.Error("reset ring not empty")
	}
	if a := testing.AllocsPerRun(100, func() { r.Push(1) }); a != 0 {
		t.Errorf("Push allocates %g", a)
	}
}
