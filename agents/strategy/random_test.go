package strategy

import (
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// TestRandomLegalUniform: with all three actions legal each is drawn about a third of the
// time (n = 30000, sd of a share = sqrt(1/3 * 2/3 / n) = 0.0027; tolerance 0.015 is over
// 5 sd); with the incoming price beyond the reservation only Counter and Reject are drawn,
// about half each; counters are uniform on [opening, reservation] (mean 1.5 on [1, 2]).
func TestRandomLegalUniform(t *testing.T) {
	s := NewRandomLegal(rng.New(3, "random"))
	const n = 30000
	count := map[Action]int{}
	sum, counters := 0.0, 0
	for i := 0; i < n; i++ {
		d := s.Respond(buyer(2, 1, []float64{1}, []float64{1.5}))
		count[d.Action]++
		if d.Action == ActionAccept && d.Price != 1.5 {
			t.Fatalf("accepted at %v, the offer was 1.5", d.Price)
		}
		if d.Action == ActionCounter {
			if d.Price < 1 || d.Price > 2 {
				t.Fatalf("counter %v outside [1, 2]", d.Price)
			}
			sum += d.Price
			counters++
		}
	}
	for _, a := range []Action{ActionAccept, ActionCounter, ActionReject} {
		if share := float64(count[a]) / n; !near(share, 1.0/3, 0.015) {
			t.Errorf("%v share %v, want 1/3", a, share)
		}
	}
	// Uniform on [1, 2]: sd of the mean = (1/sqrt(12))/sqrt(10000) = 0.0029.
	if mean := sum / float64(counters); !near(mean, 1.5, 0.015) {
		t.Errorf("mean counter %v, want 1.5", mean)
	}

	count = map[Action]int{}
	for i := 0; i < n; i++ {
		count[s.Respond(buyer(2, 1, []float64{1}, []float64{2.5})).Action]++
	}
	if count[ActionAccept] != 0 {
		t.Fatalf("accepted 2.5 beyond the reservation 2 %d times", count[ActionAccept])
	}
	if share := float64(count[ActionCounter]) / n; !near(share, 0.5, 0.015) {
		t.Errorf("counter share %v, want 1/2", share)
	}
	// Last round for a buyer: accept or reject only.
	last := buyer(2, 1, []float64{1}, []float64{1.5})
	last.Round, last.MaxRounds = 7, 8
	for i := 0; i < 1000; i++ {
		if a := s.Respond(last).Action; a == ActionCounter {
			t.Fatal("countered with no round left")
		}
	}
	if err := (&RandomLegal{}).Validate(); err == nil {
		t.Error("RandomLegal without Rand accepted")
	}
}
