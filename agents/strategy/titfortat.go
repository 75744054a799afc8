package strategy

import (
	"errors"
	"math"
	"math/rand/v2"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// Imitation selects one of Faratin et al.'s imitative (behaviour-dependent) tactics.
type Imitation uint8

const (
	// Relative tit-for-tat imitates, proportionally, the opponent's concession delta
	// steps back.
	Relative Imitation = iota
	// RandomAbsolute tit-for-tat imitates the opponent's concession delta steps back in
	// absolute terms, plus a random concession in [0, M].
	RandomAbsolute
	// Averaged tit-for-tat imitates, proportionally, the opponent's concession over its
	// last gamma offers.
	Averaged
)

// maxWindow bounds Delta and Gamma (a thread has at most 2^15 offers in the scheme).
const maxWindow = 1 << 15

// TitForTat is the family of imitative tactics of Faratin, Sierra & Jennings ("Negotiation
// decision functions for autonomous agents", 1998, section 4.2.3). With the opponent's
// offers o_0 .. o_L (oldest first, o_L the incoming one) and its own last offer m:
//
//	Relative:        x = (o_{L-delta} / o_{L-delta+1}) m                 needs L >= delta
//	RandomAbsolute:  x = m + (o_{L-delta} - o_{L-delta+1}) + s U(0, M)    needs L >= delta
//	Averaged:        x = (o_{L-gamma} / o_L) m                             needs L >= gamma
//
// where s = +1 for a buyer and -1 for a seller (the paper's (-1)^s: the random term always
// concedes, to get the pair out of a deadlock). In the paper's interleaved numbering
// o_{L-delta} is x^{t_{n-2 delta}}_{b->a}. x is clamped to [Opening, Reservation]; with
// too short a history (or a non-positive denominator) the agent repeats its last offer.
// It accepts an incoming price at least as good as x (and within its reservation).
//
// Deviation: the paper's R(M) is a random integer in [0, M]; prices here are continuous,
// so U(0, M) is uniform on the reals. Imitation alone never starts a concession: two
// tit-for-tat agents (Relative or Averaged) facing each other hold their opening prices
// until the round limit, as in the paper, where imitative tactics follow a conceding
// opponent.
type TitForTat struct {
	// Kind is the imitative tactic.
	Kind Imitation
	// Delta is the imitation delay in opponent offers, >= 1 (Relative, RandomAbsolute).
	// Default 1: imitate the opponent's latest concession.
	Delta int
	// Gamma is the averaging window in opponent offers, >= 1 (Averaged). Default 2.
	// Gamma = 1 is Relative with Delta = 1.
	Gamma int
	// M bounds the random concession, USD per hour, >= 0 (RandomAbsolute). Default 0.02.
	M float64
	// Rand is the random source of RandomAbsolute, seeded by the caller; required for it.
	Rand *rand.Rand
}

// NewTitForTat returns a relative tit-for-tat (Delta 1).
func NewTitForTat() *TitForTat { return &TitForTat{Kind: Relative, Delta: 1, Gamma: 2, M: 0.02} }

// NewTitForTatRandom returns a random absolute tit-for-tat (Delta 1, M 0.02) drawing
// from r.
func NewTitForTatRandom(r *rand.Rand) *TitForTat {
	return &TitForTat{Kind: RandomAbsolute, Delta: 1, Gamma: 2, M: 0.02, Rand: r}
}

// NewTitForTatAvg returns an averaged tit-for-tat (Gamma 2).
func NewTitForTatAvg() *TitForTat { return &TitForTat{Kind: Averaged, Delta: 1, Gamma: 2, M: 0.02} }

// Name returns "tit-for-tat", "tit-for-tat-random" or "tit-for-tat-avg".
func (s *TitForTat) Name() string {
	switch s.Kind {
	case RandomAbsolute:
		return "tit-for-tat-random"
	case Averaged:
		return "tit-for-tat-avg"
	}
	return "tit-for-tat"
}

// Validate checks the parameters the strategy's Kind uses.
func (s *TitForTat) Validate() error {
	var errs []error
	switch s.Kind {
	case Relative, RandomAbsolute:
		if s.Delta < 1 || s.Delta > maxWindow {
			errs = append(errs, fieldpath.Errorf("delta", "must be in [1, %d], got %d", maxWindow, s.Delta))
		}
	case Averaged:
		if s.Gamma < 1 || s.Gamma > maxWindow {
			errs = append(errs, fieldpath.Errorf("gamma", "must be in [1, %d], got %d", maxWindow, s.Gamma))
		}
	default:
		errs = append(errs, fieldpath.Errorf("kind", "unknown imitation %d", s.Kind))
	}
	if s.Kind == RandomAbsolute {
		if !(s.M >= 0) || math.IsInf(s.M, 0) {
			errs = append(errs, fieldpath.Errorf("m", "must be non-negative and finite, got %g", s.M))
		}
		if s.Rand == nil {
			errs = append(errs, fieldpath.Errorf("rand", "a seeded *rand.Rand is required"))
		}
	}
	return errors.Join(errs...)
}

// Open returns the opening price.
func (s *TitForTat) Open(n *Negotiation) float64 { return n.Clamp(n.Opening) }

// next returns the imitative counter-offer, unclamped.
func (s *TitForTat) next(n *Negotiation) float64 {
	m := n.LastMine()
	o := n.Theirs
	last := len(o) - 1
	switch s.Kind {
	case Relative:
		if last < s.Delta {
			return m
		}
		num, den := o[last-s.Delta], o[last-s.Delta+1]
		if !(den > 0) {
			return m
		}
		return num / den * m
	case RandomAbsolute:
		if last < s.Delta {
			return m
		}
		x := m + (o[last-s.Delta] - o[last-s.Delta+1])
		r := s.M * s.Rand.Float64()
		if n.Side == Seller {
			return x - r
		}
		return x + r
	case Averaged:
		if last < s.Gamma {
			return m
		}
		num, den := o[last-s.Gamma], o[last]
		if !(den > 0) {
			return m
		}
		return num / den * m
	}
	return m
}

// Respond imitates the opponent's concession (see the type's documentation) and accepts
// an incoming price at least as good as its own next offer.
func (s *TitForTat) Respond(n *Negotiation) Decision {
	z, ok := n.Incoming()
	if !ok {
		return Wait()
	}
	x := n.Clamp(s.next(n))
	if n.AtLeastAsGood(z, x) && n.acceptable(z) {
		return Accept(z)
	}
	return n.counterOrReject(x)
}
