package confint

import (
	"math"
	"testing"
)

// TestMean95ThreeSamples works the interval out by hand for {1, 2, 6}: mean 3,
// deviations -2, -1, 3, sum of squares 14, s^2 = 14/2 = 7, s = sqrt(7); the 0.975
// quantile of t with 2 degrees of freedom is 4.303 (any t table), so the half-width
// is 4.303 * sqrt(7) / sqrt(3) = 6.5727...
func TestMean95ThreeSamples(t *testing.T) {
	iv := Mean95([]float64{1, 2, 6})
	if iv.N != 3 || iv.Dropped != 0 {
		t.Fatalf("N %d, dropped %d", iv.N, iv.Dropped)
	}
	if math.Abs(iv.Mean-3) > 1e-12 {
		t.Errorf("mean %g, want 3", iv.Mean)
	}
	if math.Abs(iv.SD-math.Sqrt(7)) > 1e-12 {
		t.Errorf("sd %g, want sqrt(7)", iv.SD)
	}
	h := 4.303 * math.Sqrt(7) / math.Sqrt(3) // t table value to 4 significant digits
	// The table's 4.303 is rounded (4.302653): allow 5e-4 relative.
	if math.Abs(iv.Lo-(3-h)) > 5e-4*h || math.Abs(iv.Hi-(3+h)) > 5e-4*h {
		t.Errorf("interval [%g, %g], want [%g, %g]", iv.Lo, iv.Hi, 3-h, 3+h)
	}
	if math.Abs(iv.HalfWidth()-h) > 5e-4*h {
		t.Errorf("half-width %g, want %g", iv.HalfWidth(), h)
	}
}

// TestTQuantile checks quantiles against printed t tables (4 significant digits).
func TestTQuantile(t *testing.T) {
	cases := []struct {
		p    float64
		df   int
		want float64
	}{
		{0.975, 1, 12.706},
		{0.975, 2, 4.303},
		{0.975, 4, 2.776},
		{0.975, 9, 2.262},
		{0.975, 29, 2.045},
		{0.95, 5, 2.015},
		{0.5, 3, 0},
	}
	for _, c := range cases {
		got := TQuantile(c.p, c.df)
		if math.Abs(got-c.want) > 6e-4 {
			t.Errorf("t(%g, %d) = %g, want %g", c.p, c.df, got, c.want)
		}
	}
}

func TestMeanEdgeCases(t *testing.T) {
	iv := Mean95(nil)
	if iv.N != 0 || !math.IsNaN(iv.Mean) || !math.IsNaN(iv.Lo) {
		t.Errorf("empty: %+v", iv)
	}
	iv = Mean95([]float64{5})
	if iv.N != 1 || iv.Mean != 5 || !math.IsNaN(iv.Lo) || !math.IsNaN(iv.Hi) || !math.IsNaN(iv.SD) {
		t.Errorf("one sample: %+v", iv)
	}
	iv = Mean95([]float64{2, math.NaN(), 2, math.Inf(1), 2})
	if iv.N != 3 || iv.Dropped != 2 || iv.Mean != 2 || iv.Lo != 2 || iv.Hi != 2 || iv.SD != 0 {
		t.Errorf("constant with non-finite: %+v", iv)
	}
	iv = Mean([]float64{1, 2, 6}, 1.5)
	if iv.Mean != 3 || !math.IsNaN(iv.Lo) {
		t.Errorf("bad level: %+v", iv)
	}
}

// TestMeanCoverage: on 2000 samples of size 4 from N(10, 3^2) drawn with a fixed
// deterministic generator, the 95% interval covers 10 in 95% ± 2.5% of cases (the
// binomial sd is sqrt(.95*.05/2000) = 0.49%, so ±2.5% is five sds).
func TestMeanCoverage(t *testing.T) {
	// Box-Muller over a 64-bit LCG (Knuth MMIX constants): no math/rand, no state.
	s := uint64(12345)
	u := func() float64 {
		s = s*6364136223846793005 + 1442695040888963407
		return (float64(s>>11) + 0.5) / (1 << 53)
	}
	norm := func() float64 { return math.Sqrt(-2*math.Log(u())) * math.Cos(2*math.Pi*u()) }
	cover := 0
	const trials = 2000
	xs := make([]float64, 4)
	for range trials {
		for i := range xs {
			xs[i] = 10 + 3*norm()
		}
		iv := Mean95(xs)
		if iv.Lo <= 10 && 10 <= iv.Hi {
			cover++
		}
	}
	if f := float64(cover) / trials; math.Abs(f-0.95) > 0.025 {
		t.Errorf("coverage %.3f, want 0.95 ± 0.025", f)
	}
}
