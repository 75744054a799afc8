package strategy

import (
	"math"
	"testing"
)

// FuzzRespond feeds every strategy arbitrary views (any incoming prices, including NaN,
// infinities and huge values; finite opening and reservation) and checks the guarantees:
// no acceptance of a price worse than the reservation or when agreeing is impossible, no
// counter outside [opening, reservation] or when countering is pointless, no NaN or
// infinite counter, Wait only when nothing is pending.
func FuzzRespond(f *testing.F) {
	f.Add(true, 1.0, 2.0, 1.5, 1.2, 1.1, uint8(3), uint8(8), uint16(3), uint16(10), 0.5)
	f.Add(false, 2.0, 1.0, 1.5, 1.6, 1.9, uint8(2), uint8(8), uint16(0), uint16(0), 0.1)
	f.Add(true, 1.0, 2.0, math.NaN(), math.Inf(1), 0.0, uint8(7), uint8(8), uint16(7), uint16(7), -3.0)
	f.Add(false, 2.0, 1.0, math.Inf(-1), -1e300, 1e300, uint8(8), uint8(8), uint16(1), uint16(100), 2.0)
	f.Add(true, 3.0, 2.0, 0.0, 0.0, 0.0, uint8(0), uint8(0), uint16(0), uint16(0), 0.0)
	f.Fuzz(func(t *testing.T, isSeller bool, reservation, opening, z0, z1, z2 float64,
		round, maxRounds uint8, tick, deadline uint16, mine float64) {
		if !finite(reservation) || !finite(opening) {
			t.Skip()
		}
		n := Negotiation{Side: Buyer, Reservation: reservation, Opening: opening,
			Round: int(round), MaxRounds: int(maxRounds), Tick: int64(tick), Deadline: int64(deadline),
			Mine: []float64{opening, mine}, Theirs: []float64{z0, z1, z2},
			ValuePerHour: math.Abs(z0), Budget: math.Abs(z1), JobHours: math.Abs(z2)}
		if isSeller {
			n.Side = Seller
		}
		lo, hi := n.Bounds()
		for _, s := range allStrategies(t) {
			if o, ok := s.(Observer); ok {
				o.Observe(Outcome{Event: OfferSeen, Price: z0}) // a state built from fuzzed prices
			}
			for _, view := range []Negotiation{n, {Side: n.Side, Reservation: reservation, Opening: opening}} {
				d := s.Respond(&view)
				z, pending := view.Incoming()
				switch d.Action {
				case ActionWait:
					if pending {
						t.Fatalf("%s waits on a pending offer %v", s.Name(), z)
					}
				case ActionAccept:
					if !pending || d.Price != z || worse(view.Side, z, reservation) || math.IsInf(z, 0) || !view.CanAccept() {
						t.Fatalf("%s %v accepts %v (incoming %v, reservation %v, round %d/%d)", s.Name(), view.Side, d.Price, z, reservation, view.Round, view.MaxRounds)
					}
				case ActionCounter:
					if !view.CanCounter() || !finite(d.Price) || d.Price < lo || d.Price > hi {
						t.Fatalf("%s %v counters %v, range [%v, %v], round %d/%d", s.Name(), view.Side, d.Price, lo, hi, view.Round, view.MaxRounds)
					}
				case ActionReject:
					if !pending {
						t.Fatalf("%s rejects with nothing pending", s.Name())
					}
				}
			}
			if p := s.Open(&n); !finite(p) || p < lo || p > hi {
				t.Fatalf("%s opens at %v outside [%v, %v]", s.Name(), p, lo, hi)
			}
		}
	})
}
