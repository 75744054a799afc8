package strategy

import (
	"math"
	"strings"
	"testing"
)

// TestKalmanSequence checks the filter on three observations against hand arithmetic.
// Prior x0 = 1, P0 = 1, Q = 0.25, R = 0.5:
//
//	z1 = 2:   P- = 1 + 0.25 = 5/4,         K1 = (5/4)/(5/4 + 1/2) = 5/7
//	          x1 = 1 + 5/7 (2 - 1) = 12/7,  P1 = (1 - 5/7) 5/4 = 5/14
//	z2 = 1:   P- = 5/14 + 1/4 = 17/28,     K2 = (17/28)/(17/28 + 14/28) = 17/31
//	          x2 = 12/7 + 17/31 (1 - 12/7) = 12/7 - 85/217 = 287/217 = 41/31
//	          P2 = (14/31)(17/28) = 17/62
//	z3 = 1.5: P- = 17/62 + 1/4 = 65/124,   K3 = (65/124)/(65/124 + 62/124) = 65/127
//	          x3 = 41/31 + 65/127 (3/2 - 41/31) = 41/31 + 65/127 * 11/62 = 5564.5/3937
//	          P3 = (62/127)(65/124) = 65/254
func TestKalmanSequence(t *testing.T) {
	k := &KalmanValuation{Prior: 1, PriorVar: 1, ProcessNoise: 0.25, MeasurementNoise: 0.5, Tolerance: 0}
	steps := []struct{ z, gain, x, p float64 }{
		{2, 5.0 / 7, 12.0 / 7, 5.0 / 14},
		{1, 17.0 / 31, 41.0 / 31, 17.0 / 62},
		{1.5, 65.0 / 127, 5564.5 / 3937, 65.0 / 254},
	}
	for i, s := range steps {
		x0, p0 := k.Estimate()
		_, _, gain := k.update(x0, p0, s.z)
		if !near(gain, s.gain, tol) {
			t.Errorf("step %d: gain %v, want %v", i+1, gain, s.gain)
		}
		k.Observe(Outcome{Event: OfferSeen, Price: s.z})
		x, p := k.Estimate()
		if !near(x, s.x, tol) || !near(p, s.p, tol) {
			t.Errorf("step %d: estimate (%v, %v), want (%v, %v)", i+1, x, p, s.x, s.p)
		}
	}
	// A deal is a measurement too; NoDeal and non-finite prices are ignored.
	x3, p3 := k.Estimate()
	k.Observe(Outcome{Event: NoDeal, Price: 100})
	k.Observe(Outcome{Event: OfferSeen, Price: math.NaN()})
	if x, p := k.Estimate(); x != x3 || p != p3 {
		t.Errorf("NoDeal or NaN moved the estimate to (%v, %v)", x, p)
	}
	k.Observe(Outcome{Event: DealClosed, Price: 2})
	if x, _ := k.Estimate(); !(x > x3) {
		t.Errorf("a deal at 2 did not raise the estimate from %v", x3)
	}
	k.Reset()
	if x, p := k.Estimate(); x != 1 || p != 1 {
		t.Errorf("after Reset: (%v, %v), want the prior (1, 1)", x, p)
	}
}

// TestKalmanRespond: prior x = 1, P = 1, Q = 0, R = 1, tolerance 0.1; one incoming price
// z gives gain 1/2 and counter x + (z - x)/2.
func TestKalmanRespond(t *testing.T) {
	k := &KalmanValuation{Prior: 1, PriorVar: 1, ProcessNoise: 0, MeasurementNoise: 1, Tolerance: 0.1}
	// Buyer, reservation 2, opening 0.5.
	wantDecision(t, "buyer z=1.05 <= 1+0.1", k.Respond(buyer(2, 0.5, []float64{0.5}, []float64{1.05})), ActionAccept, 1.05)
	wantDecision(t, "buyer z=1.6", k.Respond(buyer(2, 0.5, []float64{0.5}, []float64{1.6})), ActionCounter, 1.3)   // 1 + 0.6/2
	wantDecision(t, "buyer z=5 clamped", k.Respond(buyer(2, 0.5, []float64{0.5}, []float64{5})), ActionCounter, 2) // 3 -> reservation 2
	// Within tolerance of the estimate but beyond the reservation: never accepted.
	wantDecision(t, "buyer beyond reservation", k.Respond(buyer(0.9, 0.5, []float64{0.5}, []float64{1.05})), ActionCounter, 0.9)
	// Seller, reservation 0.5, opening 3.
	wantDecision(t, "seller z=0.95 >= 1-0.1", k.Respond(seller(0.5, 3, nil, []float64{0.95})), ActionAccept, 0.95)
	wantDecision(t, "seller z=0.6", k.Respond(seller(0.5, 3, nil, []float64{0.6})), ActionCounter, 0.8) // 1 - 0.4/2
	wantDecision(t, "seller z=0.1 clamped", k.Respond(seller(0.9, 3, nil, []float64{0.1})), ActionCounter, 0.9)
	// Respond does not commit the update.
	if x, p := k.Estimate(); x != 1 || p != 1 {
		t.Errorf("Respond changed the estimate to (%v, %v)", x, p)
	}
	if got := k.Open(buyer(2, 0.5, nil, nil)); got != 1 {
		t.Errorf("Open = %v, want the estimate 1", got)
	}
	if got := k.Open(buyer(2, 1.5, nil, nil)); got != 1.5 {
		t.Errorf("Open = %v, want the estimate clamped to the opening 1.5", got)
	}
}

// TestKalmanMatchesCoopHive: CoopHive's buyer (Q = 0) keeps its estimate when it accepts
// and otherwise updates and counters at the new estimate; Respond-then-Observe does the
// same.
func TestKalmanMatchesCoopHive(t *testing.T) {
	k := &KalmanValuation{Prior: 300, PriorVar: 10, ProcessNoise: 0, MeasurementNoise: 10, Tolerance: 0}
	// CoopHive defaults VALUATION_ESTIMATION 300, VALUATION_VARIANCE 10; with measurement
	// variance 10 the first gain is 1/2: z = 340 -> counter 320, variance 5; then gain
	// 5/15 = 1/3: z = 350 -> counter 320 + 30/3 = 330.
	n := buyer(1000, 0, []float64{280}, []float64{340})
	wantDecision(t, "first", k.Respond(n), ActionCounter, 320)
	k.Observe(Outcome{Event: OfferSeen, Price: 340})
	n = buyer(1000, 0, []float64{280, 320}, []float64{340, 350})
	wantDecision(t, "second", k.Respond(n), ActionCounter, 330)
	k.Observe(Outcome{Event: OfferSeen, Price: 350})
	n = buyer(1000, 0, []float64{280, 320, 330}, []float64{340, 350, 330})
	wantDecision(t, "third", k.Respond(n), ActionAccept, 330)
}

func TestKalmanValidate(t *testing.T) {
	if err := NewKalmanValuation().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	k := &KalmanValuation{Prior: 1, PriorVar: 0, ProcessNoise: -1, MeasurementNoise: 0, Tolerance: -1}
	err := k.Validate()
	if err == nil {
		t.Fatal("bad parameters accepted")
	}
	for _, want := range []string{"prior_var:", "q:", "r:", "tolerance:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
