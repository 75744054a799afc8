package confint

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is the mean of a sample with a two-sided confidence interval.
type Interval struct {
	// N is the number of samples used: the finite ones.
	N int
	// Dropped counts the non-finite samples (NaN, ±Inf) left out.
	Dropped int
	// Mean is the sample mean; NaN when N is 0.
	Mean float64
	// SD is the sample standard deviation (divisor N-1); NaN when N < 2.
	SD float64
	// Lo and Hi bound the interval; NaN when N < 2 (one sample says nothing about
	// its spread). With N >= 2 and SD = 0 they equal Mean.
	Lo, Hi float64
	// Level is the confidence level, e.g. 0.95.
	Level float64
}

// HalfWidth returns (Hi - Lo) / 2, the "±" of the interval.
func (iv Interval) HalfWidth() float64 { return (iv.Hi - iv.Lo) / 2 }

// Mean95 returns the mean of xs with its 95% confidence interval. See Mean.
func Mean95(xs []float64) Interval { return Mean(xs, 0.95) }

// Mean returns the mean of the finite values of xs with the two-sided confidence
// interval at level (in (0, 1)) for the mean of a normal population with unknown
// variance:
//
//	mean ± t_{(1+level)/2, n-1} · s / √n,
//
// with s the sample standard deviation (divisor n-1) and t the Student's t quantile
// with n-1 degrees of freedom (e.g. Wasserman, All of Statistics, 2004, §10.7;
// Henderson et al., "Deep Reinforcement Learning that Matters", AAAI 2018, on
// reporting RL results across seeds). Non-finite values are left out and counted in
// Dropped. A level outside (0, 1) gives NaN bounds.
func Mean(xs []float64, level float64) Interval {
	iv := Interval{Level: level, Mean: math.NaN(), SD: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	var sum float64
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			iv.Dropped++
			continue
		}
		iv.N++
		sum += x
	}
	if iv.N == 0 {
		return iv
	}
	n := float64(iv.N)
	iv.Mean = sum / n
	if iv.N < 2 {
		return iv
	}
	// Two-pass variance with the compensation term (Chan, Golub & LeVeque 1983).
	var ss, comp float64
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		d := x - iv.Mean
		ss += d * d
		comp += d
	}
	iv.SD = math.Sqrt((ss - comp*comp/n) / (n - 1))
	if !(level > 0 && level < 1) {
		return iv
	}
	t := TQuantile((1+level)/2, iv.N-1)
	h := t * iv.SD / math.Sqrt(n)
	iv.Lo, iv.Hi = iv.Mean-h, iv.Mean+h
	return iv
}

// TQuantile returns the p-quantile of Student's t distribution with df degrees of
// freedom (df >= 1), e.g. TQuantile(0.975, 2) ≈ 4.303.
func TQuantile(p float64, df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(p)
}
