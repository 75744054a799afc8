package metrics_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/hivegym/hivegym/metrics"
)

const fuzzMaxValues = 1000

// decodeFloats turns every 8 bytes of data into a float64 (little-endian bits), up to
// fuzzMaxValues values; trailing bytes are ignored. raw holds the values as decoded, NaN,
// ±Inf, subnormals and huge values included. moderate keeps NaN (a missing value) and
// the values that are 0 or in [-0.99, 1] with magnitude at least 1e-100, and replaces
// every other value by int16(low bits)/40000, in [-0.82, 0.82].
//
// Why those bounds make the "defined" invariants hold for moderate: with 1 + r in
// [0.01, 2] and at most 1000 rows, the wealth stays within [0, 2^1000] (finite; it may
// underflow to 0, a total loss), and the CAGR at F = 252 is at most 2^252; values are 0
// or at least 1e-100 in magnitude, so a squared deviation of two distinct values (at
// least about 1e-135 apart) never underflows, and a non-constant series has a positive
// deviation.
func decodeFloats(data []byte) (raw, moderate []float64) {
	for len(data) >= 8 && len(raw) < fuzzMaxValues {
		bits := binary.LittleEndian.Uint64(data)
		data = data[8:]
		x := math.Float64frombits(bits)
		raw = append(raw, x)
		switch {
		case math.IsNaN(x):
			moderate = append(moderate, x)
		case x == 0 || (x >= -0.99 && x <= 1 && math.Abs(x) >= 1e-100):
			moderate = append(moderate, x)
		default:
			moderate = append(moderate, float64(int16(bits))/40000)
		}
	}
	return raw, moderate
}

func encodeFloats(xs ...float64) []byte {
	b := make([]byte, 0, 8*len(xs))
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func FuzzMetrics(f *testing.F) {
	inf := math.Inf(1)
	for _, seed := range [][]float64{
		nil,
		{0.01},
		{nan},
		{nan, nan},
		{nan, -0.01},
		{0.1, -0.05, 0.2, nan},
		{0.1, 0.1, 0.1},
		{-0.01, -0.01, -0.01},
		{0, 0, 0},
		{0, math.Copysign(0, -1)},
		{0.01, 0.02, 0},
		{-0.1, 0.05},
		{-1, 0.5, 0.2},
		{inf, -inf, nan, 1e308, -1e308},
		{5e-324, -5e-324, 1e-200},
		{1e-100, 0, -1e-100},
		{1, 1, 1, 1, 1, 1, 1, 1},
		{-0.99, -0.99, -0.99},
	} {
		f.Add(encodeFloats(seed...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, moderate := decodeFloats(data)
		checkAnyFloats(t, raw)
		checkAnyFloats(t, moderate)
		checkModerate(t, moderate)
	})
}

const fuzzF = 252

// checkAnyFloats holds for every input, however extreme: overflow may legitimately make
// a metric infinite, or a NaN out of Inf - Inf, so only structural facts are checked.
func checkAnyFloats(t *testing.T, r []float64) {
	t.Helper()
	rows, values := len(r), len(dropNaN(r))
	cum, ann := metrics.CumulativeReturn(r), metrics.AnnualReturn(r, fuzzF)
	vol, sh := metrics.AnnualVolatility(r, fuzzF), metrics.Sharpe(r, 0, fuzzF)
	dr, so := metrics.DownsideRisk(r, 0, fuzzF), metrics.Sortino(r, 0, fuzzF)
	mdd, cal := metrics.MaxDrawdown(r), metrics.Calmar(r, fuzzF)

	if rows == 0 {
		for _, v := range []float64{cum, ann, vol, sh, dr, so, mdd, cal} {
			if !math.IsNaN(v) {
				t.Fatalf("empty input gave %g, want NaN", v)
			}
		}
	}
	if values < 2 && (!math.IsNaN(vol) || !math.IsNaN(sh)) {
		t.Fatalf("%d values: volatility %g, Sharpe %g; want NaN", values, vol, sh)
	}
	if rows < 2 && !math.IsNaN(so) {
		t.Fatalf("%d rows: Sortino %g, want NaN", rows, so)
	}
	// Downside risk averages squares (>= 0 or +Inf): NaN exactly when nothing is there.
	if (values == 0) != math.IsNaN(dr) || dr < 0 {
		t.Fatalf("%d values: DownsideRisk %g", values, dr)
	}
	if vol < 0 {
		t.Fatalf("AnnualVolatility %g < 0", vol)
	}
	if rows > 0 {
		// The drawdown includes t = 0 (drawdown 0) and ignores NaN, as nanmin does.
		if math.IsNaN(mdd) || mdd > 0 {
			t.Fatalf("MaxDrawdown %g, want <= 0", mdd)
		}
		atLeastMinus1 := true
		for _, x := range r {
			if x < -1 {
				atLeastMinus1 = false
			}
		}
		if atLeastMinus1 && mdd < -1 {
			t.Fatalf("MaxDrawdown %g < -1 with every return >= -1", mdd)
		}
	}
	if math.IsInf(cal, 0) || (mdd == 0 && !math.IsNaN(cal)) {
		t.Fatalf("Calmar %g with max drawdown %g", cal, mdd)
	}
	for _, o := range []metrics.Options{{PeriodsPerYear: fuzzF, Eta: 0.01}, {PeriodsPerYear: 12, RiskFree: 0.001, MAR: 0.002, Eta: 0.5}} {
		assertSummaryMatches(t, r, o)
	}

	// Online estimators: never panic; skip non-finite returns without touching the state;
	// D_1 is 0 from a cold start.
	s, d := metrics.NewDifferentialSharpe(0.1), metrics.NewDifferentialDownside(0.1)
	first := true
	for _, x := range r {
		a, b, da, dd2 := s.A(), s.B(), d.A(), d.DD2()
		ds, dd := s.Update(x), d.Update(x)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if ds != 0 || dd != 0 || !bitsEqual(s.A(), a) || !bitsEqual(s.B(), b) ||
				!bitsEqual(d.A(), da) || !bitsEqual(d.DD2(), dd2) {
				t.Fatalf("Update(%g) returned %g, %g or changed the state", x, ds, dd)
			}
			continue
		}
		if first && (ds != 0 || dd != 0) {
			t.Fatalf("first Update(%g) = %g, %g; want 0 (warm-up)", x, ds, dd)
		}
		first = false
	}
	_ = s.Sharpe()
	_ = d.Ratio()
}

// checkModerate checks that a metric is NaN or ±Inf exactly where specs/metrics.md says,
// and finite otherwise, for moderate inputs (see decodeFloats).
func checkModerate(t *testing.T, r []float64) {
	t.Helper()
	xs := dropNaN(r)
	rows, values := len(r), len(xs)
	constant, anyNeg, anyPos, bigLoss := true, false, false, false
	for _, x := range xs {
		if x != xs[0] {
			constant = false
		}
		anyNeg = anyNeg || x < 0
		anyPos = anyPos || x > 0
		bigLoss = bigLoss || x <= -1e-10
	}
	finite := func(name string, v float64) {
		t.Helper()
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s = %g, want finite for %v", name, v, r)
		}
	}
	want := func(name string, got, w float64) {
		t.Helper()
		if !bitsEqual(got, w) && !(got == w) {
			t.Fatalf("%s = %g, want %g for %v", name, got, w, r)
		}
	}
	if rows == 0 {
		return // checked by checkAnyFloats
	}

	cum := metrics.CumulativeReturn(r)
	finite("CumulativeReturn", cum)
	ann := metrics.AnnualReturn(r, fuzzF)
	finite("AnnualReturn", ann)
	if cum < -1 || ann < -1 {
		t.Fatalf("cumulative %g, annual %g below -1", cum, ann)
	}

	vol, sh := metrics.AnnualVolatility(r, fuzzF), metrics.Sharpe(r, 0, fuzzF)
	switch {
	case values < 2:
		want("AnnualVolatility", vol, nan)
		want("Sharpe", sh, nan)
	case constant:
		want("AnnualVolatility", vol, 0)
		switch {
		case xs[0] > 0:
			want("Sharpe", sh, math.Inf(1))
		case xs[0] < 0:
			want("Sharpe", sh, math.Inf(-1))
		default:
			want("Sharpe", sh, nan)
		}
	default:
		finite("AnnualVolatility", vol)
		finite("Sharpe", sh)
		if !(vol > 0) {
			t.Fatalf("AnnualVolatility %g of a non-constant series", vol)
		}
	}

	dr, so := metrics.DownsideRisk(r, 0, fuzzF), metrics.Sortino(r, 0, fuzzF)
	switch {
	case values == 0:
		want("DownsideRisk", dr, nan)
	case !anyNeg:
		want("DownsideRisk", dr, 0)
	default:
		finite("DownsideRisk", dr)
		if !(dr > 0) {
			t.Fatalf("DownsideRisk %g with a loss", dr)
		}
	}
	switch {
	case rows < 2 || values == 0:
		want("Sortino", so, nan)
	case anyNeg:
		finite("Sortino", so)
	case anyPos:
		want("Sortino", so, math.Inf(1))
	default:
		want("Sortino", so, nan)
	}

	mdd, cal := metrics.MaxDrawdown(r), metrics.Calmar(r, fuzzF)
	if mdd < -1 || mdd > 0 || math.IsNaN(mdd) {
		t.Fatalf("MaxDrawdown %g outside [-1, 0]", mdd)
	}
	if bigLoss && !(mdd < 0) {
		t.Fatalf("MaxDrawdown %g with a loss <= -1e-10", mdd)
	}
	if !anyNeg {
		want("MaxDrawdown", mdd, 0)
	}
	if mdd == 0 {
		want("Calmar", cal, nan)
	} else {
		finite("Calmar", cal)
	}

	// Online: with |R| <= 1 the moments stay bounded, and the guards on the denominators
	// leave no 0/0, so D_t is never NaN (it may overflow to ±Inf right after warm-up);
	// Clip bounds it.
	for _, c := range []float64{0, 3} {
		s, d := metrics.NewDifferentialSharpe(0.05), metrics.NewDifferentialDownside(0.05)
		s.Clip, d.Clip = c, c
		for _, x := range r {
			ds, dd := s.Update(x), d.Update(x)
			if math.IsNaN(ds) || math.IsNaN(dd) {
				t.Fatalf("online D_t NaN (%g, %g) at R=%g", ds, dd, x)
			}
			if c > 0 && (math.Abs(ds) > c || math.Abs(dd) > c) {
				t.Fatalf("clip %g: D_t = %g, %g", c, ds, dd)
			}
		}
	}
}
