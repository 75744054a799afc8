package tournament

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Two players, no prior: the Bradley-Terry MLE has the closed form π_A/π_B = w/l (the
// likelihood π_A^w π_B^l / (π_A+π_B)^(w+l) is maximized at π_A/(π_A+π_B) = w/(w+l)),
// so the Elo-scale difference is 400 log10(w/l), split evenly by the centring.
func TestFitBradleyTerryTwoPlayersClosedForm(t *testing.T) {
	for _, tc := range []struct{ w, l float64 }{{7, 3}, {1, 1}, {2, 9}, {5.5, 4.5}} {
		c := NewComparisons(2)
		c.Wins[0][1], c.Wins[1][0] = tc.w, tc.l
		got := FitBradleyTerry(nil, c, 0)
		want := 200 * math.Log10(tc.w/tc.l)
		if math.Abs(got[0]-want) > 1e-6 || math.Abs(got[1]+want) > 1e-6 {
			t.Errorf("w=%g l=%g: ratings %v, want [%g, %g]", tc.w, tc.l, got, want, -want)
		}
	}
}

// Ties count half a win each: 3 wins, 1 loss and 2 ties are 4 wins to 2.
func TestComparisonsTies(t *testing.T) {
	c := NewComparisons(2)
	for _, x := range [][2]float64{{2, 1}, {2, 1}, {2, 1}, {1, 2}, {1, 1}, {3, 3}, {math.NaN(), 1}} {
		c.Add(0, 1, x[0], x[1])
	}
	if c.Wins[0][1] != 4 || c.Wins[1][0] != 2 {
		t.Fatalf("wins %v, want [[0 4] [2 0]]", c.Wins)
	}
	got := FitBradleyTerry(nil, c, 0)
	if want := 200 * math.Log10(2); math.Abs(got[0]-want) > 1e-6 {
		t.Errorf("rating %g, want %g", got[0], want)
	}
}

// With the prior, one player against the reference only (no real games) keeps π = 1:
// Prior wins over 2 Prior games against a player of strength 1 solve π/(π+1) = 1/2.
// One player who beat another w times and lost l times: the MLE satisfies the
// likelihood equations W_i = Σ_j n_ij π_i/(π_i+π_j) + 2 prior π_i/(π_i+1); the test
// checks them on the fitted strengths for a random 4-player table.
func TestFitBradleyTerryLikelihoodEquations(t *testing.T) {
	c := NewComparisons(1)
	if got := FitBradleyTerry(nil, c, 1); got[0] != 0 {
		t.Errorf("lone player: rating %g, want 0", got[0])
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 4
	c = NewComparisons(n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				c.Wins[i][j] = float64(r.IntN(6))
			}
		}
	}
	c.Wins[0][1], c.Wins[1][0] = 5, 0 // a one-sided pair
	const prior = 1.0
	rat := FitBradleyTerry(nil, c, prior)
	pi := make([]float64, n)
	for i, x := range rat {
		pi[i] = math.Pow(10, x/400)
	}
	for i := 0; i < n; i++ {
		won := prior
		exp := 2 * prior * pi[i] / (pi[i] + 1)
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			won += c.Wins[i][j]
			exp += (c.Wins[i][j] + c.Wins[j][i]) * pi[i] / (pi[i] + pi[j])
		}
		if math.Abs(won-exp) > 1e-8 {
			t.Errorf("player %d: %g wins, the fit expects %g", i, won, exp)
		}
	}
}

// A player who always wins gets a finite rating above everyone's with the prior, and
// the bootstrap interval brackets the estimate.
func TestRateUnitsDominance(t *testing.T) {
	var units []Unit
	r := rand.New(rand.NewPCG(3, 4))
	for k := 0; k < 30; k++ {
		units = append(units, Unit{2 + r.Float64(), r.Float64(), r.Float64(), math.NaN()})
	}
	rs := RateUnits(4, units, 1, 200, rand.New(rand.NewPCG(5, 6)))
	if !(rs[0].Rating > rs[1].Rating && rs[0].Rating > rs[2].Rating) || math.IsInf(rs[0].Rating, 0) {
		t.Fatalf("ratings %+v: player 0 should lead, finitely", rs)
	}
	for i, x := range rs[:3] {
		if !(x.CI95[0] <= x.Rating && x.Rating <= x.CI95[1]) {
			t.Errorf("player %d: rating %g outside its interval %v", i, x.Rating, x.CI95)
		}
	}
	if rs[3].Rating != 0 || rs[3].Games != 0 {
		t.Errorf("a player with no games: %+v, want rating 0 and no games", rs[3])
	}
	if rs[0].Games != 60 {
		t.Errorf("player 0 took part in %g comparisons, want 60", rs[0].Games)
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5}
	for _, tc := range []struct{ p, want float64 }{{0, 1}, {1, 5}, {0.5, 3}, {0.025, 1.1}, {0.975, 4.9}} {
		if got := quantile(xs, tc.p); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("quantile(%g) = %g, want %g", tc.p, got, tc.want)
		}
	}
}
