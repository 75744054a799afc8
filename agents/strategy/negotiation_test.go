package strategy

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

func TestProgress(t *testing.T) {
	cases := []struct {
		round, maxRounds int
		tick, deadline   int64
		want             float64
	}{
		{0, 8, 0, 0, 1.0 / 8},   // the first offer uses 1 of 8 rounds
		{3, 8, 0, 0, 4.0 / 8},   // the 4th offer
		{7, 8, 0, 0, 1},         // the last offer
		{8, 8, 0, 0, 1},         // past it: clamped
		{1, 8, 50, 100, 0.5},    // the deadline binds first: 50/100 > 2/8
		{1, 0, 30, 120, 0.25},   // no round limit
		{5, 0, 0, 0, 0},         // no bounds: no time pressure
		{0, 10, 200, 100, 1},    // past the deadline
		{0, 4, 1, 100, 1.0 / 4}, // rounds bind: 1/4 > 1/100
	}
	for _, c := range cases {
		n := Negotiation{Side: Seller, Round: c.round, MaxRounds: c.maxRounds, Tick: c.tick, Deadline: c.deadline}
		if got := n.Progress(); !near(got, c.want, tol) {
			t.Errorf("Progress(round %d/%d, tick %d/%d) = %v, want %v", c.round, c.maxRounds, c.tick, c.deadline, got, c.want)
		}
	}
}

func TestCanCounterCanAccept(t *testing.T) {
	cases := []struct {
		side                    Side
		round, maxRounds        int
		tick, deadline          int64
		wantCounter, wantAccept bool
	}{
		// MaxRounds 8: the provider makes offers 1, 3, 5, 7 (at rounds 0, 2, 4, 6), the
		// client counters 2, 4, 6 (at rounds 1, 3, 5); at round 7 it can only accept or
		// reject, since an 8th offer could not be answered by the provider.
		{Seller, 0, 8, 0, 0, true, true},
		{Seller, 6, 8, 0, 0, true, true},
		{Seller, 8, 8, 0, 0, false, false}, // no round for the identity offer
		{Buyer, 5, 8, 0, 0, true, true},
		{Buyer, 7, 8, 0, 0, false, true},
		{Buyer, 8, 8, 0, 0, false, true},
		{Buyer, 100, 0, 0, 0, true, true},    // unbounded
		{Seller, 1, 8, 10, 10, false, false}, // at the offer deadline
		{Buyer, 1, 8, 9, 10, true, true},     // one tick before it
		{Buyer, 1, 8, 10, 10, false, false},  // at it
		{Seller, 3, 0, 500, 0, true, true},   // no deadline, no round limit
	}
	for _, c := range cases {
		n := Negotiation{Side: c.side, Round: c.round, MaxRounds: c.maxRounds, Tick: c.tick, Deadline: c.deadline}
		if got := n.CanCounter(); got != c.wantCounter {
			t.Errorf("%v round %d/%d tick %d/%d: CanCounter = %v, want %v", c.side, c.round, c.maxRounds, c.tick, c.deadline, got, c.wantCounter)
		}
		if got := n.CanAccept(); got != c.wantAccept {
			t.Errorf("%v round %d/%d tick %d/%d: CanAccept = %v, want %v", c.side, c.round, c.maxRounds, c.tick, c.deadline, got, c.wantAccept)
		}
	}
}

func TestBoundsClamp(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		side            Side
		open, res, p    float64
		lo, hi, clamped float64
	}{
		{Buyer, 1, 2, 1.5, 1, 2, 1.5},
		{Buyer, 1, 2, 0.5, 1, 2, 1},
		{Buyer, 1, 2, 3, 1, 2, 2},
		{Buyer, 1, 2, nan, 1, 2, 1}, // NaN goes to the opening
		{Buyer, 3, 2, 2.5, 2, 2, 2}, // opening above the reservation: range collapses
		{Seller, 2, 1, 1.5, 1, 2, 1.5},
		{Seller, 2, 1, 0.5, 1, 2, 1},
		{Seller, 2, 1, 9, 1, 2, 2},
		{Seller, 2, 1, nan, 1, 2, 2},
		{Seller, 0.5, 1, 0.7, 1, 1, 1},
	}
	for _, c := range cases {
		n := Negotiation{Side: c.side, Opening: c.open, Reservation: c.res}
		lo, hi := n.Bounds()
		if lo != c.lo || hi != c.hi {
			t.Errorf("%v open %v res %v: Bounds = [%v, %v], want [%v, %v]", c.side, c.open, c.res, lo, hi, c.lo, c.hi)
		}
		if got := n.Clamp(c.p); got != c.clamped {
			t.Errorf("%v open %v res %v: Clamp(%v) = %v, want %v", c.side, c.open, c.res, c.p, got, c.clamped)
		}
	}
}

func TestWithinReservation(t *testing.T) {
	inf := math.Inf(1)
	b := Negotiation{Side: Buyer, Reservation: 2}
	s := Negotiation{Side: Seller, Reservation: 1}
	for _, c := range []struct {
		n    *Negotiation
		p    float64
		want bool
	}{
		{&b, 2, true}, {&b, 1.99, true}, {&b, 2.01, false}, {&b, -inf, false},
		{&s, 1, true}, {&s, 1.01, true}, {&s, 0.99, false}, {&s, inf, false},
	} {
		if got := c.n.WithinReservation(c.p); got != c.want {
			t.Errorf("%v res %v: WithinReservation(%v) = %v, want %v", c.n.Side, c.n.Reservation, c.p, got, c.want)
		}
	}
}

func TestIncomingLastMine(t *testing.T) {
	n := buyer(2, 1, nil, nil)
	if _, ok := n.Incoming(); ok {
		t.Error("Incoming with no offers reported one")
	}
	if got := n.LastMine(); got != 1 {
		t.Errorf("LastMine with no offers = %v, want the opening 1", got)
	}
	n = buyer(2, 1, []float64{1, 1.2}, []float64{3, 2.5})
	if z, ok := n.Incoming(); !ok || z != 2.5 {
		t.Errorf("Incoming = %v, %v; want 2.5, true", z, ok)
	}
	if got := n.LastMine(); got != 1.2 {
		t.Errorf("LastMine = %v, want 1.2", got)
	}
}

func TestValidateView(t *testing.T) {
	good := Negotiation{Side: Buyer, Round: 1, MaxRounds: 8, Tick: 2, Deadline: 10, Reservation: 2, Opening: 1,
		Mine: []float64{1}, Theirs: []float64{3}, ValuePerHour: 3, Budget: 10, JobHours: 4}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid view: %v", err)
	}
	bad := good
	bad.Round = -1
	bad.Opening = 3 // above the buyer's reservation
	bad.Theirs = []float64{math.Inf(1)}
	bad.Budget = -1
	err := bad.Validate()
	if err == nil {
		t.Fatal("invalid view accepted")
	}
	for _, want := range []string{"round:", "opening:", "theirs[0]:", "budget:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	var fe *fieldpath.Error
	if !errors.As(err, &fe) {
		t.Errorf("error %v is not a fieldpath error", err)
	}
	noSide := good
	noSide.Side = 0
	if err := noSide.Validate(); err == nil || !strings.Contains(err.Error(), "side:") {
		t.Errorf("a view without a side: got %v", err)
	}
}

func TestDecisionString(t *testing.T) {
	for _, c := range []struct {
		d    Decision
		want string
	}{{Accept(1.25), "accept@1.25"}, {Counter(1.5), "counter@1.5"}, {Reject(), "reject"}, {Wait(), "wait"}} {
		if got := c.d.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	if Buyer.String() != "buyer" || Seller.String() != "seller" || Side(7).String() != "side(7)" {
		t.Error("Side.String")
	}
	if OfferSeen.String() != "offer-seen" || DealClosed.String() != "deal-closed" || NoDeal.String() != "no-deal" {
		t.Error("Event.String")
	}
}
