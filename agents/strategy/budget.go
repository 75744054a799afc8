package strategy

import (
	"errors"
	"math"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// BudgetAware is a client that bids low and concedes linearly toward what it can afford.
// Its cap is min(ValuePerHour, Budget/JobHours, Reservation), each term used when known
// (ValuePerHour > 0, JobHours > 0). It opens at OpenFraction x ValuePerHour (x cap when
// the value is unknown) and at progress tau (Negotiation.Progress: rounds, or the deadline
// if that binds first) its ceiling is
//
//	open + tau (cap - open)
//
// clamped to [Opening, Reservation]. It accepts offers at or below the ceiling and
// otherwise counters at it. When even its opening is above the cap (the budget cannot pay
// for the job at any price in its range) it rejects. A hivegym baseline, not from a paper.
//
// It is a client strategy: on a Seller view it opens at Opening and rejects every offer.
type BudgetAware struct {
	// OpenFraction is the opening bid as a fraction of the value per hour, in (0, 1].
	// Default 0.5.
	OpenFraction float64
}

// NewBudgetAware returns a BudgetAware with OpenFraction 0.5 (an assumption).
func NewBudgetAware() *BudgetAware { return &BudgetAware{OpenFraction: 0.5} }

// Name returns "budget".
func (*BudgetAware) Name() string { return "budget" }

// Validate checks the parameters.
func (s *BudgetAware) Validate() error {
	if !(s.OpenFraction > 0 && s.OpenFraction <= 1) {
		return errors.Join(fieldpath.Errorf("open_fraction", "must be in (0, 1], got %g", s.OpenFraction))
	}
	return nil
}

// Cap returns min(ValuePerHour, Budget/JobHours, Reservation) over the known terms.
func (s *BudgetAware) Cap(n *Negotiation) float64 {
	c := n.Reservation
	if n.ValuePerHour > 0 {
		c = math.Min(c, n.ValuePerHour)
	}
	if n.JobHours > 0 {
		c = math.Min(c, n.Budget/n.JobHours)
	}
	return c
}

// ceiling returns the agent's price at progress tau, clamped, and its cap.
func (s *BudgetAware) ceiling(n *Negotiation, tau float64) (price, limit float64) {
	limit = s.Cap(n)
	v := n.ValuePerHour
	if !(v > 0) {
		v = limit
	}
	open := math.Min(s.OpenFraction*v, limit)
	return n.Clamp(open + tau*(limit-open)), limit
}

// Open returns the opening bid, OpenFraction x ValuePerHour, clamped.
func (s *BudgetAware) Open(n *Negotiation) float64 {
	if n.Side == Seller {
		return n.Clamp(n.Opening)
	}
	p, _ := s.ceiling(n, 0)
	return p
}

// Respond accepts an offer at or below the current ceiling and otherwise counters at it.
func (s *BudgetAware) Respond(n *Negotiation) Decision {
	z, ok := n.Incoming()
	if !ok {
		return Wait()
	}
	if n.Side == Seller {
		return Reject()
	}
	c, limit := s.ceiling(n, n.Progress())
	if !(c <= limit) {
		return Reject() // cannot afford any price in its range
	}
	if z <= c && n.acceptable(z) {
		return Accept(z)
	}
	return n.counterOrReject(c)
}
