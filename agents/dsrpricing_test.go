package agents

import (
	"math"
	"testing"

	"github.com/hivegym/hivegym/agents/dsr"
	"github.com/hivegym/hivegym/agents/strategy"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/market"
)

// pricingEpisode plays one day with the providers priced by p and the clients by
// budget agents, checking on the way that every provider holds one reservation factor
// per period, within [exp(-M), exp(M)].
func pricingEpisode(t *testing.T, p *DSRPolicy, seed uint64) {
	t.Helper()
	e, b := newEnv(t, 288, seed, true)
	clients, err := NewScripted("c", "budget", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.BeginEpisode(0, seed)
	clients.BeginEpisode(0, seed)
	r := rng.New(seed, "act")
	per := p.Settings.periodTicks()
	hi := math.Exp(p.Settings.maxMarkup()) * (1 + 1e-12)
	held := map[market.AgentID][2]float64{} // agent: period, factor
	var po, co Obs
	for !b.Done {
		m := e.Market()
		po.Reset(env.ObsDim, e.NumActions())
		co.Reset(env.ObsDim, e.NumActions())
		var rows, crow []int
		for i := range b.Agents {
			if _, prov := m.Machine(b.Decisions[i].Agent); prov {
				po.Add(e, 0, b, i)
				rows = append(rows, i)
			} else {
				co.Add(e, 0, b, i)
				crow = append(crow, i)
			}
		}
		pa, ca := make([]env.Action, po.N), make([]env.Action, co.N)
		if err := p.Act(&po, r, pa); err != nil {
			t.Fatal(err)
		}
		if err := clients.Act(&co, r, ca); err != nil {
			t.Fatal(err)
		}
		for a, ps := range p.prices[0] {
			if !ps.active {
				continue
			}
			if ps.factor < 1/hi || ps.factor > hi {
				t.Fatalf("agent %d: factor %v outside [exp(-M), exp(M)]", a, ps.factor)
			}
			id := market.AgentID(a)
			if h, ok := held[id]; ok && h[0] == float64(ps.period) && h[1] != ps.factor {
				t.Fatalf("agent %d: factor changed within period %d", a, ps.period)
			}
			if ps.period > m.Tick()/per {
				t.Fatalf("agent %d: period %d at tick %d", a, ps.period, m.Tick())
			}
			held[id] = [2]float64{float64(ps.period), ps.factor}
		}
		acts := make([]env.Action, b.Len())
		for j, i := range rows {
			acts[i] = pa[j]
		}
		for j, i := range crow {
			acts[i] = ca[j]
		}
		if b, err = e.Step(acts); err != nil {
			t.Fatal(err)
		}
	}
	if len(held) == 0 {
		t.Fatal("no provider took a pricing decision")
	}
}

func newPricing(t *testing.T, explore string) *DSRPolicy {
	t.Helper()
	c := dsr.DefaultConfig()
	c.Window, c.LearningRate, c.MaxGradNorm, c.WarmUp = 0, 0.05, 1, 1
	g := GroupConfig{Name: "p", Role: RoleProvider, Kind: KindDSR, Strategy: "boulware", Share: 1}
	p, err := NewDSRPolicy(&g, DSRSettings{Config: c, Decides: DSRDecidesPricing, Explore: explore, Features: []string{"market_rel", "free_gpu"}}, 7)
	if err != nil {
		t.Fatal(err)
	}
	p.Learn = true
	return p
}

// A pricing group learns (its weights move, one step per agent and period, or one per
// environment and period with explore: group), the same seed gives the same weights,
// and evaluation (Learn false) leaves them alone.
func TestDSRPolicyPricing(t *testing.T) {
	for _, explore := range []string{DSRExploreAgent, DSRExploreGroup} {
		t.Run(explore, func(t *testing.T) {
			p := newPricing(t, explore)
			before := p.Learner.Theta()
			pricingEpisode(t, p, 3)
			pricingEpisode(t, p, 4) // a second episode: the first's decisions are dropped
			after := p.Learner.Theta()
			moved := false
			for i := range after {
				moved = moved || after[i] != before[i]
			}
			if !moved || p.Learner.Steps() == 0 {
				t.Fatalf("no learning: %d steps, θ %v -> %v", p.Learner.Steps(), before, after)
			}
			q := newPricing(t, explore)
			pricingEpisode(t, q, 3)
			pricingEpisode(t, q, 4)
			for i, w := range q.Learner.Theta() {
				if w != after[i] {
					t.Fatalf("same seeds, different weights: θ[%d] %v against %v", i, w, after[i])
				}
			}
			q.Learn = false
			pricingEpisode(t, q, 5)
			for i, w := range q.Learner.Theta() {
				if w != after[i] {
					t.Fatalf("evaluation changed θ[%d]", i)
				}
			}
		})
	}
}

// DecideWith's view: a provider's reservation c becomes c + (f-1)|c| and a client's
// value v becomes v/f, capped by the budget over the job's hours, and the opening moves
// with the reservation; checked against the unshifted view on every negotiation
// decision of a simulated half day.
func TestDecideWithShiftsReservation(t *testing.T) {
	e, b := newEnv(t, 144, 8, false)
	s, err := NewScripted("s", "boulware", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.BeginEpisode(0, 8)
	checked := 0
	for !b.Done {
		m := e.Market()
		acts := make([]env.Action, b.Len())
		for i := range acts {
			d := &b.Decisions[i]
			st, err := s.strategyOf(0, d.Agent)
			if err != nil {
				t.Fatal(err)
			}
			if Negotiating(d) {
				var n0, n1 strategy.Negotiation
				_, ok0 := s.View(m, d, &n0)
				s.aggr = 1.3
				_, ok1 := s.View(m, d, &n1)
				s.aggr = 0
				if ok0 != ok1 {
					t.Fatalf("view ok %v unshifted, %v shifted", ok0, ok1)
				}
				if ok0 {
					want := n0.Reservation + 0.3*math.Abs(n0.Reservation)
					if n0.Side == strategy.Buyer {
						want = n0.Reservation / 1.3
						if n0.JobHours > 0 {
							want = math.Min(want, n0.Budget/n0.JobHours)
						}
						if math.Abs(n1.ValuePerHour-n0.ValuePerHour/1.3) > 1e-12*n0.ValuePerHour {
							t.Fatalf("value %v, want %v / 1.3", n1.ValuePerHour, n0.ValuePerHour)
						}
					}
					if math.Abs(n1.Reservation-want) > 1e-12*math.Abs(want) {
						t.Fatalf("%v: reservation %v, want %v (unshifted %v)", n0.Side, n1.Reservation, want, n0.Reservation)
					}
					if n1.Opening != s.opening(n1.Side, n1.Reservation) {
						t.Fatalf("opening %v not the shifted reservation's", n1.Opening)
					}
					checked++
				}
			}
			acts[i] = env.Action{Structured: true, Response: s.DecideWith(m, d, st, 1.3)}
		}
		if b, err = e.Step(acts); err != nil {
			t.Fatal(err)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d views checked", checked)
	}
}
