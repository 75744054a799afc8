package env

import (
	"fmt"
	"math"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// haggle is a toy negotiation with known concessions: a client requests at its value
// per hour, providers counter at the incoming price x 1.5 and clients at the incoming
// price x 0.7. A client's prices are then c0, c2 = 1.05 c0, c4 = 1.1025 c0 (each 5%
// above its previous one: a concession of 0.05 of its previous price toward the
// provider), a provider's p1 = 1.5 c0, p3 = 1.05 p1 (each 5% above its previous one:
// a step of 0.05 of its previous price away from the client).
// open, when set, is the request's action in place of x1.
type haggle struct{ up, down, open int32 }

func (h haggle) act(e *Env, b *Batch, out []Action) {
	n := e.NumActions()
	for i := range b.Agents {
		out[i] = Action{}
		d := &b.Decisions[i]
		mask := b.Mask(i, n)
		switch {
		case d.Kind == market.DecideOpen && mask[h.req()]:
			out[i].Index = h.req()
		case d.Kind == market.DecideRespond && d.Role == scheme.RoleProvider && mask[h.up]:
			out[i].Index = h.up
		case d.Kind == market.DecideRespond && d.Role == scheme.RoleClient && mask[h.down]:
			out[i].Index = h.down
		}
	}
}

func (h haggle) req() int32 {
	if h.open != 0 {
		return h.open
	}
	return ActPrice0 + 3 // x1: a request at the job's value
}

// TestNegotiationFeatures checks the counterparty history features against the toy
// negotiation's hand-derived prices: the opponent's previous price is its latest (the
// incoming one) over 1.05, and its concession is +0.05 of its previous price for a
// client (it moved toward the provider) and -0.05 for a provider (it moved away from
// the client). The idle time left stays in [0, 1] and is 11/12 for a decision answered
// the tick after the message (idle_timeout 12: the message was accepted a tick ago).
func TestNegotiationFeatures(t *testing.T) {
	s := smallSettings(120)
	s.Env.Actions.PriceMultipliers = []float64{0.5, 0.7, 0.85, 1, 1.15, 1.3, 1.5}
	s.Env.Actions.ReservationAnchor = false // the toy's prices are multiples of the incoming ones
	e := newEnv(t, s)
	h := haggle{up: ActPrice0 + 6, down: ActPrice0 + 1}
	var checked [2]int
	episode(t, e, 3, h.act, func(b *Batch, _ []Action) {
		for i := range b.Agents {
			d := &b.Decisions[i]
			if d.Kind != market.DecideRespond || d.Incoming.Type != scheme.MsgOffer && d.Incoming.Type != scheme.MsgRequest {
				continue
			}
			v := b.Observation(i)
			in, prev, conc := float64(v[FeatIncomingRel]), float64(v[FeatOppPrevRel]), float64(v[FeatOppConcession])
			if il := float64(v[FeatIdleLeft]); il < 0 || il > 1 || (d.Waited == 0 && math.Abs(il-11.0/12) > 1e-6) {
				t.Fatalf("idle_left %g (waited %d)", il, d.Waited)
			}
			if prev == 0 && conc != 0 {
				t.Fatalf("concession %g without two opponent prices", conc)
			}
			if prev == 0 || in >= 10 || prev >= 10 { // fewer than two opponent prices, or clamped
				continue
			}
			sign := 1.0
			if d.Role == scheme.RoleClient {
				sign = -1
				checked[1]++
			} else {
				checked[0]++
			}
			// Prices are rounded to base units: a relative tolerance of 1e-3.
			if math.Abs(in/prev-1.05) > 1e-3 || math.Abs(conc-sign*0.05*prev) > 1e-3*prev+1e-6 {
				t.Fatalf("%v: incoming %g, previous %g, concession %g; want incoming = 1.05 previous, concession %+g x previous",
					d.Role, in, prev, conc, sign*0.05)
			}
		}
	})
	if checked[0] == 0 || checked[1] == 0 {
		t.Fatalf("no decision with two opponent prices checked: %v", checked)
	}
}

// TestMarketFeatures recomputes the market features from the market's counters with a
// per-tick model (through the stop hook, which runs after every tick): each tick's
// deal rate folded into a mean with weight 1/12, and the GPU-hour price likewise.
func TestMarketFeatures(t *testing.T) {
	s := smallSettings(150)
	e := newEnv(t, s)
	var prev market.Stats
	rate, gpu := math.NaN(), math.NaN()
	fold := func(m, x float64) float64 {
		if math.IsNaN(m) {
			return x
		}
		return (11*m + x) / 12
	}
	e.SetStop(func() bool {
		st := e.Market().Stats()
		if st.JobsRequested > prev.JobsRequested {
			rate = fold(rate, float64(st.Deals-prev.Deals)/float64(st.JobsRequested-prev.JobsRequested))
		}
		if st.GPUHoursDealt > prev.GPUHoursDealt {
			gpu = fold(gpu, (st.GPUDealUSD-prev.GPUDealUSD)/(st.GPUHoursDealt-prev.GPUHoursDealt))
		}
		prev = st
		return false
	})
	n := 0
	pol := NewRandomLegal(rng.New(1, "test/market"))
	episode(t, e, 5, pol.Act, func(b *Batch, _ []Action) {
		for i := range b.Agents {
			d := &b.Decisions[i]
			if d.Kind != market.DecideRespond || b.Tick == 0 {
				continue
			}
			v := b.Observation(i)
			if want := clamp(rate, 0, 1); math.Abs(float64(v[FeatMarketDeals])-want) > 1e-6 {
				t.Fatalf("tick %d: market_deal_rate %g, want %g", b.Tick, v[FeatMarketDeals], want)
			}
			th, _ := e.Market().Thread(d.Thread)
			if th.Terms.GPUCount == 0 || math.IsNaN(gpu) {
				continue
			}
			ref := e.reference(d, &th.Terms)
			want := clamp(gpu*float64(th.Terms.GPUCount)/ref, 0, 10)
			if math.Abs(float64(v[FeatMarketRel])-want) > 1e-5*max(1, want) {
				t.Fatalf("tick %d: market_rel %g, want %g", b.Tick, v[FeatMarketRel], want)
			}
			n++
		}
	})
	if n == 0 {
		t.Fatal("no GPU decision checked")
	}
}

// TestCounterAnchor checks the price an offer's multiplier applies to against the
// observation: with reservation_anchor false, a counter at multiplier m names m x the
// incoming price; with it true, m x max(1, 1/incoming_rel) x the incoming price
// for a provider (incoming_rel is the incoming price over its cost: a bid below cost is
// countered from the cost up) and m x min(1, 1/incoming_rel) for a client (an offer
// above its value is countered from the value down). Both sides of the clamp must occur.
func TestCounterAnchor(t *testing.T) {
	for _, anchor := range []bool{false, true} {
		t.Run(fmt.Sprintf("reservation_anchor=%t", anchor), func(t *testing.T) {
			s := smallSettings(96)
			s.Env.Actions.ReservationAnchor = anchor
			e := newEnv(t, s)
			var seen [2][2]int // role x clamped
			// Requests at x1 (the provider's x1.5 counter lands above the client's
			// value) and at x0.5 (below it).
			for _, h := range []haggle{{up: ActPrice0 + 7, down: ActPrice0 + 1}, {up: ActPrice0 + 7, down: ActPrice0 + 1, open: ActPrice0}} {
				episode(t, e, 5, h.act, func(b *Batch, _ []Action) {
					for i := range b.Agents {
						d := &b.Decisions[i]
						if d.Kind != market.DecideRespond || d.State >= scheme.StateAccepted ||
							d.Incoming.Type != scheme.MsgOffer && d.Incoming.Type != scheme.MsgRequest {
							continue
						}
						in := float64(b.Observation(i)[FeatIncomingRel])
						if in <= 0.01 || in >= 10 {
							continue // clamped or unknown
						}
						q := float64(d.Incoming.Terms.PricePerHour)
						for k, mult := range s.Env.Actions.PriceMultipliers {
							r, ok := e.decode(d, ActPrice0+k, 1, e.counterBase(d))
							if !ok || r.Type != scheme.MsgOffer {
								t.Fatalf("price action %d decoded to %+v", k, r)
							}
							want, role, clamped := mult, 0, 0
							if d.Role == scheme.RoleClient {
								role = 1
							}
							if anchor {
								switch {
								case role == 0 && in < 1:
									want, clamped = mult/in, 1
								case role == 1 && in > 1:
									want, clamped = mult/in, 1
								}
							}
							seen[role][clamped]++
							// Prices are base units and the feature a float32: 1e-3 relative.
							if got := float64(r.Price) / q; math.Abs(got/want-1) > 1e-3 {
								t.Fatalf("%v, incoming_rel %g, x%g: offer %g x the incoming price, want %g", d.Role, in, mult, got, want)
							}
						}
					}
				})
			}
			for role := range seen {
				if seen[role][0] == 0 || anchor && seen[role][1] == 0 {
					t.Fatalf("role %d: decisions checked unclamped/clamped %v", role, seen[role])
				}
			}
		})
	}
}
