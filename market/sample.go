package market

import (
	"math"
	"math/rand/v2"
)

// poisson draws a Poisson(lam) count. For lam < 10 it inverts the CDF by sequential
// search (Devroye 1986, "Non-Uniform Random Variate Generation", X.3.3); above, it uses
// Hörmann's transformed rejection with squeeze, PTRS (W. Hörmann, "The transformed
// rejection method for generating Poisson random variables", Insurance: Mathematics and
// Economics 12, 1993), which needs about 1.1 uniforms pairs per draw at any lam. It does
// not allocate.
func poisson(r *rand.Rand, lam float64) int {
	switch {
	case !(lam > 0):
		return 0
	case lam < 10:
		p := math.Exp(-lam)
		s := p
		u := r.Float64()
		k := 0
		for u > s && k < 1000 {
			k++
			p *= lam / float64(k)
			s += p
		}
		return k
	}
	slam := math.Sqrt(lam)
	loglam := math.Log(lam)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lam + 0.43)
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v*invalpha/(a/(us*us)+b)) <= -lam+k*loglam-lg {
			return int(k)
		}
	}
}

// alias is Walker's alias table for sampling an index with given weights in O(1), built
// with Vose's stable method (M. D. Vose, "A linear algorithm for generating random
// numbers with a given distribution", IEEE TSE 17(9), 1991).
type alias struct {
	prob  []float64
	alias []int32
	total float64
}

// build sets the table for weights (all >= 0). Scratch slices are reused across calls.
func (a *alias) build(w []float64) {
	n := len(w)
	a.prob = resizeF(a.prob, n)
	a.alias = resizeI32(a.alias, n)
	a.total = 0
	for _, x := range w {
		a.total += x
	}
	if n == 0 || !(a.total > 0) {
		return
	}
	small := make([]int32, 0, n)
	large := make([]int32, 0, n)
	scale := float64(n) / a.total
	for i, x := range w {
		a.prob[i] = x * scale
		if a.prob[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s := small[len(small)-1]
		small = small[:len(small)-1]
		l := large[len(large)-1]
		a.alias[s] = l
		a.prob[l] += a.prob[s] - 1
		if a.prob[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range large {
		a.prob[i] = 1
	}
	for _, i := range small { // rounding leftovers
		a.prob[i] = 1
	}
}

// sample draws an index; build must have had a positive total.
func (a *alias) sample(r *rand.Rand) int {
	i := r.IntN(len(a.prob))
	if r.Float64() < a.prob[i] {
		return i
	}
	return int(a.alias[i])
}

func resizeF(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func resizeI32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

func (g Range) sample(r *rand.Rand) float64 {
	if g.Max <= g.Min {
		return g.Min
	}
	return g.Min + (g.Max-g.Min)*r.Float64()
}

func (g IntRange) sample(r *rand.Rand) int {
	if g.Max <= g.Min {
		return g.Min
	}
	return g.Min + r.IntN(g.Max-g.Min+1)
}

func (l LogNormal) sample(r *rand.Rand) float64 {
	x := l.Median * math.Exp(l.SDLog*r.NormFloat64())
	return math.Min(math.Max(x, l.Min), l.Max)
}

// floorUnits returns floor(x) as an int64 amount, saturated to [math.MinInt64,
// math.MaxInt64], and 0 for NaN. Go leaves the conversion of an out-of-range float to an
// integer implementation-defined (+Inf becomes math.MinInt64 on amd64 and
// math.MaxInt64 on arm64), so an amount derived from a float goes through here rather
// than through a bare int64(...): the same seed must give the same ledger on every CPU.
func floorUnits(x float64) int64 {
	switch {
	case math.IsNaN(x):
		return 0
	case x >= 0x1p63:
		return math.MaxInt64
	case x < -0x1p63:
		return math.MinInt64
	}
	return int64(math.Floor(x))
}

// toUnits converts whole tokens to base units of asset, rounding to nearest.
func toUnits(tokens float64, a Asset) int64 {
	return int64(math.Round(tokens * float64(a.Unit())))
}
