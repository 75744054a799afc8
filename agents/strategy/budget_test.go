package strategy

import "testing"

// TestBudgetAware: value 2 USD/h, budget 10 USD for 8 hours (1.25 USD/h), reservation
// 1.5: cap = min(2, 1.25, 1.5) = 1.25; opening bid 0.5 * 2 = 1.0. With 4 rounds, at round
// 1 its counter is the 2nd offer: tau = 1/2, ceiling = 1.0 + (1.25 - 1.0)/2 = 1.125.
func TestBudgetAware(t *testing.T) {
	s := NewBudgetAware()
	view := func(round int, z float64, budget float64) *Negotiation {
		return &Negotiation{Side: Buyer, Round: round, MaxRounds: 4, Reservation: 1.5, Opening: 0.5,
			Mine: []float64{1}, Theirs: []float64{z}, ValuePerHour: 2, Budget: budget, JobHours: 8}
	}
	if got := s.Cap(view(1, 0, 10)); got != 1.25 {
		t.Errorf("cap %v, want 1.25", got)
	}
	if got := s.Open(view(0, 0, 10)); got != 1 {
		t.Errorf("open %v, want 1", got)
	}
	wantDecision(t, "1.1 <= 1.125", s.Respond(view(1, 1.1, 10)), ActionAccept, 1.1)
	wantDecision(t, "1.2 > 1.125", s.Respond(view(1, 1.2, 10)), ActionCounter, 1.125)
	// Round 3: tau = 1 (the last offer), ceiling = cap 1.25; a buyer cannot counter then.
	wantDecision(t, "1.25 at the end", s.Respond(view(3, 1.25, 10)), ActionAccept, 1.25)
	wantDecision(t, "1.3 at the end", s.Respond(view(3, 1.3, 10)), ActionReject, 0)
	// Budget 2 over 8 hours: cap 0.25 is below the opening 0.5: it cannot afford any
	// price in its range, and walks away.
	wantDecision(t, "unaffordable", s.Respond(view(1, 0.3, 2)), ActionReject, 0)
	// Without value or job length, the cap is the reservation and the opening bid is
	// half of it: 0.75; at tau 1/2: 0.75 + 0.75/2 = 1.125.
	n := &Negotiation{Side: Buyer, Round: 1, MaxRounds: 4, Reservation: 1.5, Opening: 0.5, Theirs: []float64{2}}
	wantDecision(t, "no context", s.Respond(n), ActionCounter, 1.125)
	// On the provider side it refuses to play.
	wantDecision(t, "seller", s.Respond(seller(1, 2, nil, []float64{1.5})), ActionReject, 0)
	if err := (&BudgetAware{OpenFraction: 0}).Validate(); err == nil {
		t.Error("open fraction 0 accepted")
	}
}
