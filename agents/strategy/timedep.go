package strategy

import (
	"errors"
	"math"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// Family selects the shape of a time-dependent concession curve alpha(t).
type Family uint8

const (
	// Polynomial is alpha(t) = k + (1-k) (t/t_max)^(1/beta).
	Polynomial Family = iota
	// Exponential is alpha(t) = exp((1 - t/t_max)^beta ln k) = k^((1 - t/t_max)^beta).
	Exponential
)

// PolyAlpha is Faratin, Sierra & Jennings' (1998, section 4.2.1) polynomial decision
// function alpha(t) = k + (1-k) (min(t, t_max)/t_max)^(1/beta), with tau = t/t_max
// clamped to [0, 1]: alpha(0) = k, alpha(t_max) = 1.
func PolyAlpha(k, beta, tau float64) float64 {
	tau = clamp01(tau)
	return k + (1-k)*math.Pow(tau, 1/beta)
}

// ExpAlpha is Faratin, Sierra & Jennings' (1998, section 4.2.1) exponential decision
// function alpha(t) = e^((1 - min(t, t_max)/t_max)^beta ln k), with tau = t/t_max
// clamped to [0, 1]. It equals k^((1-tau)^beta), the form in the hivegym issue; it is
// computed as a power so that k = 0 gives 0 for tau < 1 and 1 at tau = 1 instead of NaN.
func ExpAlpha(k, beta, tau float64) float64 {
	tau = clamp01(tau)
	return math.Pow(k, math.Pow(1-tau, beta))
}

func clamp01(x float64) float64 {
	switch {
	case x > 1:
		return 1
	case x > 0:
		return x
	}
	return 0 // also NaN
}

// TimeDependent is Faratin, Sierra & Jennings' time-dependent tactic ("Negotiation
// decision functions for autonomous agents", Robotics and Autonomous Systems 24, 1998,
// section 4.2.1). At progress tau = t/t_max (Negotiation.Progress) it offers
//
//	x(tau) = Opening + alpha(tau) (Reservation - Opening)
//
// which is min + alpha(max - min) for a buyer and max - alpha(max - min) for a seller,
// [min, max] being its price range. Beta < 1 is Boulware (holds its price and concedes
// near the deadline), beta > 1 is Conceder (concedes early), beta = 1 is linear for the
// polynomial family. It accepts an incoming price that is at least as good as the offer
// it would counter with now (and within its reservation).
type TimeDependent struct {
	// Family is Polynomial (default) or Exponential.
	Family Family
	// K is kappa in [0, 1]: the fraction of the range conceded in the opening offer.
	// Default 0 (open at Opening). The exponential family needs K > 0 (ln k).
	K float64
	// Beta is the concession exponent, positive. Presets: boulware 0.2, conceder 5.
	Beta float64

	name string
}

// NewBoulware returns the "boulware" preset: polynomial, K = 0, Beta = 0.2.
func NewBoulware() *TimeDependent {
	return &TimeDependent{Family: Polynomial, K: 0, Beta: 0.2, name: "boulware"}
}

// NewConceder returns the "conceder" preset: polynomial, K = 0, Beta = 5.
func NewConceder() *TimeDependent {
	return &TimeDependent{Family: Polynomial, K: 0, Beta: 5, name: "conceder"}
}

// Name returns the registry name it was made under, or "time-dependent".
func (s *TimeDependent) Name() string {
	if s.name == "" {
		return "time-dependent"
	}
	return s.name
}

// Validate checks the parameters.
func (s *TimeDependent) Validate() error {
	var errs []error
	if s.Family != Polynomial && s.Family != Exponential {
		errs = append(errs, fieldpath.Errorf("exponential", "unknown family %d", s.Family))
	}
	if !(s.K >= 0 && s.K <= 1) {
		errs = append(errs, fieldpath.Errorf("kappa", "must be in [0, 1], got %g", s.K))
	}
	if s.Family == Exponential && s.K == 0 {
		errs = append(errs, fieldpath.Errorf("kappa", "must be positive for the exponential family (ln kappa)"))
	}
	if !(s.Beta > 0) || math.IsInf(s.Beta, 0) {
		errs = append(errs, fieldpath.Errorf("beta", "must be positive and finite, got %g", s.Beta))
	}
	return errors.Join(errs...)
}

// Alpha returns alpha(tau) for the strategy's family and parameters.
func (s *TimeDependent) Alpha(tau float64) float64 {
	if s.Family == Exponential {
		return ExpAlpha(s.K, s.Beta, tau)
	}
	return PolyAlpha(s.K, s.Beta, tau)
}

// OfferAt returns the offer at progress tau, clamped to the agent's range.
func (s *TimeDependent) OfferAt(n *Negotiation, tau float64) float64 {
	return n.Clamp(n.Opening + s.Alpha(tau)*(n.Reservation-n.Opening))
}

// Open returns the offer at tau = 0: Opening + K (Reservation - Opening).
func (s *TimeDependent) Open(n *Negotiation) float64 { return s.OfferAt(n, 0) }

// Respond accepts an incoming price at least as good as x(Progress()), else counters
// with it.
func (s *TimeDependent) Respond(n *Negotiation) Decision {
	z, ok := n.Incoming()
	if !ok {
		return Wait()
	}
	x := s.OfferAt(n, n.Progress())
	if n.AtLeastAsGood(z, x) && n.acceptable(z) {
		return Accept(z)
	}
	return n.counterOrReject(x)
}
