package env

import (
	"errors"
	"fmt"
	"math"

	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/metrics"
	"github.com/hivegym/hivegym/scheme"
)

// Action is an agent's answer to its entry of a Batch. Learners set Index (and Price
// with continuous prices); scripted policies may instead set Structured and answer with
// a market.Response directly.
type Action struct {
	// Index is the discrete action (see ActionName and docs/env.md).
	Index int32
	// Price is the price multiplier of a price action when the action space is
	// continuous (ActionConfig.ContinuousPrice).
	Price float32
	// Structured selects Response instead of Index.
	Structured bool
	Response   market.Response
}

// Batch is what Reset and Step return: one entry per agent that must act now (at most
// one per agent), plus entries for agents that left the market (Terminated) and, at the
// end of the episode, one entry per agent still in it (Truncated). Entries are in a
// deterministic order. The batch is owned by the Env and reused by the next Step.
type Batch struct {
	// Tick is the market tick of the batch.
	Tick int64
	// Agents are the agents of the entries; Decisions their structured decision points
	// (Kind 0 for a terminated or truncated entry, which takes no action).
	Agents    []market.AgentID
	Decisions []market.Decision
	// Obs holds len(Agents) observation vectors of ObsDim float32 each; Masks holds
	// len(Agents) legal-action masks of NumActions each.
	Obs   []float32
	Masks []bool
	// State holds len(Agents) state vectors of StateDim float32 each when the env's
	// SetState is on (a centralized critic's extra input), else nothing.
	State []float32
	// Rewards are the rewards accrued by each entry's agent since its previous decision
	// (semi-Markov credit: what happened between two decisions goes to the earlier one).
	Rewards []float64
	// Terminated: the agent left the market (provider churn); Truncated: the episode
	// reached its last tick. Reported separately, as Gymnasium does.
	Terminated, Truncated []bool
	// Done is true in the episode's last batch.
	Done bool
}

// Len is the number of entries.
func (b *Batch) Len() int { return len(b.Agents) }

// Observation returns entry i's observation vector (aliasing Obs).
func (b *Batch) Observation(i int) []float32 { return b.Obs[i*ObsDim : (i+1)*ObsDim] }

// StateOf returns entry i's state vector (aliasing State); nil when State is off.
func (b *Batch) StateOf(i int) []float32 {
	if len(b.State) < (i+1)*StateDim {
		return nil
	}
	return b.State[i*StateDim : (i+1)*StateDim]
}

// Mask returns entry i's legal-action mask (aliasing Masks).
func (b *Batch) Mask(i int, numActions int) []bool { return b.Masks[i*numActions : (i+1)*numActions] }

func (b *Batch) reset(tick int64) {
	b.Tick = tick
	b.Agents, b.Decisions, b.Obs, b.Masks, b.State = b.Agents[:0], b.Decisions[:0], b.Obs[:0], b.Masks[:0], b.State[:0]
	b.Rewards, b.Terminated, b.Truncated = b.Rewards[:0], b.Terminated[:0], b.Truncated[:0]
	b.Done = false
}

// Env is a multi-agent environment over one market, in the PettingZoo parallel style.
// It is not safe for concurrent use; Vec runs several on worker goroutines.
type Env struct {
	s         Settings
	gpus      []market.GPUSpec
	m         *market.Market
	world     *data.World
	exo       market.Exo
	fcSD      []float64
	ewma      data.EWMA
	nAct      int
	batch     Batch
	resp      []market.Response
	done      bool
	seed      uint64
	trace     *market.TraceWriter
	noEnc     bool        // skip observation vectors and masks (structured policies only)
	withState bool        // fill the state vectors (SetState)
	gstate    globalState // the market half of this tick's state vectors
	stop      func() bool // checked between ticks; true ends the episode early
	intr      bool        // the episode was stopped early

	// Per agent.
	acc    []float64 // reward accrued since the agent's last decision
	lastW  []float64
	gone   []bool // terminated (reported)
	dsr    []metrics.DifferentialSharpe
	ddr    []metrics.DifferentialDownside
	hidden [ObsDim]bool
	mkt    marketStats // the market's recent clearing prices (observations)
}

// ErrDone is returned by Step after the episode's last batch.
var ErrDone = errors.New("env: episode is over; call Reset")

// New validates the settings and builds an environment. Call Reset before Step.
func New(s Settings) (*Env, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	gpus, err := gpuSpecs(&s.World)
	if err != nil {
		return nil, err
	}
	e := &Env{s: s, gpus: gpus, done: true}
	e.s.Env.Actions.PriceMultipliers = append([]float64(nil), s.Env.Actions.PriceMultipliers...)
	e.s.Env.Actions.SwapFractions = append([]float64(nil), s.Env.Actions.SwapFractions...)
	e.nAct = numActions(&e.s.Env.Actions)
	e.ewma = data.EWMA{Alpha: s.Env.Forecast.Alpha}
	for _, f := range offchainFeatures {
		e.hidden[f] = true
	}
	return e, nil
}

// Settings returns the settings the env was built with.
func (e *Env) Settings() Settings { return e.s }

// Market returns the current episode's market (read-only use: views, statistics).
func (e *Env) Market() *market.Market { return e.m }

// World returns the current episode's world.
func (e *Env) World() *data.World { return e.world }

// NumActions is the size of the discrete action space (the same for every agent; masks
// restrict it per decision).
func (e *Env) NumActions() int { return e.nAct }

// NumPriceActions returns the number of price actions, ActPrice0 .. ActPrice0+n-1.
func (e *Env) NumPriceActions() int { return len(e.s.Env.Actions.PriceMultipliers) }

// SetTrace makes the next episodes write their trace to t (nil: no trace).
func (e *Env) SetTrace(t *market.TraceWriter) {
	e.trace = t
	if e.m != nil {
		e.m.SetTrace(t)
	}
}

// SetEncoding turns the observation vectors and action masks on (the default) or off.
// Off, batches carry only the structured decisions (Obs and Masks stay empty): the
// fast path for scripted policies that answer with structured actions.
func (e *Env) SetEncoding(on bool) { e.noEnc = !on }

// SetStop installs a function checked at every tick boundary (after a tick ends, before
// the next begins); when it returns true the episode ends there, every agent truncated,
// and Interrupted reports it. hivegym simulate uses it for Ctrl-C.
func (e *Env) SetStop(stop func() bool) { e.stop = stop }

// Interrupted reports whether the last episode was ended early by the stop function.
func (e *Env) Interrupted() bool { return e.intr }

// Space describes one agent's observation and action spaces: the vector and action
// sizes are the same for every agent (so policies batch), and Hidden marks the features
// the agent cannot see, which are always zero for it (an IoT-class provider sees only
// on-chain data: no electricity price or forecast; clients have no electricity).
type Space struct {
	ObsDim     int
	NumActions int
	Hidden     []bool
}

// Space returns agent a's spaces in the current episode.
func (e *Env) Space(a market.AgentID) Space {
	h := make([]bool, ObsDim)
	if e.m != nil && e.hideOffchain(a) {
		copy(h, e.hidden[:])
	}
	return Space{ObsDim: ObsDim, NumActions: e.nAct, Hidden: h}
}

func (e *Env) hideOffchain(a market.AgentID) bool {
	if e.m.Role(a) != scheme.RoleProvider {
		return true
	}
	mc, _ := e.m.Machine(a)
	return mc.Onchain
}

// Reset starts an episode under seed: a new world and a new population (sampled from
// the settings' distributions, so agents differ between episodes), and returns the first
// batch of decisions.
func (e *Env) Reset(seed uint64) (*Batch, error) {
	w, err := data.New(e.s.World, seed)
	if err != nil {
		return nil, fmt.Errorf("env: world: %w", err)
	}
	e.world = w
	sp := w.Market()
	if e.m == nil {
		e.m, err = market.New(market.Setup{
			Engine: e.s.Market, Scheme: e.s.Scheme, GPUs: e.gpus, CPUWattsPerCore: data.CPUWattsPerCore,
			Locations: locationNames(&e.s.World), ChurnPerDay: sp.ProviderChurnPerDay, DemandMultiplier: sp.DemandMultiplier,
		})
		if err != nil {
			return nil, fmt.Errorf("env: market: %w", err)
		}
		e.m.SetTrace(e.trace)
	}
	e.seed = seed
	e.exo.Elec = resizeF(e.exo.Elec, w.NumLocations())
	e.exo.ElecForecast = resizeF(e.exo.ElecForecast, w.NumLocations())
	e.fcSD = resizeF(e.fcSD, w.NumLocations())
	e.fillExo()
	if err := e.m.Reset(seed, &e.exo); err != nil {
		return nil, err
	}
	e.acc, e.lastW, e.gone = e.acc[:0], e.lastW[:0], e.gone[:0]
	e.dsr, e.ddr = e.dsr[:0], e.ddr[:0]
	e.grow()
	e.done, e.intr = false, false
	e.mkt.reset(e.m)
	e.gstate.tick = -1
	if err := e.m.BeginTick(&e.exo); err != nil {
		return nil, err
	}
	e.batch.reset(0)
	if err := e.advance(); err != nil {
		return nil, err
	}
	return &e.batch, nil
}

// grow extends the per-agent state to the market's agents (providers join mid-episode
// under provider churn).
func (e *Env) grow() {
	for a := len(e.acc); a < e.m.NumAgents(); a++ {
		id := market.AgentID(a)
		e.acc = append(e.acc, 0)
		e.lastW = append(e.lastW, e.m.WealthUSD(id))
		e.gone = append(e.gone, e.m.Role(id) == scheme.RoleSystem)
		d := metrics.NewDifferentialSharpe(e.s.Env.Reward.Eta)
		dd := metrics.NewDifferentialDownside(e.s.Env.Reward.Eta)
		e.dsr = append(e.dsr, d)
		e.ddr = append(e.ddr, dd)
	}
}

// fillExo copies the world's current state into the market's exogenous input, with an
// EWMA forecast of every location's electricity price.
func (e *Env) fillExo() {
	w := e.world
	e.exo.PriceUSD = [market.NumAssets]float64{w.USDCUSD(), w.ETHUSD(), w.HIVEUSD()}
	l2 := &e.s.World.Gas.L2
	e.exo.Fees = market.FeeMarket{
		L2BaseFee: sat64(w.L2BaseFeeWei()), PriorityFee: sat64(w.L2PriorityFeeWei()),
		L1BaseFee: sat64(w.L1BaseFeeWei()), BlobBaseFee: sat64(w.BlobBaseFeeWei()),
		BaseFeeScalar: int64(l2.BaseFeeScalar), BlobBaseFeeScalar: int64(l2.BlobBaseFeeScalar),
	}
	h := e.s.Env.Forecast.HorizonTicks
	first := len(w.Columns()) - w.NumLocations()
	for i := 0; i < w.NumLocations(); i++ {
		e.exo.Elec[i] = w.ElecUSDPerKWh(i)
		f := e.ewma.ForecastRing(w.Window(first+i), h, 0.9)
		e.exo.ElecForecast[i], e.fcSD[i] = f.Mean, f.SD
		if math.IsNaN(f.Mean) {
			e.exo.ElecForecast[i], e.fcSD[i] = e.exo.Elec[i], 0
		}
	}
}

func sat64(x uint64) int64 {
	if x > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(x)
}

func resizeF(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// Step applies the actions (acts[i] answers entry i of the last batch; entries without
// a decision ignore theirs) and runs the market until some agent must act again, or the
// episode ends. A discrete action that the entry's mask rules out is passed on as it
// decodes and refused by the market (the agent sees the refusal in its next
// observation's last-error feature).
func (e *Env) Step(acts []Action) (*Batch, error) {
	if e.done {
		return nil, ErrDone
	}
	b := &e.batch
	if len(acts) != b.Len() {
		return nil, fmt.Errorf("env: %d actions for a batch of %d", len(acts), b.Len())
	}
	e.resp = e.resp[:0]
	for i := range b.Agents {
		d := &b.Decisions[i]
		if d.Kind == 0 {
			continue
		}
		if acts[i].Structured {
			e.resp = append(e.resp, acts[i].Response)
		} else {
			r, _ := e.decode(d, int(acts[i].Index), acts[i].Price, e.counterBase(d))
			e.resp = append(e.resp, r)
		}
	}
	if err := e.m.Apply(e.resp); err != nil {
		return nil, err
	}
	e.batch.reset(e.m.Tick())
	e.gstate.tick = -1 // the answers changed the market: a new batch, new market features
	if err := e.advance(); err != nil {
		return nil, err
	}
	return &e.batch, nil
}

// advance runs the market until a round of decisions is posed or the episode ends, and
// builds the batch.
func (e *Env) advance() error {
	for {
		for _, a := range e.m.Departed() {
			if !e.gone[a] {
				// Its last reward: from the last mark to its wealth as it leaves.
				e.accrueOne(int(a), e.m.MarkUSD(a))
				e.gone[a] = true
				e.entry(a, nil, true, false)
			}
		}
		ds := e.m.Decisions()
		if len(ds) > 0 {
			for i := range ds {
				e.entry(ds[i].Agent, &ds[i], false, false)
			}
			e.batch.Tick = e.m.Tick()
			return nil
		}
		if err := e.m.EndTick(); err != nil {
			return err
		}
		e.accrue()
		e.mkt.update(e.m)
		last := e.m.Tick()+1 >= int64(e.s.Env.EpisodeTicks)
		if !last && e.stop != nil && e.stop() {
			last, e.intr = true, true
		}
		if last {
			e.batch.Tick = e.m.Tick()
			for a := range e.acc {
				if !e.gone[a] {
					e.entry(market.AgentID(a), nil, false, true)
				}
			}
			e.batch.Done = true
			e.done = true
			return nil
		}
		e.world.Step()
		e.fillExo()
		if err := e.m.BeginTick(&e.exo); err != nil {
			return err
		}
		e.grow()
	}
}

// accrue adds every agent's reward of the tick that just ended to what it has accrued
// since its last decision.
func (e *Env) accrue() {
	for a := range e.acc {
		if !e.gone[a] {
			e.accrueOne(a, e.m.WealthUSD(market.AgentID(a)))
		}
	}
}

// accrueOne adds agent a's reward for its wealth moving from the last mark to w.
func (e *Env) accrueOne(a int, w float64) {
	rc := &e.s.Env.Reward
	prev := e.lastW[a]
	e.lastW[a] = w
	var r float64
	switch rc.Kind {
	case RewardWealthChange:
		r = w - prev
	case RewardLogReturn:
		if w > 0 && prev > 0 {
			r = math.Log(w / prev)
		}
	case RewardDSR:
		if prev > 0 {
			r = e.dsr[a].Update(w/prev - 1)
		}
	case RewardDDR:
		if prev > 0 {
			r = e.ddr[a].Update(w/prev - 1)
		}
	}
	r *= rc.Scale
	if c := rc.Clip; c > 0 {
		r = math.Max(-c, math.Min(c, r))
	}
	if math.IsNaN(r) {
		r = 0
	}
	e.acc[a] += r
}

// entry appends one entry to the batch: its observation, mask and accrued reward.
func (e *Env) entry(a market.AgentID, d *market.Decision, terminated, truncated bool) {
	b := &e.batch
	b.Agents = append(b.Agents, a)
	if d != nil {
		b.Decisions = append(b.Decisions, *d)
	} else {
		b.Decisions = append(b.Decisions, market.Decision{Agent: a, Role: e.m.Role(a), Thread: -1, Job: -1})
	}
	b.Rewards = append(b.Rewards, e.acc[a])
	e.acc[a] = 0
	b.Terminated = append(b.Terminated, terminated)
	b.Truncated = append(b.Truncated, truncated)
	if e.noEnc {
		return
	}
	n := len(b.Obs)
	b.Obs = growF32(b.Obs, n+ObsDim)
	e.encode(&b.Decisions[len(b.Decisions)-1], b.Obs[n:n+ObsDim])
	k := len(b.Masks)
	b.Masks = growBool(b.Masks, k+e.nAct)
	e.mask(&b.Decisions[len(b.Decisions)-1], b.Masks[k:k+e.nAct])
	if e.withState {
		n := len(b.State)
		b.State = growF32(b.State, n+StateDim)
		e.encodeState(&b.Decisions[len(b.Decisions)-1], b.State[n:n+StateDim])
	}
}

func growF32(s []float32, n int) []float32 {
	if cap(s) < n {
		t := make([]float32, n, 2*n)
		copy(t, s)
		return t
	}
	return s[:n]
}

func growBool(s []bool, n int) []bool {
	if cap(s) < n {
		t := make([]bool, n, 2*n)
		copy(t, s)
		return t
	}
	return s[:n]
}
