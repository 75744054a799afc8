package metrics_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/metrics"
)

var nan = math.NaN()

// same reports whether got matches want: both NaN, the same infinity, or finite and
// within relative tolerance tol (absolute tol when want is 0).
func same(got, want, tol float64) bool {
	switch {
	case math.IsNaN(want):
		return math.IsNaN(got)
	case math.IsInf(want, 0):
		return got == want
	case math.IsNaN(got) || math.IsInf(got, 0):
		return false
	}
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), tol0(want))
}

func tol0(want float64) float64 {
	if want == 0 {
		return 1
	}
	return 0
}

func check(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if !same(got, want, tol) {
		t.Errorf("%s = %.17g, want %.17g (rel tol %g)", name, got, want, tol)
	}
}

// bitsEqual is equality that treats every NaN as equal to every NaN.
func bitsEqual(a, b float64) bool {
	return a == b && math.Signbit(a) == math.Signbit(b) || math.IsNaN(a) && math.IsNaN(b)
}

// ---- slow, obviously-correct references (transcriptions of specs/metrics.md) ----

func dropNaN(r []float64) []float64 {
	var out []float64
	for _, x := range r {
		if !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	return out
}

func naiveMean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func naiveStd(xs []float64) float64 { // ddof = 1
	m := naiveMean(xs)
	s := 0.0
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)-1))
}

func naiveCumulative(r []float64) float64 {
	p := 1.0
	for _, x := range dropNaN(r) {
		p *= 1 + x
	}
	return p - 1
}

func naiveAnnual(r []float64, f float64) float64 {
	years := float64(len(r)) / f
	return math.Pow(1+naiveCumulative(r), 1/years) - 1
}

func naiveVol(r []float64, f float64) float64 { return naiveStd(dropNaN(r)) * math.Sqrt(f) }

// naiveSharpe: mean and ddof=1 std of the non-NaN excess returns, times sqrt(F).
func naiveSharpe(r []float64, rf, f float64) float64 {
	var xs []float64
	for _, x := range dropNaN(r) {
		xs = append(xs, x-rf)
	}
	return naiveMean(xs) / naiveStd(xs) * math.Sqrt(f)
}

func naiveDownside(r []float64, mar, f float64) float64 {
	xs := dropNaN(r)
	s := 0.0
	for _, x := range xs {
		d := math.Min(x-mar, 0)
		s += d * d
	}
	return math.Sqrt(s/float64(len(xs))) * math.Sqrt(f)
}

func naiveSortino(r []float64, mar, f float64) float64 {
	var xs []float64
	for _, x := range dropNaN(r) {
		xs = append(xs, x-mar)
	}
	return naiveMean(xs) * f / naiveDownside(r, mar, f)
}

// naiveMaxDrawdown builds the whole wealth path with V_0 = 1 and, for every t, scans
// back for the running peak.
func naiveMaxDrawdown(r []float64) float64 {
	v := []float64{1}
	for _, x := range r {
		if math.IsNaN(x) {
			x = 0
		}
		v = append(v, v[len(v)-1]*(1+x))
	}
	worst := 0.0
	for t := range v {
		peak := v[0]
		for s := 0; s <= t; s++ {
			peak = math.Max(peak, v[s])
		}
		worst = math.Min(worst, (v[t]-peak)/peak)
	}
	return worst
}

// naiveCalmar: annual return over |max drawdown| when there is a drawdown; empyrical
// also turns an infinite ratio (an overflowing CAGR) into NaN.
func naiveCalmar(r []float64, f float64) float64 {
	mdd := naiveMaxDrawdown(r)
	if !(mdd < 0) {
		return math.NaN()
	}
	c := naiveAnnual(r, f) / -mdd
	if math.IsInf(c, 0) {
		return math.NaN()
	}
	return c
}

// ---- hand-computed series ----

// r = [0.10, -0.05, 0.20, NaN], F = 12 (monthly).
//
//	cumulative: 1.10 * 0.95 * 1.20 = 1.254, so 0.254 (the NaN row is dropped)
//	annual:     N = 4 rows = 1/3 year: 1.254^3 - 1 = 1.971935064 - 1 = 0.971935064
//	non-NaN in 60ths: 6, -3, 12; mean 5/60; deviations 1, -8, 7 (/60);
//	  sum of squares 114/3600; var (ddof 1) 57/3600; std sqrt(57)/60
//	volatility: sqrt(57)/60 * sqrt(12) = sqrt(684)/60
//	Sharpe rf=0:    (5/60) / (sqrt(57)/60) * sqrt(12) = 5 sqrt(12/57)
//	Sharpe rf=0.01: excess mean 4.4/60, same std: 4.4 sqrt(12/57)
//	downside (MAR 0): squares 0, 0.0025, 0 over 3 values: sqrt(0.0025/3 * 12) = sqrt(0.01) = 0.1
//	Sortino: (0.25/3) * 12 / 0.1 = 1 / 0.1 = 10
//	drawdown: V = 1, 1.1, 1.045, 1.254, 1.254; worst (1.045 - 1.1)/1.1 = -0.05
//	Calmar: 0.971935064 / 0.05 = 19.43870128
func TestHandComputed(t *testing.T) {
	r := []float64{0.10, -0.05, 0.20, nan}
	const f, tol = 12, 1e-12
	check(t, "CumulativeReturn", metrics.CumulativeReturn(r), 0.254, tol)
	check(t, "AnnualReturn", metrics.AnnualReturn(r, f), 0.971935064, tol)
	check(t, "AnnualVolatility", metrics.AnnualVolatility(r, f), math.Sqrt(684)/60, tol)
	check(t, "Sharpe rf=0", metrics.Sharpe(r, 0, f), 5*math.Sqrt(12.0/57), tol)
	check(t, "Sharpe rf=0.01", metrics.Sharpe(r, 0.01, f), 4.4*math.Sqrt(12.0/57), tol)
	check(t, "DownsideRisk", metrics.DownsideRisk(r, 0, f), 0.1, tol)
	check(t, "Sortino", metrics.Sortino(r, 0, f), 10, tol)
	check(t, "MaxDrawdown", metrics.MaxDrawdown(r), -0.05, tol)
	check(t, "Calmar", metrics.Calmar(r, f), 19.43870128, tol)

	// MAR = 0.05: excess 0.05, -0.10, 0.15; downside sqrt(0.01/3 * 12) = 0.2;
	// Sortino (0.10/3) * 12 / 0.2 = 2.
	check(t, "DownsideRisk MAR", metrics.DownsideRisk(r, 0.05, f), 0.2, tol)
	check(t, "Sortino MAR", metrics.Sortino(r, 0.05, f), 2, tol)

	s := metrics.Summarize(r, metrics.Options{PeriodsPerYear: f, RiskFree: 0.01, MAR: 0.05, Eta: 0.1})
	if s.N != 4 {
		t.Errorf("Summary.N = %d, want 4 (NaN rows count)", s.N)
	}
	check(t, "Summary.Sharpe", s.Sharpe, 4.4*math.Sqrt(12.0/57), tol)
	check(t, "Summary.Sortino", s.Sortino, 2, tol)
	check(t, "Summary.Calmar", s.Calmar, 19.43870128, tol)
}

// r = [0.10, -0.05, 0.20, NaN], rf = [0.01, 0.01, NaN, 0]: rows 3 and 4 drop, leaving
// excess 0.09 and -0.06: mean 0.015, deviations ±0.075, var 2 * 0.075^2 / 1, std
// 0.075 sqrt(2); Sharpe 0.015 / (0.075 sqrt 2) * sqrt(12) = 0.2 sqrt(6).
func TestSharpeSeries(t *testing.T) {
	r := []float64{0.10, -0.05, 0.20, nan}
	rf := []float64{0.01, 0.01, nan, 0}
	check(t, "SharpeSeries", metrics.SharpeSeries(r, rf, 12), 0.2*math.Sqrt(6), 1e-12)
	check(t, "SharpeSeries length mismatch", metrics.SharpeSeries(r, rf[:3], 12), nan, 0)
	// A constant series rf equals the scalar form.
	check(t, "SharpeSeries constant rf", metrics.SharpeSeries(r, []float64{0.01, 0.01, 0.01, 0.01}, 12),
		4.4*math.Sqrt(12.0/57), 1e-12)
}

func TestMaxDrawdownFirstPeriodLoss(t *testing.T) {
	// V = 1, 0.9, 0.945: the first loss counts because V_0 = 1 is prepended.
	check(t, "first loss", metrics.MaxDrawdown([]float64{-0.1, 0.05}), -0.1, 1e-12)
	// V = 1, 1.1, 0.55, 0.66, 0.99, 0.891: peak 1.1 throughout, worst 0.55/1.1 - 1 = -0.5.
	check(t, "deep", metrics.MaxDrawdown([]float64{0.1, -0.5, 0.2, 0.5, -0.1}), -0.5, 1e-12)
	// A total loss: V = 1, 0 -> -1.
	check(t, "wiped out", metrics.MaxDrawdown([]float64{-1, 0.5}), -1, 0)
	check(t, "no loss", metrics.MaxDrawdown([]float64{0.01, nan, 0.02}), 0, 0)
}

func TestConstantSeries(t *testing.T) {
	const f = 252
	// 0.1 three times: 0.1+0.1+0.1 = 0.30000000000000004, and /3 is not 0.1, so a naive
	// two-pass variance would be about 1e-34, not 0.
	for _, tc := range []struct {
		name   string
		r      []float64
		sharpe float64
	}{
		{"positive", []float64{0.1, 0.1, 0.1}, math.Inf(1)},
		{"positive with NaN", []float64{0.1, nan, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, math.Inf(1)},
		{"negative", []float64{-0.01, -0.01, -0.01, -0.01, -0.01, -0.01, -0.01}, math.Inf(-1)},
		{"zero", []float64{0, 0, 0, 0}, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, "Sharpe", metrics.Sharpe(tc.r, 0, f), tc.sharpe, 0)
			check(t, "AnnualVolatility", metrics.AnnualVolatility(tc.r, f), 0, 0)
			if v := metrics.AnnualVolatility(tc.r, f); v != 0 {
				t.Errorf("AnnualVolatility = %g, want exactly 0", v)
			}
		})
	}
	// Returns equal to the risk-free rate: the excess is exactly 0 everywhere, so NaN.
	check(t, "Sharpe r == rf", metrics.Sharpe([]float64{0.02, 0.02, 0.02}, 0.02, f), nan, 0)
	// A constant series of +Inf has an undefined deviation (Inf - Inf), as in numpy.
	inf := math.Inf(1)
	check(t, "Sharpe all +Inf", metrics.Sharpe([]float64{inf, inf}, 0, f), nan, 0)
}

func TestNoDownside(t *testing.T) {
	const f = 252
	gains := []float64{0.01, 0.02, nan, 0}
	check(t, "DownsideRisk no loss", metrics.DownsideRisk(gains, 0, f), 0, 0)
	check(t, "Sortino no loss", metrics.Sortino(gains, 0, f), math.Inf(1), 0)
	check(t, "Sortino all zero", metrics.Sortino([]float64{0, 0, 0}, 0, f), nan, 0)
	check(t, "Calmar no drawdown", metrics.Calmar(gains, f), nan, 0)
	// Excess over MAR: r = MAR everywhere gives mean 0 and no downside.
	check(t, "Sortino r == MAR", metrics.Sortino([]float64{0.01, 0.01}, 0.01, f), nan, 0)
}

// Calmar follows empyrical in turning an infinite ratio into NaN: r = [0.5, -0.01] at
// F = 105120 is 2 rows = 1/52560 year, so the CAGR 1.485^52560 - 1 overflows to +Inf,
// while the drawdown is -0.01.
func TestCalmarOverflow(t *testing.T) {
	r := []float64{0.5, -0.01}
	check(t, "AnnualReturn", metrics.AnnualReturn(r, 105120), math.Inf(1), 0)
	check(t, "MaxDrawdown", metrics.MaxDrawdown(r), -0.01, 1e-12)
	check(t, "Calmar", metrics.Calmar(r, 105120), nan, 0)
	// At F = 12 the same series is 1/6 year: 1.485^6 - 1, over 0.01.
	check(t, "Calmar F=12", metrics.Calmar(r, 12), (math.Pow(1.485, 6)-1)/0.01, 1e-12)
}

func TestSingleRow(t *testing.T) {
	const f = 252
	r := []float64{-0.02}
	check(t, "CumulativeReturn", metrics.CumulativeReturn(r), -0.02, 1e-15)
	check(t, "AnnualReturn", metrics.AnnualReturn(r, f), math.Pow(0.98, 252)-1, 1e-12)
	check(t, "AnnualVolatility", metrics.AnnualVolatility(r, f), nan, 0)
	check(t, "Sharpe", metrics.Sharpe(r, 0, f), nan, 0)
	check(t, "Sortino", metrics.Sortino(r, 0, f), nan, 0)
	check(t, "DownsideRisk", metrics.DownsideRisk(r, 0, f), 0.02*math.Sqrt(252), 1e-12)
	check(t, "MaxDrawdown", metrics.MaxDrawdown(r), -0.02, 1e-12)
	// Calmar: annual (0.98^252 - 1) over 0.02.
	check(t, "Calmar", metrics.Calmar(r, f), (math.Pow(0.98, 252)-1)/0.02, 1e-12)
}

// Empyrical counts rows for Sortino's "fewer than 2": [NaN, -0.01] has 2 rows and one
// value; mean -0.01, downside 0.01 sqrt(12), Sortino -0.01*12 / (0.01 sqrt 12) = -sqrt(12).
// Sharpe needs 2 values for its ddof=1 deviation.
func TestTwoRowsOneValue(t *testing.T) {
	r := []float64{nan, -0.01}
	check(t, "Sortino", metrics.Sortino(r, 0, 12), -math.Sqrt(12), 1e-12)
	check(t, "Sharpe", metrics.Sharpe(r, 0, 12), nan, 0)
	check(t, "AnnualVolatility", metrics.AnnualVolatility(r, 12), nan, 0)
	// N counts the NaN row: 2 rows at F=12 is 1/6 year: 0.99^6 - 1.
	check(t, "AnnualReturn", metrics.AnnualReturn(r, 12), math.Pow(0.99, 6)-1, 1e-12)
}

func TestEmptyAndAllNaN(t *testing.T) {
	const f = 252
	for name, r := range map[string][]float64{"nil": nil, "empty": {}} {
		s := metrics.Summarize(r, metrics.Options{PeriodsPerYear: f, Eta: 0.01})
		for _, v := range []struct {
			name string
			got  float64
		}{
			{"CumulativeReturn", metrics.CumulativeReturn(r)},
			{"AnnualReturn", metrics.AnnualReturn(r, f)},
			{"AnnualVolatility", metrics.AnnualVolatility(r, f)},
			{"Sharpe", metrics.Sharpe(r, 0, f)},
			{"SharpeSeries", metrics.SharpeSeries(r, r, f)},
			{"DownsideRisk", metrics.DownsideRisk(r, 0, f)},
			{"Sortino", metrics.Sortino(r, 0, f)},
			{"MaxDrawdown", metrics.MaxDrawdown(r)},
			{"Calmar", metrics.Calmar(r, f)},
			{"Summary.CumulativeReturn", s.CumulativeReturn},
			{"Summary.MaxDrawdown", s.MaxDrawdown},
			{"Summary.DSRFinal", s.DSRFinal},
		} {
			check(t, name+" "+v.name, v.got, nan, 0)
		}
		if s.N != 0 {
			t.Errorf("%s: N = %d", name, s.N)
		}
	}
	// All rows missing: empyrical's nanprod gives growth 1 and cum_returns a flat path.
	r := []float64{nan, nan, nan}
	check(t, "all-NaN CumulativeReturn", metrics.CumulativeReturn(r), 0, 0)
	check(t, "all-NaN AnnualReturn", metrics.AnnualReturn(r, f), 0, 0)
	check(t, "all-NaN MaxDrawdown", metrics.MaxDrawdown(r), 0, 0)
	check(t, "all-NaN Calmar", metrics.Calmar(r, f), nan, 0)
	check(t, "all-NaN Sharpe", metrics.Sharpe(r, 0, f), nan, 0)
	check(t, "all-NaN AnnualVolatility", metrics.AnnualVolatility(r, f), nan, 0)
	check(t, "all-NaN DownsideRisk", metrics.DownsideRisk(r, 0, f), nan, 0)
	check(t, "all-NaN Sortino", metrics.Sortino(r, 0, f), nan, 0)
}

func TestInvalidPeriodsPerYear(t *testing.T) {
	r := []float64{0.1, -0.05, 0.2}
	for _, f := range []float64{0, -12, nan, math.Inf(1)} {
		for _, v := range []struct {
			name string
			got  float64
		}{
			{"AnnualReturn", metrics.AnnualReturn(r, f)},
			{"AnnualVolatility", metrics.AnnualVolatility(r, f)},
			{"Sharpe", metrics.Sharpe(r, 0, f)},
			{"SharpeSeries", metrics.SharpeSeries(r, r, f)},
			{"DownsideRisk", metrics.DownsideRisk(r, 0, f)},
			{"Sortino", metrics.Sortino(r, 0, f)},
			{"Calmar", metrics.Calmar(r, f)},
		} {
			check(t, v.name, v.got, nan, 0)
		}
		// Metrics without F stay defined.
		check(t, "CumulativeReturn", metrics.CumulativeReturn(r), 0.254, 1e-12)
	}
}

// randomSeries draws n returns N(mu, sigma) with about a fraction pNaN of missing rows.
func randomSeries(rng *rand.Rand, n int, mu, sigma, pNaN float64) []float64 {
	r := make([]float64, n)
	for i := range r {
		if rng.Float64() < pNaN {
			r[i] = nan
			continue
		}
		r[i] = mu + sigma*rng.NormFloat64()
	}
	return r
}

// TestAgainstNaive compares every metric with the slow references on random series.
// Both sides sum in the same order up to a few roundings, so 1e-12 relative is loose.
func TestAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 101))
	for trial := 0; trial < 300; trial++ {
		n := 2 + rng.IntN(300)
		sigma := 0.001 + 0.05*rng.Float64()
		mu := sigma * (2*rng.Float64() - 1)
		r := randomSeries(rng, n, mu, sigma, 0.05)
		if len(dropNaN(r)) < 3 {
			continue
		}
		f := []float64{12, 52, 252, 105120}[rng.IntN(4)]
		rf := 0.001 * (2*rng.Float64() - 1)
		mar := 0.001 * (2*rng.Float64() - 1)
		const tol = 1e-12
		check(t, "CumulativeReturn", metrics.CumulativeReturn(r), naiveCumulative(r), tol)
		check(t, "AnnualReturn", metrics.AnnualReturn(r, f), naiveAnnual(r, f), 1e-9) // (1+cum) vs prod: pow amplifies one rounding by F/N
		check(t, "AnnualVolatility", metrics.AnnualVolatility(r, f), naiveVol(r, f), tol)
		check(t, "Sharpe", metrics.Sharpe(r, rf, f), naiveSharpe(r, rf, f), tol)
		check(t, "DownsideRisk", metrics.DownsideRisk(r, mar, f), naiveDownside(r, mar, f), tol)
		check(t, "Sortino", metrics.Sortino(r, mar, f), naiveSortino(r, mar, f), tol)
		check(t, "MaxDrawdown", metrics.MaxDrawdown(r), naiveMaxDrawdown(r), tol)
		check(t, "Calmar", metrics.Calmar(r, f), naiveCalmar(r, f), 1e-9)
		if t.Failed() {
			t.Fatalf("trial %d: n=%d f=%g", trial, n, f)
		}
	}
}

// TestSummarizeMatchesFunctions: every Summary field equals the function of the same
// name bitwise, including the NaN and Inf edge cases.
func TestSummarizeMatchesFunctions(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 202))
	inf := math.Inf(1)
	series := [][]float64{
		nil, {nan}, {0.1}, {nan, nan}, {0.1, 0.1, 0.1}, {0, 0}, {-0.01, -0.01}, {0.01, 0.02},
		{-1, 0.5, nan}, {inf, -1, 0.2}, {-inf, 0.1}, {1e300, 1e300, -0.5},
	}
	for i := 0; i < 50; i++ {
		series = append(series, randomSeries(rng, 1+rng.IntN(200), 0.001, 0.02, 0.1))
	}
	for i, r := range series {
		for _, o := range []metrics.Options{
			{PeriodsPerYear: 252, Eta: 0.01},
			{PeriodsPerYear: 12, RiskFree: 0.001, MAR: -0.002, Eta: 0.3},
			{PeriodsPerYear: 0, Eta: 0}, // invalid F and eta
		} {
			assertSummaryMatches(t, r, o)
		}
		if t.Failed() {
			t.Fatalf("series %d: %v", i, r)
		}
	}
}

func assertSummaryMatches(t *testing.T, r []float64, o metrics.Options) {
	t.Helper()
	s := metrics.Summarize(r, o)
	f := o.PeriodsPerYear
	d := metrics.NewDifferentialSharpe(o.Eta)
	for _, x := range r {
		d.Update(x)
	}
	want := metrics.Summary{
		N:                len(r),
		CumulativeReturn: metrics.CumulativeReturn(r),
		AnnualReturn:     metrics.AnnualReturn(r, f),
		AnnualVolatility: metrics.AnnualVolatility(r, f),
		Sharpe:           metrics.Sharpe(r, o.RiskFree, f),
		Sortino:          metrics.Sortino(r, o.MAR, f),
		DownsideRisk:     metrics.DownsideRisk(r, o.MAR, f),
		MaxDrawdown:      metrics.MaxDrawdown(r),
		Calmar:           metrics.Calmar(r, f),
		DSRFinal:         d.Sharpe(),
	}
	if s.N != want.N ||
		!bitsEqual(s.CumulativeReturn, want.CumulativeReturn) ||
		!bitsEqual(s.AnnualReturn, want.AnnualReturn) ||
		!bitsEqual(s.AnnualVolatility, want.AnnualVolatility) ||
		!bitsEqual(s.Sharpe, want.Sharpe) ||
		!bitsEqual(s.Sortino, want.Sortino) ||
		!bitsEqual(s.DownsideRisk, want.DownsideRisk) ||
		!bitsEqual(s.MaxDrawdown, want.MaxDrawdown) ||
		!bitsEqual(s.Calmar, want.Calmar) ||
		!bitsEqual(s.DSRFinal, want.DSRFinal) {
		t.Errorf("Summarize(%v, %+v)\n got %+v\nwant %+v", r, o, s, want)
	}
}

// Scaling every return by k > 0 with rf = MAR = 0 scales the mean, the deviation and the
// downside risk by k, so Sharpe and Sortino are unchanged in exact arithmetic. In
// floating point, each k*r_i carries a relative rounding of eps = 2^-53, and the sums a
// relative error of about n*eps*sum|x|/|sum x|; with n <= 300 and series whose mean is
// at least a third of the deviation, sum|x|/|sum x| stays below about 10, giving a
// bound near 3e-13 in the worst case, so relative 1e-12 holds.
func TestScaleInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 303))
	const f, tol = 252, 1e-12
	checked := 0
	for trial := 0; trial < 500; trial++ {
		n := 20 + rng.IntN(280)
		sigma := 0.001 + 0.05*rng.Float64()
		mu := sigma * (1.0/3 + rng.Float64())
		if rng.IntN(2) == 0 {
			mu = -mu
		}
		r := randomSeries(rng, n, mu, sigma, 0.05)
		xs := dropNaN(r)
		sumAbs, sum := 0.0, 0.0
		for _, x := range xs {
			sumAbs += math.Abs(x)
			sum += x
		}
		if sumAbs > 10*math.Abs(sum) {
			continue // the sample mean came out too close to 0 for the bound above
		}
		checked++
		k := math.Exp(6*rng.Float64() - 3) // 0.05 .. 20
		kr := make([]float64, n)
		for i, x := range r {
			kr[i] = k * x
		}
		check(t, "Sharpe(k r)", metrics.Sharpe(kr, 0, f), metrics.Sharpe(r, 0, f), tol)
		check(t, "Sortino(k r)", metrics.Sortino(kr, 0, f), metrics.Sortino(r, 0, f), tol)
		check(t, "DownsideRisk(k r)/k", metrics.DownsideRisk(kr, 0, f)/k, metrics.DownsideRisk(r, 0, f), tol)
		if t.Failed() {
			t.Fatalf("trial %d: n=%d k=%g", trial, n, k)
		}
	}
	if checked < 300 {
		t.Fatalf("only %d of 500 series were well conditioned", checked)
	}
}

// Adding c to every return and to the risk-free rate leaves the excess returns, hence
// the Sharpe ratio, unchanged in exact arithmetic. Each (r+c) - (rf+c) differs from
// r - rf by at most about 3 eps (|r| + |c| + |rf|) <= 3 * 1.1e-16 * 0.5 ≈ 2e-16 in
// absolute terms; relative to a mean excess of at least sigma/3 >= 3e-4 that is below
// 1e-12, and likewise for the deviation, so relative 1e-10 leaves a wide margin.
func TestShiftInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 404))
	const f = 252
	for trial := 0; trial < 300; trial++ {
		n := 20 + rng.IntN(280)
		sigma := 0.001 + 0.05*rng.Float64()
		mu := sigma * (1.0/3 + rng.Float64())
		r := randomSeries(rng, n, mu, sigma, 0.05)
		rf := 0.001 * rng.Float64()
		c := 0.1 * (2*rng.Float64() - 1)
		shifted := make([]float64, n)
		rfSeries := make([]float64, n)
		for i, x := range r {
			shifted[i] = x + c
			rfSeries[i] = rf + c
		}
		want := metrics.Sharpe(r, rf, f)
		check(t, "Sharpe(r+c, rf+c)", metrics.Sharpe(shifted, rf+c, f), want, 1e-10)
		check(t, "SharpeSeries(r+c, rf+c)", metrics.SharpeSeries(shifted, rfSeries, f), want, 1e-10)
		if t.Failed() {
			t.Fatalf("trial %d: n=%d c=%g", trial, n, c)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	r := randomSeries(rand.New(rand.NewPCG(5, 505)), 1000, 0.001, 0.01, 0.01)
	rf := make([]float64, len(r))
	o := metrics.Options{PeriodsPerYear: 252, RiskFree: 0.0001, Eta: 0.01}
	var sink float64
	for name, fn := range map[string]func(){
		"CumulativeReturn": func() { sink += metrics.CumulativeReturn(r) },
		"AnnualReturn":     func() { sink += metrics.AnnualReturn(r, 252) },
		"AnnualVolatility": func() { sink += metrics.AnnualVolatility(r, 252) },
		"Sharpe":           func() { sink += metrics.Sharpe(r, 0, 252) },
		"SharpeSeries":     func() { sink += metrics.SharpeSeries(r, rf, 252) },
		"DownsideRisk":     func() { sink += metrics.DownsideRisk(r, 0, 252) },
		"Sortino":          func() { sink += metrics.Sortino(r, 0, 252) },
		"MaxDrawdown":      func() { sink += metrics.MaxDrawdown(r) },
		"Calmar":           func() { sink += metrics.Calmar(r, 252) },
		"Summarize":        func() { sink += metrics.Summarize(r, o).Sharpe },
		"DifferentialSharpe": func() {
			d := metrics.NewDifferentialSharpe(0.01)
			d.WarmStart(r[:100])
			for _, x := range r {
				sink += d.Update(x)
			}
			sink += d.Sharpe()
			d.Reset()
		},
		"DifferentialDownside": func() {
			d := metrics.NewDifferentialDownside(0.01)
			d.WarmStart(r[:100])
			for _, x := range r {
				sink += d.Update(x)
			}
			sink += d.Ratio()
			d.Reset()
		},
	} {
		if a := testing.AllocsPerRun(20, fn); a != 0 {
			t.Errorf("%s allocates %g times per call", name, a)
		}
	}
	_ = sink
}
