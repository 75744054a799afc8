package env

import (
	"math"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// TestStateLeavesTheEpisodeAlone: turning the state vectors on changes nothing else, batch
// for batch, and they are off by default.
func TestStateLeavesTheEpisodeAlone(t *testing.T) {
	run := func(on bool) (hs []uint64, rows int) {
		e := newEnv(t, smallSettings(40))
		e.SetState(on)
		pol := NewRandomLegal(rng.New(3, "test/policy"))
		episode(t, e, 3, pol.Act, func(b *Batch, _ []Action) {
			hs = append(hs, batchHash(b))
			if on && len(b.State) != b.Len()*StateDim {
				t.Fatalf("tick %d: %d state floats for %d entries", b.Tick, len(b.State), b.Len())
			}
			if !on && (len(b.State) != 0 || (b.Len() > 0 && b.StateOf(0) != nil)) {
				t.Fatalf("tick %d: state vectors with SetState off", b.Tick)
			}
			rows += b.Len()
		})
		return hs, rows
	}
	off, n := run(false)
	on, _ := run(true)
	if n == 0 || len(off) != len(on) {
		t.Fatalf("%d and %d batches, %d entries", len(off), len(on), n)
	}
	for i := range off {
		if off[i] != on[i] {
			t.Fatalf("batch %d differs with the state on", i)
		}
	}
}

// TestStateFeatures checks every state feature of every entry of an episode against the
// market, recomputed here the slow way: the counterparty's reservation from the market's
// value and cost functions (and, through the agent's own reference, against the
// observation's ref_usd_h), its wallet and machine, and the market's aggregates summed
// over every agent in it.
func TestStateFeatures(t *testing.T) {
	e := newEnv(t, smallSettings(60))
	e.SetState(true)
	pol := NewRandomLegal(rng.New(5, "test/policy"))
	const tol = 1e-5
	near := func(got float32, want float64) bool {
		return math.Abs(float64(got)-want) <= tol*math.Max(1, math.Abs(want))
	}
	var threads, ticks int
	first := true
	episode(t, e, 5, pol.Act, func(b *Batch, _ []Action) {
		m := e.Market()
		// The market's aggregates, over the agents in the market now.
		var w, w0 [2]float64
		var gpus, freeG, cores, freeC float64
		for a := 0; a < m.NumAgents(); a++ {
			id := market.AgentID(a)
			if !m.Alive(id) {
				continue
			}
			r := 0
			if m.Role(id) == scheme.RoleProvider {
				r = 1
				mc, _ := m.Machine(id)
				gpus += float64(mc.GPUs)
				freeG += float64(mc.FreeGPUs)
				cores += float64(mc.CPUCores)
				freeC += float64(mc.FreeCPUCores)
			}
			w[r] += m.WealthUSD(id)
			w0[r] += m.InitialWealthUSD(id)
		}
		ticks++
		for i := range b.Agents {
			s, o := b.StateOf(i), b.Observation(i)
			d := &b.Decisions[i]
			own := 0
			if m.Role(d.Agent) == scheme.RoleProvider {
				own = 1
			}
			if first && (s[StateRoleWealth] != 0 || s[StateOtherWealth] != 0) {
				t.Fatalf("the first batch: role wealth %g, %g; nothing has happened yet", s[StateRoleWealth], s[StateOtherWealth])
			}
			for _, c := range []struct {
				f    int
				want float64
			}{
				{StateRoleWealth, math.Log(w[own] / w0[own])}, {StateOtherWealth, math.Log(w[1-own] / w0[1-own])},
				{StateFreeGPU, freeG / gpus}, {StateFreeCPU, freeC / cores},
			} {
				if !near(s[c.f], c.want) {
					t.Fatalf("tick %d entry %d: %s = %g, want %g", b.Tick, i, StateNames[c.f], s[c.f], c.want)
				}
			}
			th, ok := m.Thread(d.Thread)
			if d.Kind != market.DecideRespond || !ok {
				for f := StateCpReserveRel; f <= StateCpRunning; f++ {
					if s[f] != 0 {
						t.Fatalf("tick %d entry %d: %s = %g without a thread", b.Tick, i, StateNames[f], s[f])
					}
				}
				continue
			}
			threads++
			other, cp := th.Provider, 0.0
			if own == 1 {
				other, cp = th.Client, m.ClientValueUSD(d.Job)
			} else {
				cp = m.ProviderCostUSD(th.Provider, &th.Terms)
			}
			ref := math.Expm1(float64(o[FeatRefUSDh])) // the observation's own reference
			if got := float64(s[StateCpReserveRel]) * ref; ref > 1e-3 && cp >= 0 && cp/ref < 9.9 && math.Abs(got-cp) > 1e-4*math.Max(cp, ref) {
				t.Fatalf("tick %d entry %d: counterparty reservation %g x reference %g, want %g", b.Tick, i, s[StateCpReserveRel], ref, cp)
			}
			if !near(s[StateCpWealth], math.Log1p(m.WealthUSD(other))) {
				t.Fatalf("tick %d entry %d: cp_wealth %g, want %g", b.Tick, i, s[StateCpWealth], math.Log1p(m.WealthUSD(other)))
			}
			if mc, ok := m.Machine(other); ok {
				if !near(s[StateCpFreeCPU], float64(mc.FreeCPUCores)/float64(mc.CPUCores)) || !near(s[StateCpRunning], math.Log1p(float64(mc.Running))) {
					t.Fatalf("tick %d entry %d: counterparty machine %v, state %v", b.Tick, i, mc, s)
				}
			} else if s[StateCpFreeGPU] != 0 || s[StateCpFreeCPU] != 0 || s[StateCpRunning] != 0 {
				t.Fatalf("tick %d entry %d: a client counterparty with machine features %v", b.Tick, i, s)
			}
		}
		first = false
	})
	t.Logf("%d thread decisions, %d batches", threads, ticks)
	if threads < 100 || ticks < 40 {
		t.Fatalf("only %d thread decisions over %d batches: the test checked too little", threads, ticks)
	}
}
