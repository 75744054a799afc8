package strategy

import (
	"math"
	"strings"
	"testing"
)

// TestCostPerHour: an H100 (0.7 kW) at 0.10 USD/kWh, 0.004 USD of gas for a 2-hour job,
// 30000 USD of hardware over 5 years (43800 hours):
//
//	0.7 * 0.10 + 0.004/2 + 30000/43800 = 0.07 + 0.002 + 0.684931506849315 = 0.756931506849315
func TestCostPerHour(t *testing.T) {
	c := Cost{PowerKW: 0.7, ElectricityPerKWh: 0.10, GasPerDeal: 0.004, JobHours: 2, Capex: 30000, LifetimeHours: 43800}
	got, err := c.PerHour()
	if err != nil {
		t.Fatal(err)
	}
	if !near(got, 0.756931506849315, 1e-14) {
		t.Errorf("PerHour = %.15f, want 0.756931506849315", got)
	}
	// Negative electricity prices are allowed; no hardware means no amortization term:
	// 0.5 * -0.02 + 0.01/4 = -0.01 + 0.0025 = -0.0075.
	c = Cost{PowerKW: 0.5, ElectricityPerKWh: -0.02, GasPerDeal: 0.01, JobHours: 4}
	if got, err := c.PerHour(); err != nil || !near(got, -0.0075, 1e-15) {
		t.Errorf("PerHour = %v, %v; want -0.0075", got, err)
	}
	bad := Cost{PowerKW: -1, ElectricityPerKWh: math.NaN(), GasPerDeal: -1, JobHours: 0, Capex: 10, LifetimeHours: 0}
	_, err = bad.PerHour()
	for _, want := range []string{"power_kw:", "electricity_per_kwh:", "gas_per_deal:", "job_hours:", "lifetime_hours:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// TestCostPlus: cost 0.756931506849315 (above), margin 0.2, min margin 0.05:
//
//	ask    = 0.756931506849315 * 1.2  = 0.908317808219178
//	accept >= 0.756931506849315 * 1.05 = 0.794778082191781
func TestCostPlus(t *testing.T) {
	const cost = 0.756931506849315
	s := NewCostPlus()
	n := func(z float64) *Negotiation { return seller(cost, 10, nil, []float64{z}) }
	if got := s.Open(n(0)); !near(got, 0.908317808219178, 1e-14) {
		t.Errorf("ask %.15f, want 0.908317808219178", got)
	}
	wantDecision(t, "0.80 >= min", s.Respond(n(0.80)), ActionAccept, 0.80)
	wantDecision(t, "0.7948 >= min", s.Respond(n(0.7948)), ActionAccept, 0.7948)
	wantDecision(t, "0.7947 < min", s.Respond(n(0.7947)), ActionCounter, 0.908317808219178)
	wantDecision(t, "0.5", s.Respond(n(0.5)), ActionCounter, 0.908317808219178)
	// The ask is held within [cost, opening]: opening 0.85 caps it.
	m := seller(cost, 0.85, nil, []float64{0.6})
	wantDecision(t, "capped ask", s.Respond(m), ActionCounter, 0.85)
	// Min margin 0.5 puts the acceptance threshold (1.5) above the ask capped by the
	// opening (1.2): it still accepts its own ask.
	s2 := &CostPlus{Margin: 0.5, MinMargin: 0.5}
	wantDecision(t, "own ask", s2.Respond(seller(1, 1.2, nil, []float64{1.2})), ActionAccept, 1.2)
	// Negative cost -0.1: ask -0.1 + 0.2 * 0.1 = -0.08, above the cost.
	if got := s.Open(seller(-0.1, 1, nil, nil)); !near(got, -0.08, 1e-15) {
		t.Errorf("ask on negative cost = %v, want -0.08", got)
	}
	// On the client side it refuses to play.
	wantDecision(t, "buyer", s.Respond(buyer(2, 1, []float64{1}, []float64{1.5})), ActionReject, 0)
	if err := (&CostPlus{Margin: 0.01, MinMargin: 0.05}).Validate(); err == nil {
		t.Error("margin below min margin accepted")
	}
}
