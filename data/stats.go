package data

import "math"

// Summary describes one series: moments, range, and for prices the annualized
// volatility of log returns.
type Summary struct {
	N        int
	Mean, SD float64 // SD is the sample standard deviation (n-1)
	Min, Max float64
	// AnnVol is sd(log x[t]/x[t-1]) * sqrt(periodsPerYear), for prices; NaN otherwise
	// or when a value is not positive.
	AnnVol float64
}

// Summarize returns the Summary of xs; price asks for AnnVol.
func Summarize(xs []float64, price bool, periodsPerYear float64) Summary {
	s := Summary{N: len(xs), Mean: math.NaN(), SD: math.NaN(), Min: math.NaN(), Max: math.NaN(), AnnVol: math.NaN()}
	if len(xs) == 0 {
		return s
	}
	s.Min, s.Max = xs[0], xs[0]
	sum := 0.0
	for _, x := range xs {
		sum += x
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
	}
	s.Mean = sum / float64(len(xs))
	if len(xs) > 1 {
		ss := 0.0
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(ss / float64(len(xs)-1))
	}
	if price && len(xs) > 2 && s.Min > 0 {
		var m, ss float64
		n := float64(len(xs) - 1)
		for i := 1; i < len(xs); i++ {
			m += math.Log(xs[i] / xs[i-1])
		}
		m /= n
		for i := 1; i < len(xs); i++ {
			d := math.Log(xs[i]/xs[i-1]) - m
			ss += d * d
		}
		s.AnnVol = math.Sqrt(ss/(n-1)) * math.Sqrt(periodsPerYear)
	}
	return s
}
