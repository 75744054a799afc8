package env

import (
	"math"

	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// The critic's state vector: StateDim float32 features per decision that the agent's own
// observation does not hold, read from the whole market, for a centralized critic (MAPPO:
// Yu, Velu, Vinitsky, Gao, Wang, Bayen, Wu 2022, "The Surprising Effectiveness of PPO in
// Cooperative Multi-Agent Games", section 3 and appendix: the "agent-specific global
// state", the agent's observation concatenated with global information). A policy never
// sees them; a critic that does can tell a deal that failed because the counterparty
// could not afford it from one the agent priced badly. Filled when SetState(true) is on
// (docs/env.md lists them).
const (
	// Of the decision's counterparty (0 without a thread).
	StateCpReserveRel = iota // the counterparty's reservation per hour (a client's value of the job, a provider's cost) / the agent's reference, in [0, 10]
	StateCpWealth            // ln(1 + the counterparty's wealth, USD)
	StateCpFreeGPU           // the counterparty provider's free GPU fraction (a client's decision)
	StateCpFreeCPU           // its free core fraction
	StateCpRunning           // ln(1 + its running jobs)
	// Of the market, the same for every decision of a tick.
	StateRoleWealth  // ln(the agent's role's wealth / at genesis), over the agents in the market
	StateOtherWealth // the same for the other role
	StateFreeGPU     // the market's free GPU fraction, over the providers in the market
	StateFreeCPU     // the market's free core fraction
	StateDim
)

// StateNames names the state features in order.
var StateNames = [StateDim]string{
	"cp_reserve_rel", "cp_wealth", "cp_free_gpu", "cp_free_cpu", "cp_running",
	"role_wealth", "other_wealth", "free_gpu", "free_cpu",
}

// SetState turns the state vectors on or off (off by default): with it on, every
// batch's State holds StateDim floats per entry (Batch.StateOf).
func (e *Env) SetState(on bool) { e.withState = on }

// globalState is the market half of the state, computed once per batch and tick.
type globalState struct {
	tick             int64 // the tick it was computed at; -1: none since the last Step
	logWealth        [2]float64
	freeGPU, freeCPU float64
}

// global returns the market features, computing them on the first call of a batch and
// tick (a batch also holds the entries of agents that left on earlier ticks).
func (e *Env) global() *globalState {
	g := &e.gstate
	m := e.m
	if g.tick == m.Tick() {
		return g
	}
	*g = globalState{tick: m.Tick()}
	var w, w0 [2]float64
	var gpus, freeGPU, cores, freeCPU int
	for a := 0; a < m.NumAgents(); a++ {
		id := market.AgentID(a)
		if !m.Alive(id) {
			continue
		}
		r := 0
		if m.Role(id) == scheme.RoleProvider {
			r = 1
			if mc, ok := m.Machine(id); ok {
				gpus, freeGPU = gpus+mc.GPUs, freeGPU+mc.FreeGPUs
				cores, freeCPU = cores+mc.CPUCores, freeCPU+mc.FreeCPUCores
			}
		}
		w[r] += m.WealthUSD(id)
		w0[r] += m.InitialWealthUSD(id)
	}
	for r := range w {
		if w[r] > 0 && w0[r] > 0 {
			g.logWealth[r] = math.Log(w[r] / w0[r])
		}
	}
	if gpus > 0 {
		g.freeGPU = float64(freeGPU) / float64(gpus)
	}
	if cores > 0 {
		g.freeCPU = float64(freeCPU) / float64(cores)
	}
	return g
}

// encodeState writes decision d's state vector into v (len StateDim).
func (e *Env) encodeState(d *market.Decision, v []float32) {
	clear(v)
	m := e.m
	set := func(i int, x float64) { v[i] = float32(x) }
	provider := m.Role(d.Agent) == scheme.RoleProvider
	if d.Kind == market.DecideRespond {
		if th, ok := m.Thread(d.Thread); ok {
			other := th.Client
			if d.Agent == th.Client {
				other = th.Provider
			}
			ref := e.reference(d, &th.Terms)
			var cp float64
			if provider {
				cp = m.ClientValueUSD(d.Job)
			} else {
				cp = m.ProviderCostUSD(other, &th.Terms)
			}
			if ref > 0 {
				set(StateCpReserveRel, clamp(cp/ref, 0, 10))
			}
			set(StateCpWealth, log1p(m.WealthUSD(other)))
			if mc, ok := m.Machine(other); ok {
				if mc.GPUs > 0 {
					set(StateCpFreeGPU, float64(mc.FreeGPUs)/float64(mc.GPUs))
				}
				set(StateCpFreeCPU, float64(mc.FreeCPUCores)/float64(mc.CPUCores))
				set(StateCpRunning, log1p(float64(mc.Running)))
			}
		}
	}
	g := e.global()
	own, rest := 0, 1
	if provider {
		own, rest = 1, 0
	}
	set(StateRoleWealth, g.logWealth[own])
	set(StateOtherWealth, g.logWealth[rest])
	set(StateFreeGPU, g.freeGPU)
	set(StateFreeCPU, g.freeCPU)
}
