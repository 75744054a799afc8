package strategy

import (
	"errors"
	"math/rand/v2"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// RandomLegal is the cost-aware random baseline: at each decision it picks uniformly among
// the legal, loss-free actions: Accept (only when the incoming price is within its
// reservation and agreeing is still possible), Counter (only when a counter can still
// lead to a deal; the price uniform on [Opening, Reservation]) and Reject. It opens at a
// uniform price in the same range. The baseline a learned policy must beat.
type RandomLegal struct {
	// Rand is the random source, seeded by the caller; required.
	Rand *rand.Rand
}

// NewRandomLegal returns a RandomLegal drawing from r.
func NewRandomLegal(r *rand.Rand) *RandomLegal { return &RandomLegal{Rand: r} }

// Name returns "random".
func (*RandomLegal) Name() string { return "random" }

// Validate checks that a random source is set.
func (s *RandomLegal) Validate() error {
	if s.Rand == nil {
		return errors.Join(fieldpath.Errorf("rand", "a seeded *rand.Rand is required"))
	}
	return nil
}

func (s *RandomLegal) price(n *Negotiation) float64 {
	lo, hi := n.Bounds()
	return n.Clamp(lo + s.Rand.Float64()*(hi-lo))
}

// Open returns a uniform price in [Opening, Reservation].
func (s *RandomLegal) Open(n *Negotiation) float64 { return s.price(n) }

// Respond picks uniformly among the legal actions (Reject is always legal).
func (s *RandomLegal) Respond(n *Negotiation) Decision {
	z, ok := n.Incoming()
	if !ok {
		return Wait()
	}
	var legal [3]Action
	k := 0
	if n.acceptable(z) {
		legal[k] = ActionAccept
		k++
	}
	if n.CanCounter() {
		legal[k] = ActionCounter
		k++
	}
	legal[k] = ActionReject
	k++
	switch legal[s.Rand.IntN(k)] {
	case ActionAccept:
		return Accept(z)
	case ActionCounter:
		return Counter(s.price(n))
	}
	return Reject()
}
