package strategy

import (
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// TestRelativeTitForTat scripts a buyer's offers against a relative tit-for-tat seller
// (delta 1, opening 2, reservation 1):
//
//	buyer 1.0          -> one opponent offer, nothing to imitate: repeat the opening 2
//	buyer 1.1          -> 2 * 1.0/1.1   = 1.818181818181818 (1.1 < it: counter)
//	buyer 1.32         -> 1.818181818181818 * 1.1/1.32 = 1.515151515151515
//	buyer 1.6          -> 1.515151515151515 * 1.32/1.6 = 1.25; 1.6 >= 1.25: accept
func TestRelativeTitForTat(t *testing.T) {
	s := NewTitForTat()
	theirs := []float64{1.0, 1.1, 1.32, 1.6}
	want := []Decision{Counter(2), Counter(20.0 / 11), Counter(50.0 / 33), Accept(1.6)}
	var mine []float64
	for i, w := range want {
		d := s.Respond(seller(1, 2, mine, theirs[:i+1]))
		wantDecision(t, "step", d, w.Action, w.Price)
		mine = append(mine, d.Price)
	}
	// Delay delta = 2 imitates the concession before last: 2 offers after the seller's
	// [2, 1.9], buyer [1.0, 1.2, 1.25]: 1.9 * 1.0/1.2 = 1.583333333333333.
	s.Delta = 2
	wantDecision(t, "delta 2", s.Respond(seller(1, 2, []float64{2, 1.9}, []float64{1.0, 1.2, 1.25})), ActionCounter, 1.9/1.2)
	// Buyer side, opening 1, reservation 2, seller offers 2.0 then 1.8:
	// 1 * 2.0/1.8 = 1.111111111111111.
	s.Delta = 1
	wantDecision(t, "buyer", s.Respond(buyer(2, 1, []float64{1}, []float64{2.0, 1.8})), ActionCounter, 2.0/1.8)
	// Clamped: a seller imitating a huge concession stops at its reservation.
	wantDecision(t, "big concession", s.Respond(seller(1, 2, []float64{2}, []float64{0.5, 0.9})), ActionCounter, 2*0.5/0.9)
	wantDecision(t, "clamped at reservation", s.Respond(seller(1.5, 2, []float64{2}, []float64{0.5, 0.9})), ActionCounter, 1.5)
	// A zero denominator falls back to repeating the last offer.
	wantDecision(t, "zero", s.Respond(seller(1, 2, []float64{1.8}, []float64{0.5, 0})), ActionCounter, 1.8)
}

// TestRandomAbsoluteTitForTat: seller, last offer 2, buyer moved 1.0 -> 1.1:
// 2 + (1.0 - 1.1) - M u = 1.9 - M u, u the seller's next uniform draw; a buyer adds M u.
func TestRandomAbsoluteTitForTat(t *testing.T) {
	const seed = 7
	s := NewTitForTatRandom(rng.New(seed, "tft"))
	s.M = 0.05
	ref := rng.New(seed, "tft") // the same stream, to predict the draws
	for i := 0; i < 50; i++ {
		u := ref.Float64()
		want := 1.9 - 0.05*u
		d := s.Respond(seller(1, 2, []float64{2}, []float64{1.0, 1.1}))
		wantDecision(t, "seller", d, ActionCounter, want)
		if d.Price > 1.9 || d.Price < 1.85 {
			t.Fatalf("counter %v outside [1.85, 1.9]", d.Price)
		}
	}
	// Buyer, last offer 1, seller moved 2.0 -> 1.8: 1 + 0.2 + M u.
	u := ref.Float64()
	wantDecision(t, "buyer", s.Respond(buyer(2, 1, []float64{1}, []float64{2.0, 1.8})), ActionCounter, 1.2+0.05*u)
	// M = 0 is deterministic absolute imitation.
	s.M = 0
	wantDecision(t, "M=0", s.Respond(seller(1, 2, []float64{2}, []float64{1.0, 1.1})), ActionCounter, 1.9)
}

// TestAveragedTitForTat: gamma 2, seller, own offers [2, 1.9], buyer [1.0, 1.1, 1.25]:
// 1.9 * 1.0/1.25 = 1.52; with only two buyer offers it repeats 1.9.
func TestAveragedTitForTat(t *testing.T) {
	s := NewTitForTatAvg()
	wantDecision(t, "window 2", s.Respond(seller(1, 2, []float64{2, 1.9}, []float64{1.0, 1.1, 1.25})), ActionCounter, 1.52)
	wantDecision(t, "short history", s.Respond(seller(1, 2, []float64{2, 1.9}, []float64{1.0, 1.1})), ActionCounter, 1.9)
	// gamma 1 is relative tit-for-tat with delta 1: 1.9 * 1.1/1.25 = 1.672.
	s.Gamma = 1
	wantDecision(t, "window 1", s.Respond(seller(1, 2, []float64{2, 1.9}, []float64{1.0, 1.1, 1.25})), ActionCounter, 1.672)
	// Accepts an offer at least as good as its own next offer: 1.9 * 1.1/1.7 = 1.229 <= 1.7.
	wantDecision(t, "accept", s.Respond(seller(1, 2, []float64{2, 1.9}, []float64{1.0, 1.1, 1.7})), ActionAccept, 1.7)
}

func TestTitForTatValidate(t *testing.T) {
	for _, s := range []*TitForTat{NewTitForTat(), NewTitForTatAvg(), NewTitForTatRandom(rng.New(1, "x"))} {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name(), err)
		}
	}
	err := (&TitForTat{Kind: RandomAbsolute, Delta: 0, M: -1}).Validate()
	for _, want := range []string{"delta:", "m:", "rand:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if err := (&TitForTat{Kind: Averaged, Gamma: 0}).Validate(); err == nil {
		t.Error("gamma 0 accepted")
	}
}
