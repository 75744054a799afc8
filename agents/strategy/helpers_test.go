package strategy

import (
	"math"
	"testing"
)

const tol = 1e-12

func near(a, b, eps float64) bool { return math.Abs(a-b) <= eps }

// wantDecision fails unless d has the given action and, for accept and counter, price
// within tol of the given one.
func wantDecision(t *testing.T, what string, d Decision, action Action, price float64) {
	t.Helper()
	if d.Action != action {
		t.Errorf("%s: got %v, want %v@%v", what, d, action, price)
		return
	}
	if (action == ActionAccept || action == ActionCounter) && !near(d.Price, price, 1e-9) {
		t.Errorf("%s: got %v, want %v@%.12g", what, d, action, price)
	}
}

// seller and buyer build views with a generous round limit and no deadline.
func seller(res, open float64, mine, theirs []float64) *Negotiation {
	return &Negotiation{Side: Seller, Round: len(mine) + len(theirs) - 1, MaxRounds: 100,
		Reservation: res, Opening: open, Mine: mine, Theirs: theirs}
}

func buyer(res, open float64, mine, theirs []float64) *Negotiation {
	return &Negotiation{Side: Buyer, Round: len(mine) + len(theirs) - 1, MaxRounds: 100,
		Reservation: res, Opening: open, Mine: mine, Theirs: theirs}
}
