package agents

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/agents/strategy"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// newEnv returns a default environment of ticks ticks, reset under seed.
func newEnv(t *testing.T, ticks int, seed uint64, encode bool) (*env.Env, *env.Batch) {
	t.Helper()
	s := env.DefaultSettings()
	s.Env.EpisodeTicks = ticks
	e, err := env.New(s)
	if err != nil {
		t.Fatal(err)
	}
	e.SetEncoding(encode)
	b, err := e.Reset(seed)
	if err != nil {
		t.Fatal(err)
	}
	return e, b
}

// TestProviderCostMatchesMarket checks the adapter's cost per hour, built from the
// machine, electricity, gas and capex views, against the market's own ProviderCostUSD on
// every provider decision of a simulated day.
func TestProviderCostMatchesMarket(t *testing.T) {
	e, b := newEnv(t, 288, 3, false)
	pol := market.NewRandomPolicy(rand.New(rand.NewPCG(1, 2)))
	checked := 0
	for !b.Done {
		m := e.Market()
		acts := make([]env.Action, b.Len())
		for i := range b.Agents {
			d := &b.Decisions[i]
			if d.Kind == market.DecideRespond && d.Role == scheme.RoleProvider {
				th, ok := m.Thread(d.Thread)
				if ok {
					c, ok := ProviderCost(m, d.Agent, &th.Terms)
					if !ok {
						t.Fatal("no cost for a provider")
					}
					got, err := c.PerHour()
					if err != nil {
						t.Fatal(err)
					}
					want := m.ProviderCostUSD(d.Agent, &th.Terms)
					if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
						t.Fatalf("cost %g, market says %g", got, want)
					}
					checked++
				}
			}
			if d.Kind != 0 {
				acts[i] = env.Action{Structured: true, Response: pol.Decide(m, d)}
			}
		}
		var err error
		if b, err = e.Step(acts); err != nil {
			t.Fatal(err)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d provider decisions checked", checked)
	}
	if _, ok := ProviderCost(e.Market(), 0, &scheme.Terms{Duration: 12}); ok {
		// Agent 0 may be a provider; find a client instead.
		for a := 0; a < e.Market().NumAgents(); a++ {
			if e.Market().Role(market.AgentID(a)) == scheme.RoleClient {
				if _, ok := ProviderCost(e.Market(), market.AgentID(a), &scheme.Terms{Duration: 12}); ok {
					t.Error("a client has a provider cost")
				}
				break
			}
		}
	}
}

// TestScriptedMarket runs cost-plus providers against budget clients for a day and
// checks the adapter's promises: the market refuses nothing they send, deals close, no
// provider offers below its cost, and no client accepts above its value.
func TestScriptedMarket(t *testing.T) {
	e, b := newEnv(t, 288, 5, false)
	prov, err := NewScripted("p", "cost-plus", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := NewScripted("c", "budget", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	prov.BeginEpisode(0, 5)
	cli.BeginEpisode(0, 5)
	var o Obs
	offers, accepts := 0, 0
	for !b.Done {
		m := e.Market()
		acts := make([]env.Action, b.Len())
		for _, side := range []*Scripted{prov, cli} {
			o.Reset(env.ObsDim, e.NumActions())
			for i := range b.Agents {
				role := m.Role(b.Agents[i])
				if (side == prov) == (role == scheme.RoleProvider) {
					o.Add(e, 0, b, i)
				}
			}
			out := make([]env.Action, o.N)
			if err := side.Act(&o, nil, out); err != nil {
				t.Fatal(err)
			}
			for j := 0; j < o.N; j++ {
				acts[o.Entry[j]] = out[j]
				d := &o.Decisions[j]
				r := out[j].Response
				if !out[j].Structured {
					t.Fatal("scripted action is not structured")
				}
				th, live := m.Thread(d.Thread)
				if d.Kind != market.DecideRespond || !live {
					continue
				}
				unit := m.UnitUSD(1, th.Terms.Asset)
				switch {
				case side == prov && r.Type == scheme.MsgOffer:
					cost := m.ProviderCostUSD(d.Agent, &th.Terms)
					if got := m.UnitUSD(r.Price, th.Terms.Asset); got < cost-unit {
						t.Fatalf("cost-plus offers %g USD/h below its cost %g", got, cost)
					}
					offers++
				case side == cli && r.Type == scheme.MsgAccept && d.State == scheme.StateOffered:
					v := m.ClientValueUSD(d.Job)
					if got := m.UnitUSD(d.Incoming.Terms.PricePerHour, th.Terms.Asset); got > v+unit {
						t.Fatalf("budget client accepts %g USD/h above its value %g", got, v)
					}
					accepts++
				}
			}
		}
		if b, err = e.Step(acts); err != nil {
			t.Fatal(err)
		}
	}
	st := e.Market().Stats()
	if st.Deals < 50 || offers == 0 || accepts == 0 {
		t.Fatalf("deals %d, offers %d, accepts %d: the scripted market does not trade", st.Deals, offers, accepts)
	}
	if st.Rejected > st.Messages/100 {
		t.Errorf("the market refused %d of %d messages", st.Rejected, st.Messages)
	}
}

// TestViewOfOpen checks the negotiation view of a client opening a job: a buyer whose
// reservation is its value per hour capped by its budget, its opening half of it.
func TestViewOfOpen(t *testing.T) {
	e, b := newEnv(t, 288, 7, false)
	s, _ := NewScripted("c", "budget", nil, 0)
	for !b.Done {
		m := e.Market()
		for i := range b.Agents {
			d := &b.Decisions[i]
			if d.Kind != market.DecideOpen {
				continue
			}
			var n strategy.Negotiation
			if _, ok := s.View(m, d, &n); !ok {
				t.Fatal("no view of a job opening")
			}
			spec := m.Job(d.Job)
			hours := float64(spec.Duration) / float64(m.TicksPerHour())
			v := m.ClientValueUSD(d.Job)
			budget := m.UnitUSD(m.Wallet(d.Agent)[market.Asset(spec.Asset)], spec.Asset)
			want := math.Min(v, budget/hours)
			if n.Side != strategy.Buyer || n.Reservation != want || n.Opening != math.Min(0.5*want, want) || n.Round != 0 {
				t.Fatalf("view %+v, want a buyer with reservation %g and opening %g", n, want, 0.5*want)
			}
			if err := n.Validate(); err != nil && want > 0 {
				t.Fatalf("invalid view: %v", err)
			}
			return
		}
		acts := make([]env.Action, b.Len())
		var err error
		if b, err = e.Step(acts); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("no job opened in a day")
}
