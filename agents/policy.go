package agents

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/hivegym/hivegym/agents/dsr"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// Obs is what a Policy acts on: the decision points of the agents of one policy group
// at one step, gathered from one or several environments (a vectorized env), so that a
// group makes one forward pass per step whatever the number of environments (DESIGN.md,
// "Policies"). Row i is entry Entry[i] of environment Env[i]'s batch. Vec and Masks are
// empty when the environments do not encode observations (env.Env.SetEncoding(false)).
//
// An Obs is reused step after step: Reset empties it and Add appends rows, growing its
// slices to the largest step seen.
type Obs struct {
	// N is the number of rows.
	N int
	// ObsDim and NumActions are the sizes of one observation row and one mask row.
	ObsDim, NumActions int
	// Vec holds N rows of ObsDim features, Masks N rows of NumActions legal-action flags.
	Vec   []float32
	Masks []bool
	// State holds N rows of env.StateDim features when the envs fill them (env.SetState:
	// a centralized critic's input), else nothing.
	State []float32
	// Decisions are the structured decision points, for policies that read the
	// (message, context) instead of the vector.
	Decisions []market.Decision
	// Envs are the rows' environments (read-only use: market views), EnvIndex their
	// index in the vectorized env, Entry the row's index in its env's batch.
	Envs     []*env.Env
	EnvIndex []int
	Entry    []int
}

// Reset empties the batch for sizes obsDim and numActions.
func (o *Obs) Reset(obsDim, numActions int) {
	o.N, o.ObsDim, o.NumActions = 0, obsDim, numActions
	o.Vec, o.Masks, o.State, o.Decisions = o.Vec[:0], o.Masks[:0], o.State[:0], o.Decisions[:0]
	o.Envs, o.EnvIndex, o.Entry = o.Envs[:0], o.EnvIndex[:0], o.Entry[:0]
}

// Add appends entry i of batch b from environment e (index k of its vectorized env).
func (o *Obs) Add(e *env.Env, k int, b *env.Batch, i int) {
	o.N++
	if len(b.Obs) > 0 {
		o.Vec = append(o.Vec, b.Observation(i)...)
		o.Masks = append(o.Masks, b.Mask(i, o.NumActions)...)
	}
	o.State = append(o.State, b.StateOf(i)...)
	o.Decisions = append(o.Decisions, b.Decisions[i])
	o.Envs = append(o.Envs, e)
	o.EnvIndex = append(o.EnvIndex, k)
	o.Entry = append(o.Entry, i)
}

// Encoded reports whether the rows carry observation vectors and masks.
func (o *Obs) Encoded() bool { return o.N > 0 && len(o.Vec) == o.N*o.ObsDim }

// States returns the rows' state vectors, or nil unless every row has one.
func (o *Obs) States() []float32 {
	if o.N == 0 || len(o.State) != o.N*env.StateDim {
		return nil
	}
	return o.State
}

// Policy answers the decisions of one policy group: Act writes out[i] for row i of o
// (len(out) == o.N), drawing any randomness from r only, so the same rows and the same
// stream give the same actions. It acts on the whole batch at once (DESIGN.md:
// Act(obs Batch, rng) Actions). Implementations are not safe for concurrent use.
type Policy interface {
	Act(o *Obs, r *rand.Rand, out []env.Action) error
}

// EpisodeStarter is implemented by policies that keep state per agent and episode
// (scripted strategies that learn within an episode, recurrent traders): the runner
// calls BeginEpisode when environment k starts an episode under seed.
type EpisodeStarter interface {
	BeginEpisode(k int, seed uint64)
}

// ErrNotEncoded reports a policy that needs observation vectors acting on rows without
// them.
var ErrNotEncoded = errors.New("agents: the policy needs observation vectors and masks (env encoding is off)")

// PPOPolicy acts with a PPO learner's actor: one forward pass for the whole batch. In
// training mode (Greedy false) it samples from the masked categorical distribution and
// keeps, for the batch just acted on, the actions, their log-probabilities and the
// critic's values, which the trainer stores in the group's rollout buffer. With Greedy
// it takes the most probable legal action and runs no critic pass. A learner with a
// centralized critic reads the rows' state vectors (Obs.States); without them (an
// evaluation that does not fill them) it runs no critic pass and the values are 0.
type PPOPolicy struct {
	Learner *ppo.Learner
	Greedy  bool
	// After Act: the chosen action, its log-probability and the state value of each row
	// (Logps and Values only when Greedy is false).
	Actions []int
	Logps   []float32
	Values  []float32
}

// Act implements Policy.
func (p *PPOPolicy) Act(o *Obs, r *rand.Rand, out []env.Action) error {
	if len(out) != o.N {
		return fmt.Errorf("agents: %d actions for %d rows", len(out), o.N)
	}
	if o.N == 0 {
		return nil
	}
	if !o.Encoded() {
		return ErrNotEncoded
	}
	p.Actions = resize(p.Actions, o.N)
	noFatalWait(o)
	var err error
	if p.Greedy {
		err = p.Learner.Greedy(o.Vec, o.Masks, o.N, p.Actions)
	} else {
		p.Logps, p.Values = resize(p.Logps, o.N), resize(p.Values, o.N)
		values, state := p.Values, []float32(nil)
		if p.Learner.StateDim() > 0 {
			if state = o.States(); state == nil {
				clear(p.Values)
				values = nil
			}
		}
		err = p.Learner.ActState(o.Vec, state, o.Masks, o.N, r, p.Actions, p.Logps, values)
	}
	if err != nil {
		return err
	}
	for i, a := range p.Actions {
		out[i] = env.Action{Index: int32(a)}
	}
	return nil
}

// noFatalWait rules out the answers to a negotiation message that cannot keep the thread
// alive, when the agent has another:
//
//   - waiting, when the next tick's deadline check (which runs before the postponed
//     decision comes back) would find the offer deadline or the idle timeout reached.
//     Waiting then means rejecting, with the same outcome and the same reward, so a
//     policy that keeps both learns nothing that tells them apart, and a greedy one that
//     prefers waiting in a state waits until the thread times out (what trained PPO
//     clients did: about 2,000 timeouts an episode);
//   - on the last tick before the offer deadline, any offer as well: a counter-offer
//     (and a provider's agreement, which is an offer of the client's price) reaches the
//     other side on the tick the deadline check ends the thread, so it cannot be
//     answered. What is left is to accept (a client) or reject. Trained PPO clients that
//     were only kept from waiting countered there instead: about 300 timeouts an episode.
//
// The rows' masks are changed in place, so the rollout buffer stores what the policy
// chose from.
func noFatalWait(o *Obs) {
	k := o.NumActions
	for j := 0; j < o.N; j++ {
		d := &o.Decisions[j]
		mask := o.Masks[j*k : (j+1)*k]
		if d.Kind != market.DecideRespond {
			continue
		}
		m := o.Envs[j].Market()
		th, ok := m.Thread(d.Thread)
		if !ok || th.State >= scheme.StateRunning {
			continue
		}
		next, idle := m.Tick()+1, m.SchemeConfig().IdleTimeout
		waitFatal := mask[env.ActWait] && (next >= th.Terms.OfferDeadline || (idle > 0 && next-th.LastActivity >= idle))
		last := next >= th.Terms.OfferDeadline && th.State <= scheme.StateCountered
		if !waitFatal && !last {
			continue
		}
		futile := func(a int) bool { return a == env.ActWait }
		if last {
			nPrice := o.Envs[j].NumPriceActions()
			provider := d.Role == scheme.RoleProvider
			futile = func(a int) bool {
				return a == env.ActWait || (a >= env.ActPrice0 && a < env.ActPrice0+nPrice) || (provider && a == env.ActAccept)
			}
		}
		other := false
		for a, ok := range mask {
			other = other || (ok && !futile(a))
		}
		if other {
			for a := range mask {
				if futile(a) {
					mask[a] = false
				}
			}
		}
	}
}

// RandomPolicy is the cost-aware random-legal baseline over the discrete action space
// (env.RandomLegal: uniform among the legal actions that lose no money). It draws from
// the stream Act is given.
type RandomPolicy struct {
	rl   env.RandomLegal
	sub  env.Batch
	outs []env.Action
}

// NewRandomPolicy returns the honest random-legal policy with a 20 USD ETH reserve.
func NewRandomPolicy() *RandomPolicy {
	return &RandomPolicy{rl: env.RandomLegal{Honest: true, ETHReserveUSD: 20}}
}

// Act implements Policy.
func (p *RandomPolicy) Act(o *Obs, r *rand.Rand, out []env.Action) error {
	if len(out) != o.N {
		return fmt.Errorf("agents: %d actions for %d rows", len(out), o.N)
	}
	if o.N == 0 {
		return nil
	}
	if !o.Encoded() {
		return ErrNotEncoded
	}
	p.rl.R = r
	k := o.NumActions
	// Rows come grouped by environment; act on each environment's run of rows at once.
	for lo := 0; lo < o.N; {
		hi := lo + 1
		for hi < o.N && o.Envs[hi] == o.Envs[lo] {
			hi++
		}
		s := &p.sub
		s.Agents, s.Decisions = s.Agents[:0], o.Decisions[lo:hi]
		for i := lo; i < hi; i++ {
			s.Agents = append(s.Agents, o.Decisions[i].Agent)
		}
		s.Masks = o.Masks[lo*k : hi*k]
		p.outs = resize(p.outs, hi-lo)
		p.rl.Act(o.Envs[lo], s, p.outs)
		copy(out[lo:hi], p.outs)
		lo = hi
	}
	return nil
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// DSRPolicy is a dsr group: a differential-Sharpe learner (agents/dsr, Moody and
// Saffell) decides, per DSRSettings.Decides, either the agents' treasury, with a
// scripted strategy negotiating, or how hard that strategy negotiates.
//
// Treasury (the default). At each treasury decision of an agent the trader sees r_t,
// the ETH price's simple return since the agent's previous treasury decision, and
// decides F_t in [-1, 1]; the agent then holds the fraction w_t = MaxShare (F_t + 1)/2
// of its liquid wealth (USDC and ETH, in USD) in ETH, never less than the gas reserve,
// and swaps toward it through the pool when the gap is worth more than 5% of the liquid
// wealth. The trading return credited to the decision is the long-only allocation's,
//
//	R_t = w_{t-1} r_t - δ |w_t - w_{t-1}|,
//
// with ∂R_t/∂F_t = -δ sgn(F_t - F_{t-1}) MaxShare/2 and ∂R_t/∂F_{t-1} = (r_t + δ sgn(F_t -
// F_{t-1})) MaxShare/2 passed to dsr.Learner.Feedback (δ is the dsr config's cost).
//
// Pricing. Every PeriodTicks, at an agent's first negotiation decision of the period,
// the learner (the score-function rule, dsr.GradientScore) is credited the agent's
// return over the previous period, its wealth marked to market (WealthUSD plus the book
// value of its agreed contracts, market.Booked), and decides F_t from the observation
// features of that decision that Settings.Features names, its own lagged returns and its
// previous decision. For the
// period the group's strategy negotiates from a reservation shifted by the factor
// exp(MaxMarkup F_t) (Scripted.DecideWith): F_t = 0 is the strategy itself, F_t > 0
// asks more (a provider) or bids less (a client). Treasury decisions keep the gas
// reserve (TopUpGas).
//
// With Learn false (evaluation) the weights stay fixed and the decisions are greedy.
type DSRPolicy struct {
	Learner *dsr.Learner
	Learn   bool
	// Settings are the group's dsr settings (what it decides).
	Settings DSRSettings
	// Decided receives, with Learn false, every reservation factor a pricing group
	// decides, in order (evaluation reports their distribution and empties it).
	Decided []PricedDecision
	// Negotiation answers every non-treasury decision.
	Negotiation *Scripted
	// MaxShare is the largest fraction of liquid wealth held in ETH (0.5).
	MaxShare float64
	last     [][]float64 // per env, per agent: ETH price at its last treasury decision

	// Pricing state (dsrpricing.go).
	prices   [][]priceState // per env, per agent
	booked   [][]float64    // per env: market.Booked at bookedAt
	bookedAt []int64
	groups   []envGroup // per env: the group exploration (explore: group)
	featIdx  []int      // Settings.Features as env.FeatureNames indices
	feats    []float64
}

// NewDSRPolicy returns the policy of dsr group g with a new learner of s.Learner()
// seeded by seed.
func NewDSRPolicy(g *GroupConfig, s DSRSettings, seed uint64) (*DSRPolicy, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("agents: group %s: %w", g.Name, err)
	}
	l, err := dsr.New(s.Learner(), seed)
	if err != nil {
		return nil, fmt.Errorf("agents: group %s: %w", g.Name, err)
	}
	sc, err := NewScripted(g.Name, g.StrategyName(), g.Params, g.Opening)
	if err != nil {
		return nil, err
	}
	return &DSRPolicy{Learner: l, Settings: s, Negotiation: sc, MaxShare: 0.5, featIdx: s.featureIndex()}, nil
}

// BeginEpisode implements EpisodeStarter.
func (p *DSRPolicy) BeginEpisode(k int, seed uint64) {
	p.Negotiation.BeginEpisode(k, seed)
	for len(p.last) <= k {
		p.last = append(p.last, nil)
	}
	p.last[k] = p.last[k][:0]
	for len(p.prices) <= k {
		p.prices = append(p.prices, nil)
	}
	p.forgetPrices(k)
}

// Act implements Policy.
func (p *DSRPolicy) Act(o *Obs, r *rand.Rand, out []env.Action) error {
	if len(out) != o.N {
		return fmt.Errorf("agents: %d actions for %d rows", len(out), o.N)
	}
	pricing := p.Settings.Pricing()
	for i := 0; i < o.N; i++ {
		d := &o.Decisions[i]
		out[i] = env.Action{Structured: true}
		if d.Kind == 0 {
			continue
		}
		m := o.Envs[i].Market()
		if d.Kind != market.DecideTreasury || pricing {
			st, err := p.Negotiation.strategyOf(o.EnvIndex[i], d.Agent)
			if err != nil {
				return err
			}
			f := 1.0
			if pricing && Negotiating(d) {
				if f, err = p.priceFactor(o, i, r); err != nil {
					return err
				}
			}
			out[i].Response = p.Negotiation.DecideWith(m, d, st, f)
			continue
		}
		resp, err := p.treasury(o.EnvIndex[i], m, d)
		if err != nil {
			return err
		}
		out[i].Response = resp
	}
	return nil
}

func (p *DSRPolicy) treasury(k int, m *market.Market, d *market.Decision) (market.Response, error) {
	key := k*(1<<15) + int(d.Agent)
	if key >= dsr.MaxAgentKey {
		return wait, fmt.Errorf("agents: dsr agent key %d out of range (too many environments)", key)
	}
	if k >= len(p.last) {
		p.BeginEpisode(k, 0)
	}
	row := p.last[k]
	for len(row) <= int(d.Agent) {
		row = append(row, 0)
	}
	p.last[k] = row
	px := m.PriceUSD(market.ETH)
	ret := 0.0
	if prev := row[d.Agent]; prev > 0 {
		ret = px/prev - 1
	}
	row[d.Agent] = px
	var f float64
	if p.Learn {
		prevF := p.Learner.Position(key)
		var err error
		if f, err = p.Learner.Decide(key, ret, nil); err != nil {
			return wait, err
		}
		h, delta := p.MaxShare/2, p.Learner.Config().Cost
		s := 0.0
		switch {
		case f > prevF:
			s = 1
		case f < prevF:
			s = -1
		}
		rt := h*(prevF+1)*ret - delta*h*math.Abs(f-prevF)
		if _, err := p.Learner.Feedback(key, rt, -delta*s*h, (ret+delta*s)*h); err != nil {
			return wait, err
		}
	} else {
		oc, err := p.Learner.Trade(key, ret, nil)
		if err != nil {
			return wait, err
		}
		f = oc.Position
	}
	return p.rebalance(m, d, p.MaxShare*(f+1)/2), nil
}

// rebalance swaps toward holding share w of the agent's liquid wealth in ETH.
func (p *DSRPolicy) rebalance(m *market.Market, d *market.Decision, w float64) market.Response {
	b := m.Wallet(d.Agent)
	usdc := m.UnitUSD(b[market.USDC], scheme.AssetUSDC)
	eth := m.UnitUSD(b[market.ETH], scheme.AssetETH)
	liquid := usdc + eth
	target := math.Max(w*liquid, p.Negotiation.ETHReserveUSD)
	gap := target - eth
	if !(math.Abs(gap) > 0.05*liquid) {
		return wait
	}
	var r market.Response
	if gap > 0 {
		r.Swap = market.Swap{From: market.USDC, To: market.ETH, Amount: min(m.USDUnits(gap, scheme.AssetUSDC), b[market.USDC])}
	} else {
		r.Swap = market.Swap{From: market.ETH, To: market.USDC, Amount: min(m.USDUnits(-gap, scheme.AssetETH), b[market.ETH])}
	}
	if r.Swap.Amount <= 0 || m.Check(d, &r) != nil {
		return wait
	}
	return r
}
