package strategy

import "testing"

func TestNaiveAccepter(t *testing.T) {
	s := &NaiveAccepter{}
	// Buyer, reservation 2: anything at or below 2 is accepted, above it countered at 2.
	wantDecision(t, "buyer 1.5", s.Respond(buyer(2, 1, []float64{1}, []float64{1.5})), ActionAccept, 1.5)
	wantDecision(t, "buyer 2", s.Respond(buyer(2, 1, []float64{1}, []float64{2})), ActionAccept, 2)
	wantDecision(t, "buyer 2.5", s.Respond(buyer(2, 1, []float64{1}, []float64{2.5})), ActionCounter, 2)
	// Seller, reservation (cost) 1.
	wantDecision(t, "seller 1.2", s.Respond(seller(1, 2, nil, []float64{1.2})), ActionAccept, 1.2)
	wantDecision(t, "seller 0.8", s.Respond(seller(1, 2, nil, []float64{0.8})), ActionCounter, 1)
	// No round left for a buyer's counter: reject.
	n := buyer(2, 1, []float64{1}, []float64{2.5})
	n.Round, n.MaxRounds = 7, 8
	wantDecision(t, "buyer last round", s.Respond(n), ActionReject, 0)
	// Nothing to answer.
	wantDecision(t, "no offer", s.Respond(buyer(2, 1, []float64{1}, nil)), ActionWait, 0)
	if got := s.Open(buyer(2, 1, nil, nil)); got != 2 {
		t.Errorf("Open = %v, want the reservation 2", got)
	}
}

func TestNaiveRejecter(t *testing.T) {
	s := &NaiveRejecter{}
	wantDecision(t, "great offer", s.Respond(buyer(2, 1, []float64{1}, []float64{0.1})), ActionReject, 0)
	wantDecision(t, "seller", s.Respond(seller(1, 2, nil, []float64{5})), ActionReject, 0)
	wantDecision(t, "no offer", s.Respond(buyer(2, 1, nil, nil)), ActionWait, 0)
	if got := s.Open(seller(1, 2, nil, nil)); got != 2 {
		t.Errorf("Open = %v, want the opening 2", got)
	}
}
