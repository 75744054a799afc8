package strategy

import (
	"errors"
	"math"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// KalmanValuation estimates the market price with a one-dimensional Kalman filter and
// bargains around the estimate. It follows CoopHive's Kalman agent (Apiary,
// apiary/shared.py): gain K = P/(P+R), estimate x <- x + K(z - x), variance
// P <- (1-K)P on every measured price z; a buyer accepts an incoming price
// z <= x + Tolerance, a seller z >= x - Tolerance (CoopHive's seller uses no tolerance),
// and otherwise it counters at the updated estimate. Two additions: a random-walk process
// noise Q (predict step P <- P + Q before each update, so the filter keeps tracking a
// moving market instead of freezing as P -> 0), and the reservation (an accepted price is
// always within it; the counter is clamped to [Opening, Reservation]).
//
// The filter's state is shared by all the agent's threads and changes only through
// Observe (OfferSeen for every incoming offer, after Respond decided on it, and DealClosed
// for every deal); NoDeal leaves it unchanged. Respond computes the update it would make
// for the incoming price without committing it, so calling Respond and then
// Observe(OfferSeen, z) reproduces CoopHive's agent exactly.
type KalmanValuation struct {
	// Prior is the initial price estimate x0, USD per hour. Default 1.0: a mid-range GPU
	// hour in specs/world.md's rent table (0.18-4.92 USD); an assumption, the environment
	// should set it from the agent's context.
	Prior float64
	// PriorVar is the initial variance P0, (USD/h)^2, positive. Default 1.0 (a 1 USD/h
	// standard deviation: the prior barely binds).
	PriorVar float64
	// ProcessNoise is Q, the variance added per measurement, (USD/h)^2, non-negative.
	// Default 1e-4 (the price drifts by about 1 cent an hour per observation).
	ProcessNoise float64
	// MeasurementNoise is R, the variance of one observed price around the market price,
	// (USD/h)^2, positive. Default 0.04 (offers scatter by about 20 cents an hour).
	MeasurementNoise float64
	// Tolerance is the slack, USD per hour, non-negative, within which an incoming price
	// worse than the estimate is still accepted. Default 0.01. (CoopHive's
	// ABSOLUTE_TOLERANCE defaults to 0.)
	Tolerance float64

	x, p    float64
	started bool
}

// NewKalmanValuation returns a KalmanValuation with the default parameters.
func NewKalmanValuation() *KalmanValuation {
	return &KalmanValuation{Prior: 1.0, PriorVar: 1.0, ProcessNoise: 1e-4, MeasurementNoise: 0.04, Tolerance: 0.01}
}

// Name returns "kalman".
func (*KalmanValuation) Name() string { return "kalman" }

// Validate checks the parameters.
func (k *KalmanValuation) Validate() error {
	var errs []error
	if !finite(k.Prior) {
		errs = append(errs, fieldpath.Errorf("prior", "must be finite, got %g", k.Prior))
	}
	if !(k.PriorVar > 0) || math.IsInf(k.PriorVar, 0) {
		errs = append(errs, fieldpath.Errorf("prior_var", "must be positive and finite, got %g", k.PriorVar))
	}
	if !(k.ProcessNoise >= 0) || math.IsInf(k.ProcessNoise, 0) {
		errs = append(errs, fieldpath.Errorf("q", "must be non-negative and finite, got %g", k.ProcessNoise))
	}
	if !(k.MeasurementNoise > 0) || math.IsInf(k.MeasurementNoise, 0) {
		errs = append(errs, fieldpath.Errorf("r", "must be positive and finite, got %g", k.MeasurementNoise))
	}
	if !(k.Tolerance >= 0) || math.IsInf(k.Tolerance, 0) {
		errs = append(errs, fieldpath.Errorf("tolerance", "must be non-negative and finite, got %g", k.Tolerance))
	}
	return errors.Join(errs...)
}

// Estimate returns the current price estimate and its variance (the prior before any
// observation).
func (k *KalmanValuation) Estimate() (mean, variance float64) {
	if !k.started {
		return k.Prior, k.PriorVar
	}
	return k.x, k.p
}

// Reset forgets every observation: the estimate returns to the prior.
func (k *KalmanValuation) Reset() { k.x, k.p, k.started = 0, 0, false }

// update returns the filter state after measuring z from state (x, p): predict
// P- = P + Q, gain K = P-/(P- + R), x+ = x + K(z - x), P+ = (1 - K)P-.
func (k *KalmanValuation) update(x, p, z float64) (xn, pn, gain float64) {
	pm := p + k.ProcessNoise
	gain = pm / (pm + k.MeasurementNoise)
	return x + gain*(z-x), (1 - gain) * pm, gain
}

// Observe feeds a seen price or a closed deal to the filter; NoDeal and non-finite prices
// are ignored.
func (k *KalmanValuation) Observe(o Outcome) {
	if (o.Event != OfferSeen && o.Event != DealClosed) || !finite(o.Price) {
		return
	}
	x, p := k.Estimate()
	k.x, k.p, _ = k.update(x, p, o.Price)
	k.started = true
}

// Open returns the current estimate clamped to the agent's range.
func (k *KalmanValuation) Open(n *Negotiation) float64 {
	x, _ := k.Estimate()
	return n.Clamp(x)
}

// Respond accepts an incoming price within Tolerance of the estimate (on the agent's
// side of it) and within the reservation; otherwise it counters at the estimate updated
// with the incoming price, clamped to [Opening, Reservation]. The state is not changed.
func (k *KalmanValuation) Respond(n *Negotiation) Decision {
	z, ok := n.Incoming()
	if !ok {
		return Wait()
	}
	x, p := k.Estimate()
	good := z <= x+k.Tolerance
	if n.Side == Seller {
		good = z >= x-k.Tolerance
	}
	if good && n.acceptable(z) {
		return Accept(z)
	}
	if !finite(z) {
		return n.counterOrReject(x)
	}
	xn, _, _ := k.update(x, p, z)
	return n.counterOrReject(xn)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
