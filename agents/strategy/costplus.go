package strategy

import (
	"errors"
	"math"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// Cost is a provider's cost of running one job, from which its reservation price per
// hour follows. The environment fills it from the machine, its location's electricity
// price, the tick's gas price and the hardware catalog (specs/world.md).
type Cost struct {
	// PowerKW is the machine's power draw for the job, kW, >= 0.
	PowerKW float64
	// ElectricityPerKWh is the electricity price at the machine's location, USD per kWh;
	// finite, may be negative (negative-price hours).
	ElectricityPerKWh float64
	// GasPerDeal is the gas for one deal's transactions (collateral lock, attestations,
	// settlement), USD, >= 0.
	GasPerDeal float64
	// JobHours is the job's length, hours, > 0; the deal's gas is spread over it.
	JobHours float64
	// Capex is the hardware's purchase price, USD, >= 0.
	Capex float64
	// LifetimeHours is the hardware's amortization period, hours, > 0 when Capex > 0.
	LifetimeHours float64
}

// Validate checks the inputs.
func (c Cost) Validate() error {
	var errs []error
	nonNeg := func(path string, x float64) {
		if !(x >= 0) || math.IsInf(x, 0) {
			errs = append(errs, fieldpath.Errorf(path, "must be finite and non-negative, got %g", x))
		}
	}
	nonNeg("power_kw", c.PowerKW)
	if !finite(c.ElectricityPerKWh) {
		errs = append(errs, fieldpath.Errorf("electricity_per_kwh", "must be finite, got %g", c.ElectricityPerKWh))
	}
	nonNeg("gas_per_deal", c.GasPerDeal)
	if !(c.JobHours > 0) || math.IsInf(c.JobHours, 0) {
		errs = append(errs, fieldpath.Errorf("job_hours", "must be positive and finite, got %g", c.JobHours))
	}
	nonNeg("capex", c.Capex)
	if c.Capex > 0 && (!(c.LifetimeHours > 0) || math.IsInf(c.LifetimeHours, 0)) {
		errs = append(errs, fieldpath.Errorf("lifetime_hours", "must be positive and finite when capex is set, got %g", c.LifetimeHours))
	}
	return errors.Join(errs...)
}

// PerHour returns the cost per hour of job, USD:
//
//	PowerKW x ElectricityPerKWh + GasPerDeal / JobHours + Capex / LifetimeHours
//
// (electricity, the deal's gas amortized over the job, straight-line hardware
// depreciation), or the Validate error.
func (c Cost) PerHour() (float64, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	h := c.PowerKW*c.ElectricityPerKWh + c.GasPerDeal/c.JobHours
	if c.Capex > 0 {
		h += c.Capex / c.LifetimeHours
	}
	return h, nil
}

// CostPlus is a provider that prices at cost plus a margin, the textbook cost-plus rule:
// its reservation (Negotiation.Reservation, from Cost.PerHour) is its cost c, it asks
// c + Margin|c| (c(1+Margin) for c >= 0; the absolute value keeps the markup upward
// when negative electricity prices push c below 0), and accepts any price of at least
// c + MinMargin|c|, or at least its own ask. It does not concede: every counter repeats
// the ask, clamped to [Reservation, Opening] (set Opening at or above the ask to let the
// margin alone decide).
//
// It is a provider strategy: on a Buyer view it opens at Opening and rejects every offer.
type CostPlus struct {
	// Margin is the markup of the ask over cost, >= MinMargin. Default 0.2.
	Margin float64
	// MinMargin is the least markup accepted, >= 0. Default 0.05.
	MinMargin float64
}

// NewCostPlus returns a CostPlus with Margin 0.2 and MinMargin 0.05 (assumptions).
func NewCostPlus() *CostPlus { return &CostPlus{Margin: 0.2, MinMargin: 0.05} }

// Name returns "cost-plus".
func (*CostPlus) Name() string { return "cost-plus" }

// Validate checks the parameters.
func (s *CostPlus) Validate() error {
	var errs []error
	if !(s.MinMargin >= 0) || math.IsInf(s.MinMargin, 0) {
		errs = append(errs, fieldpath.Errorf("min_margin", "must be non-negative and finite, got %g", s.MinMargin))
	}
	if !(s.Margin >= s.MinMargin) || math.IsInf(s.Margin, 0) {
		errs = append(errs, fieldpath.Errorf("margin", "must be finite and at least min_margin %g, got %g", s.MinMargin, s.Margin))
	}
	return errors.Join(errs...)
}

func markup(cost, m float64) float64 { return cost + m*math.Abs(cost) }

// Open returns the ask, Reservation + Margin|Reservation|, clamped to the range.
func (s *CostPlus) Open(n *Negotiation) float64 {
	if n.Side != Seller {
		return n.Clamp(n.Opening)
	}
	return n.Clamp(markup(n.Reservation, s.Margin))
}

// Respond accepts a price of at least cost + MinMargin|cost| (or at least its ask) and
// otherwise repeats its ask.
func (s *CostPlus) Respond(n *Negotiation) Decision {
	z, ok := n.Incoming()
	if !ok {
		return Wait()
	}
	if n.Side != Seller {
		return Reject()
	}
	ask := s.Open(n)
	if (n.AtLeastAsGood(z, markup(n.Reservation, s.MinMargin)) || n.AtLeastAsGood(z, ask)) && n.acceptable(z) {
		return Accept(z)
	}
	return n.counterOrReject(ask)
}
