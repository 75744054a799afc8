package strategy

import (
	"errors"
	"fmt"
	"math"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// Side is the role of the agent in a negotiation thread.
type Side uint8

const (
	// Buyer is the client: it requests, counters and accepts; it prefers low prices.
	Buyer Side = iota + 1
	// Seller is the provider: it offers and counters; it prefers high prices.
	Seller
)

// String returns "buyer", "seller" or "side(N)".
func (s Side) String() string {
	switch s {
	case Buyer:
		return "buyer"
	case Seller:
		return "seller"
	}
	return fmt.Sprintf("side(%d)", uint8(s))
}

// Negotiation is what a strategy sees of one negotiation thread, from its own side.
// Prices are USD per hour of job (float64); the environment converts to and from the
// ledger's integer base units.
//
// The caller owns the view and its slices and reuses them between calls: strategies read
// it and never keep a reference to it or to its slices, and never write to it.
type Negotiation struct {
	// Side is the agent's role: Buyer (client) or Seller (provider).
	Side Side

	// Round is the number of offers made so far in the thread, both sides counted, the
	// client's request not counted (scheme.Thread.Rounds). MaxRounds is the scheme's
	// max_rounds; 0 means unbounded.
	Round, MaxRounds int

	// Tick is the time since the thread opened and Deadline the time from the thread's
	// opening to its offer deadline, both in ticks (Faratin et al.'s t and t_max);
	// Deadline 0 means no deadline. The caller subtracts the opening tick.
	Tick, Deadline int64

	// Reservation is the worst price the agent will agree to. For a Seller it is its
	// cost per hour (electricity + gas + amortized hardware, see Cost); for a Buyer the
	// most it will pay per hour (from the job's value and its budget).
	Reservation float64

	// Opening is the agent's most favourable price: the lowest a Buyer bids, the highest
	// a Seller asks. Every strategy keeps its offers in the closed interval between
	// Opening and Reservation (see Clamp).
	Opening float64

	// Mine and Theirs are the offers made so far by this agent and by the other side,
	// oldest first. A client's request price is its first offer. The last element of
	// Theirs is the incoming offer (see Incoming).
	Mine, Theirs []float64

	// Client context, read by BudgetAware only; zero when unknown. ValuePerHour is the
	// job's value to the client per hour of job, Budget the client's remaining budget
	// (USD) and JobHours the job's length in hours.
	ValuePerHour, Budget, JobHours float64
}

// Incoming returns the latest offer from the other side, and false if it has made none.
func (n *Negotiation) Incoming() (price float64, ok bool) {
	if len(n.Theirs) == 0 {
		return 0, false
	}
	return n.Theirs[len(n.Theirs)-1], true
}

// LastMine returns the agent's own latest offer, or Opening clamped to the agent's range
// when it has made none.
func (n *Negotiation) LastMine() float64 {
	if len(n.Mine) == 0 {
		return n.Clamp(n.Opening)
	}
	return n.Mine[len(n.Mine)-1]
}

// Progress is the fraction in [0, 1] of the negotiation used up once the agent's next
// offer is sent: the larger of Tick/Deadline and (Round+1)/MaxRounds, ignoring a bound
// that is 0. The offer that uses the last round is made at progress 1, and so is every
// decision after it. With neither bound set, progress is 0 (no time pressure).
//
// Time-dependent tactics use it as Faratin et al.'s t/t_max; the round term is there
// because the scheme ends a thread at max_rounds as surely as at its deadline (NegMAS's
// relative time takes the same maximum).
func (n *Negotiation) Progress() float64 {
	p := 0.0
	if n.MaxRounds > 0 {
		p = float64(n.Round+1) / float64(n.MaxRounds)
	}
	if n.Deadline > 0 {
		if q := float64(n.Tick) / float64(n.Deadline); q > p {
			p = q
		}
	}
	switch {
	case p < 0 || p != p:
		return 0
	case p > 1:
		return 1
	}
	return p
}

func (n *Negotiation) pastDeadline() bool { return n.Deadline > 0 && n.Tick >= n.Deadline }

// CanCounter reports whether a counter-offer sent now can still lead to a deal under the
// compute-marketplace scheme: the offer deadline has not passed and, with a round limit,
// a Seller's offer still fits (Round < MaxRounds) while a Buyer's counter must leave one
// round for the provider's answering offer, since only the client accepts and only a
// provider's offer (Round+1 < MaxRounds). When it is false a strategy accepts or rejects.
func (n *Negotiation) CanCounter() bool {
	if n.pastDeadline() {
		return false
	}
	if n.MaxRounds <= 0 {
		return true
	}
	if n.Side == Seller {
		return n.Round < n.MaxRounds
	}
	return n.Round+1 < n.MaxRounds
}

// CanAccept reports whether agreeing now is possible: the offer deadline has not passed
// and, for a Seller, a round is left for the identity counter-offer that carries its
// agreement (CoopHive's scheme: a provider agrees to a client's price by offering the
// same terms back, which the client then accepts).
func (n *Negotiation) CanAccept() bool {
	if n.pastDeadline() {
		return false
	}
	if n.Side == Seller && n.MaxRounds > 0 {
		return n.Round < n.MaxRounds
	}
	return true
}

// Bounds returns the agent's price range [lo, hi]: [Opening, Reservation] for a Buyer,
// [Reservation, Opening] for a Seller. An Opening on the wrong side of the Reservation
// collapses the range onto the Reservation.
func (n *Negotiation) Bounds() (lo, hi float64) {
	if n.Side == Seller {
		return n.Reservation, math.Max(n.Opening, n.Reservation)
	}
	return math.Min(n.Opening, n.Reservation), n.Reservation
}

// Clamp returns p moved into Bounds. A NaN price clamps to the opening end of the range
// (the agent gives nothing away on a broken computation).
func (n *Negotiation) Clamp(p float64) float64 {
	lo, hi := n.Bounds()
	switch {
	case p != p:
		if n.Side == Seller {
			return hi
		}
		return lo
	case p < lo:
		return lo
	case p > hi:
		return hi
	}
	return p
}

// AtLeastAsGood reports whether price a is at least as good as price b for the agent:
// a <= b for a Buyer, a >= b for a Seller. NaN is never as good as anything.
func (n *Negotiation) AtLeastAsGood(a, b float64) bool {
	if n.Side == Seller {
		return a >= b
	}
	return a <= b
}

// WithinReservation reports whether the agent may agree to price p at all: p is finite
// and at least as good as the Reservation.
func (n *Negotiation) WithinReservation(p float64) bool {
	return !math.IsInf(p, 0) && n.AtLeastAsGood(p, n.Reservation)
}

// acceptable is the guard every strategy puts in front of Accept.
func (n *Negotiation) acceptable(p float64) bool {
	return n.CanAccept() && n.WithinReservation(p)
}

// counterOrReject counters at the clamped price x when a counter can still lead to a deal,
// and walks away otherwise.
func (n *Negotiation) counterOrReject(x float64) Decision {
	if n.CanCounter() {
		return Counter(n.Clamp(x))
	}
	return Reject()
}

// Validate checks the view: a known side, non-negative rounds and ticks, finite prices,
// an Opening on the favourable side of the Reservation, and non-negative client context.
// Strategies do not call it (it is for the environment's tests and for debugging); they
// stay safe on a bad view by clamping and by checking the reservation before accepting.
func (n *Negotiation) Validate() error {
	var errs []error
	if n.Side != Buyer && n.Side != Seller {
		errs = append(errs, fieldpath.Errorf("side", "must be buyer or seller, got %v", n.Side))
	}
	if n.Round < 0 || n.MaxRounds < 0 {
		errs = append(errs, fieldpath.Errorf("round", "round %d and max rounds %d must be non-negative", n.Round, n.MaxRounds))
	}
	if n.Tick < 0 || n.Deadline < 0 {
		errs = append(errs, fieldpath.Errorf("tick", "tick %d and deadline %d must be non-negative", n.Tick, n.Deadline))
	}
	finite := func(path string, x float64) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			errs = append(errs, fieldpath.Errorf(path, "must be finite, got %g", x))
		}
	}
	finite("reservation", n.Reservation)
	finite("opening", n.Opening)
	if n.Side == Buyer && n.Opening > n.Reservation {
		errs = append(errs, fieldpath.Errorf("opening", "a buyer's opening %g is above its reservation %g", n.Opening, n.Reservation))
	}
	if n.Side == Seller && n.Opening < n.Reservation {
		errs = append(errs, fieldpath.Errorf("opening", "a seller's opening %g is below its reservation %g", n.Opening, n.Reservation))
	}
	for i, p := range n.Mine {
		finite(fmt.Sprintf("mine[%d]", i), p)
	}
	for i, p := range n.Theirs {
		finite(fmt.Sprintf("theirs[%d]", i), p)
	}
	for _, c := range []struct {
		path string
		x    float64
	}{{"value_per_hour", n.ValuePerHour}, {"budget", n.Budget}, {"job_hours", n.JobHours}} {
		if !(c.x >= 0) || math.IsInf(c.x, 0) {
			errs = append(errs, fieldpath.Errorf(c.path, "must be finite and non-negative, got %g", c.x))
		}
	}
	return errors.Join(errs...)
}

// Action is the kind of a Decision.
type Action uint8

const (
	// ActionWait does nothing this time (there is nothing to answer).
	ActionWait Action = iota
	// ActionAccept agrees to the incoming price. For a Buyer the environment sends accept
	// (with the escrow lock); for a Seller it sends CoopHive's identity counter-offer.
	ActionAccept
	// ActionReject walks away: the environment terminates the thread (reason rejected).
	ActionReject
	// ActionCounter sends a counter-offer at Decision.Price.
	ActionCounter
)

// String returns "wait", "accept", "reject", "counter" or "action(N)".
func (a Action) String() string {
	switch a {
	case ActionWait:
		return "wait"
	case ActionAccept:
		return "accept"
	case ActionReject:
		return "reject"
	case ActionCounter:
		return "counter"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Decision is a strategy's answer to the incoming offer. Price is the counter-offer's
// price for ActionCounter and the agreed price for ActionAccept; 0 otherwise.
type Decision struct {
	Action Action
	Price  float64
}

// Accept agrees to the incoming offer at price.
func Accept(price float64) Decision { return Decision{Action: ActionAccept, Price: price} }

// Reject walks away from the thread.
func Reject() Decision { return Decision{Action: ActionReject} }

// Counter makes a counter-offer at price.
func Counter(price float64) Decision { return Decision{Action: ActionCounter, Price: price} }

// Wait does nothing now.
func Wait() Decision { return Decision{Action: ActionWait} }

// String formats the decision as "accept@1.25", "counter@1.4", "reject" or "wait".
func (d Decision) String() string {
	if d.Action == ActionAccept || d.Action == ActionCounter {
		return fmt.Sprintf("%v@%g", d.Action, d.Price)
	}
	return d.Action.String()
}

// Strategy is a scripted negotiation policy over the Negotiation view.
//
// Open returns the agent's first offer (a client's request price, or a provider's offer
// on a thread where it speaks first). Respond answers the incoming offer; with no
// incoming offer it returns Wait. Respond never returns Accept for a price worse than the
// reservation, and every price it offers lies within n.Bounds(). Respond does not change
// the strategy's state (stateful strategies learn through Observer) except that
// stochastic strategies draw from their own *rand.Rand, and it does not allocate.
type Strategy interface {
	Name() string
	Open(n *Negotiation) float64
	Respond(n *Negotiation) Decision
}

// Event is the kind of an Outcome.
type Event uint8

const (
	// OfferSeen reports a price the agent saw: an incoming offer (after Respond decided
	// on it) or a public market price.
	OfferSeen Event = iota + 1
	// DealClosed reports a deal closed at Outcome.Price.
	DealClosed
	// NoDeal reports a thread that ended without a deal.
	NoDeal
)

// String returns "offer-seen", "deal-closed", "no-deal" or "event(N)".
func (e Event) String() string {
	switch e {
	case OfferSeen:
		return "offer-seen"
	case DealClosed:
		return "deal-closed"
	case NoDeal:
		return "no-deal"
	}
	return fmt.Sprintf("event(%d)", uint8(e))
}

// Outcome is something a stateful strategy learns from.
type Outcome struct {
	Event Event
	Price float64 // USD per hour; unused for NoDeal
}

// Observer is implemented by stateful strategies (KalmanValuation). The environment calls
// Observe for every incoming offer after Respond has decided on it, and for every thread
// outcome. Strategies without state do not implement it.
type Observer interface {
	Observe(o Outcome)
}
