package tournament

// Ratings. Entrants of a role are rated from the mixed-population matchups, where they
// share one market: in every episode each pair of entrants that played is one
// comparison, won by the entrant whose agents had the higher mean metric (a tie is half
// a win each). The ratings are the maximum-likelihood estimate of the Bradley-Terry
// model P(i beats j) = π_i / (π_i + π_j) (Bradley and Terry 1952), reported on the Elo
// scale, 400 log10 π_i: a difference of 400 points is 10:1 odds. Elo's online update
// estimates the same model, but its result depends on the order of the games and its
// step size; the MLE over all comparisons does not, which is what a tournament of
// simultaneous, paired episodes needs.
//
// The fit is Hunter's MM algorithm (Hunter 2004, "MM algorithms for generalized
// Bradley-Terry models", eq. 3): π_i ← W_i / Σ_j n_ij / (π_i + π_j), which increases the
// likelihood at every step. An entrant that wins every comparison has no finite MLE, so
// every entrant also plays Prior virtual wins and Prior virtual losses against a fixed
// reference player of rating 0 (a Bayesian prior, as in Coulom's Bayeselo); this also
// fixes the scale's origin. With Prior 0 the ratings are centred (geometric mean of π
// 1) instead.
//
// Intervals: the bootstrap over episodes (Efron and Tibshirani 1993): resample the
// episodes with replacement, refit, and take the 2.5% and 97.5% percentiles of each
// entrant's rating.

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Fit tolerances.
const (
	fitTol      = 1e-12 // stop when no log-strength moves by more than this
	fitMaxIters = 100000
)

// Comparisons are the pairwise results among n players: Wins[i][j] counts i's wins over
// j (ties add 0.5 to both).
type Comparisons struct {
	N    int
	Wins [][]float64
}

// NewComparisons returns an empty table for n players.
func NewComparisons(n int) *Comparisons {
	c := &Comparisons{N: n, Wins: make([][]float64, n)}
	for i := range c.Wins {
		c.Wins[i] = make([]float64, n)
	}
	return c
}

// Add records one comparison of i and j with values xi and xj (higher wins; equal is a
// tie; a NaN value records nothing).
func (c *Comparisons) Add(i, j int, xi, xj float64) {
	switch {
	case math.IsNaN(xi) || math.IsNaN(xj) || i == j:
	case xi > xj:
		c.Wins[i][j]++
	case xj > xi:
		c.Wins[j][i]++
	default:
		c.Wins[i][j] += 0.5
		c.Wins[j][i] += 0.5
	}
}

// Games returns the number of comparisons player i took part in.
func (c *Comparisons) Games(i int) float64 {
	g := 0.0
	for j := 0; j < c.N; j++ {
		g += c.Wins[i][j] + c.Wins[j][i]
	}
	return g
}

// FitBradleyTerry returns the Elo-scale ratings (400 log10 π) of the maximum-likelihood
// Bradley-Terry fit of c, with prior virtual wins and losses per player against a
// reference of rating 0 (prior 0: no prior, ratings centred). dst is reused when long
// enough. A player with no games (and no prior) gets rating 0; with prior 0, a player
// who won nothing gets -Inf and one who lost nothing +Inf.
func FitBradleyTerry(dst []float64, c *Comparisons, prior float64) []float64 {
	n := c.N
	dst = slices.Grow(dst[:0], n)[:n]
	pi := make([]float64, n)
	w := make([]float64, n)
	for i := range pi {
		pi[i] = 1
		w[i] = prior
		for j := 0; j < n; j++ {
			w[i] += c.Wins[i][j]
		}
	}
	next := make([]float64, n)
	for it := 0; it < fitMaxIters; it++ {
		for i := 0; i < n; i++ {
			den := 0.0
			if prior > 0 {
				den = 2 * prior / (pi[i] + 1)
			}
			for j := 0; j < n; j++ {
				if nij := c.Wins[i][j] + c.Wins[j][i]; nij > 0 && j != i {
					den += nij / (pi[i] + pi[j])
				}
			}
			if den == 0 {
				next[i] = pi[i] // no games: stays at 1
				continue
			}
			next[i] = w[i] / den
		}
		if prior == 0 {
			// Centre: the geometric mean of the finite positive strengths is 1.
			s, k := 0.0, 0
			for _, p := range next {
				if p > 0 && !math.IsInf(p, 0) {
					s += math.Log(p)
					k++
				}
			}
			if k > 0 {
				g := math.Exp(s / float64(k))
				for i := range next {
					next[i] /= g
				}
			}
		}
		moved := 0.0
		for i := range next {
			if next[i] > 0 && pi[i] > 0 {
				moved = math.Max(moved, math.Abs(math.Log(next[i]/pi[i])))
			} else if next[i] != pi[i] {
				moved = math.Inf(1)
			}
		}
		copy(pi, next)
		if moved < fitTol {
			break
		}
	}
	for i, p := range pi {
		dst[i] = 400 * math.Log10(p)
	}
	return dst
}

// Unit is one episode's values of the players that played in it (NaN: did not play).
type Unit []float64

// comparisons builds the pairwise table of units (indexes into units, repeated for a
// bootstrap resample).
func comparisons(n int, units []Unit, idx []int) *Comparisons {
	c := NewComparisons(n)
	for _, k := range idx {
		u := units[k]
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				c.Add(i, j, u[i], u[j])
			}
		}
	}
	return c
}

// Rating is one entrant's rating with its bootstrap interval.
type Rating struct {
	Rating float64
	CI95   [2]float64
	// Games counts the comparisons the entrant took part in.
	Games float64
}

// RateUnits fits the ratings of n players from units and their bootstrap intervals over
// b resamples of the units drawn from r.
func RateUnits(n int, units []Unit, prior float64, b int, r *rand.Rand) []Rating {
	all := make([]int, len(units))
	for i := range all {
		all[i] = i
	}
	c := comparisons(n, units, all)
	est := FitBradleyTerry(nil, c, prior)
	out := make([]Rating, n)
	for i := range out {
		out[i] = Rating{Rating: est[i], CI95: [2]float64{math.NaN(), math.NaN()}, Games: c.Games(i)}
	}
	if b <= 0 || len(units) == 0 {
		return out
	}
	boot := make([][]float64, n)
	idx := make([]int, len(units))
	var fit []float64
	for k := 0; k < b; k++ {
		for i := range idx {
			idx[i] = r.IntN(len(units))
		}
		fit = FitBradleyTerry(fit, comparisons(n, units, idx), prior)
		for i, x := range fit {
			boot[i] = append(boot[i], x)
		}
	}
	for i := range out {
		slices.Sort(boot[i])
		out[i].CI95 = [2]float64{quantile(boot[i], 0.025), quantile(boot[i], 0.975)}
	}
	return out
}

// quantile returns the p-quantile of sorted xs by linear interpolation between order
// statistics (Hyndman and Fan's type 7).
func quantile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	h := p * float64(len(xs)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(xs)-1)
	if math.IsInf(xs[lo], 0) || math.IsInf(xs[hi], 0) {
		return xs[lo]
	}
	return xs[lo] + (h-float64(lo))*(xs[hi]-xs[lo])
}
