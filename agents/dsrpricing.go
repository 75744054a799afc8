package agents

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/hivegym/hivegym/agents/dsr"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/market"
)

// What a dsr group's learner decides (DSRSettings.Decides).
const (
	DSRDecidesTreasury = "treasury"
	DSRDecidesPricing  = "pricing"
)

// Defaults of the pricing learner's zero-valued settings.
const (
	DefaultDSRPeriodTicks = 12
	DefaultDSRMaxMarkup   = 0.5
)

// DSRSettings configure every dsr group (training.dsr): the learner's hyperparameters
// and what it decides.
type DSRSettings struct {
	dsr.Config `yaml:",inline"`
	// Decides is what the learner decides: DSRDecidesTreasury (or empty; the default),
	// the agents' ETH share at their treasury decisions, negotiating with the group's
	// strategy; or DSRDecidesPricing, how hard each agent negotiates: the group's
	// strategy with its reservation shifted by a factor exp(MaxMarkup F), F in [-1, 1]
	// the learner's decision, held for PeriodTicks (DSRPolicy).
	Decides string `yaml:"decides" json:"decides,omitempty"`
	// PeriodTicks is how long a pricing decision holds (0: DefaultDSRPeriodTicks).
	PeriodTicks int `yaml:"period_ticks" json:"period_ticks,omitempty"`
	// MaxMarkup bounds the pricing shift: the factor lies in [exp(-MaxMarkup),
	// exp(MaxMarkup)] (0: DefaultDSRMaxMarkup).
	MaxMarkup float64 `yaml:"max_markup" json:"max_markup,omitempty"`
	// Features names the observation features (env.FeatureNames, docs/env.md) the
	// pricing learner reads from the decision that opens a period, besides its previous
	// decision, its lagged returns (Window) and a bias; empty reads none (a learned
	// markup for the period, in the market's state only through the returns).
	Features []string `yaml:"features,omitempty" json:"features,omitempty"`
	// Explore is how the pricing learner explores while training: DSRExploreAgent (or
	// empty; the default) draws each agent's decision on its own and credits it with
	// the D_t of the agent's own return (dsr.Learner.Explore, Feedback);
	// DSRExploreGroup perturbs the weights once per environment and period, every
	// agent of the group deciding with the same perturbation, and credits it with the
	// D_t of the group's summed return (dsr.Learner.Perturb, Credit), so that the
	// learner is paid for what the group gains by moving together rather than for an
	// agent undercutting its peers.
	Explore string `yaml:"explore" json:"explore,omitempty"`
}

// Exploration of a dsr pricing group (DSRSettings.Explore).
const (
	DSRExploreAgent = "agent"
	DSRExploreGroup = "group"
)

// Pricing reports whether the learner decides prices.
func (s DSRSettings) Pricing() bool { return s.Decides == DSRDecidesPricing }

// Learner returns the dsr.Config of the group's learner: for pricing, the score-function
// rule (the return of a price has no derivative the learner could be told) and the
// features as its extra inputs.
func (s DSRSettings) Learner() dsr.Config {
	c := s.Config
	if s.Pricing() {
		c.Gradient, c.Extra = dsr.GradientScore, len(s.Features)
	}
	return c
}

// featureIndex returns the env.FeatureNames index of each feature (-1 for an unknown
// name).
func (s DSRSettings) featureIndex() []int {
	out := make([]int, len(s.Features))
	for i, name := range s.Features {
		out[i] = -1
		for j, n := range env.FeatureNames {
			if n == name {
				out[i] = j
			}
		}
	}
	return out
}

// Validate reports every invalid setting, with paths relative to training.dsr.
func (s DSRSettings) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) { errs = append(errs, fieldpath.Errorf(path, format, args...)) }
	switch s.Decides {
	case "", DSRDecidesTreasury:
		if s.Extra != 0 {
			bad("extra", "must be 0 for the treasury trader, got %d", s.Extra)
		}
		if len(s.Features) > 0 {
			bad("features", "are for decides: pricing (the treasury trader reads its lagged returns)")
		}
		if s.Gradient == dsr.GradientScore {
			bad("gradient", "the treasury trader learns with %s (it knows the derivative of its trading return); %s is for decides: pricing", dsr.GradientRRL, dsr.GradientScore)
		}
	case DSRDecidesPricing:
		if s.Extra != 0 {
			bad("extra", "must be 0 with decides: pricing (the learner reads the features listed in features), got %d", s.Extra)
		}
		seen := map[string]bool{}
		for i, j := range s.featureIndex() {
			name := s.Features[i]
			switch {
			case j < 0:
				bad(fmt.Sprintf("features[%d]", i), "unknown observation feature %q (docs/env.md names them: free_gpu, running, market_rel, ...)", name)
			case seen[name]:
				bad(fmt.Sprintf("features[%d]", i), "%q is listed twice", name)
			}
			seen[name] = true
		}
		if s.Gradient == dsr.GradientRRL {
			bad("gradient", "must be %s (or unset) with decides: pricing: the return of a price has no derivative to follow", dsr.GradientScore)
		}
	default:
		bad("decides", "must be %s or %s, got %q", DSRDecidesTreasury, DSRDecidesPricing, s.Decides)
	}
	if s.PeriodTicks < 0 || s.PeriodTicks > 1<<20 {
		bad("period_ticks", "must be in [0, %d] (0: %d), got %d", 1<<20, DefaultDSRPeriodTicks, s.PeriodTicks)
	}
	switch s.Explore {
	case "", DSRExploreAgent:
	case DSRExploreGroup:
		if !s.Pricing() {
			bad("explore", "%s exploration is for decides: pricing", DSRExploreGroup)
		}
	default:
		bad("explore", "must be %s or %s, got %q", DSRExploreAgent, DSRExploreGroup, s.Explore)
	}
	if !(s.MaxMarkup >= 0 && s.MaxMarkup <= 5) {
		bad("max_markup", "must be in [0, 5] (0: %g), got %g", DefaultDSRMaxMarkup, s.MaxMarkup)
	}
	return errors.Join(append(errs, s.Config.Validate())...)
}

func (s DSRSettings) periodTicks() int64 {
	if s.PeriodTicks > 0 {
		return int64(s.PeriodTicks)
	}
	return DefaultDSRPeriodTicks
}

func (s DSRSettings) maxMarkup() float64 {
	if s.MaxMarkup > 0 {
		return s.MaxMarkup
	}
	return DefaultDSRMaxMarkup
}

// PricedDecision is one pricing decision in evaluation: the environment (its index in
// the vectorized env) and the reservation factor.
type PricedDecision struct {
	Env    int
	Factor float64
}

// priceState is one agent's pricing decision in flight.
type priceState struct {
	active bool    // a decision is held (and waits for its return)
	period int64   // the period it was taken in (tick / PeriodTicks)
	value  float64 // the agent's marked-to-market wealth when it was taken, USD
	factor float64 // the reservation factor exp(MaxMarkup F)
}

// priceFactor returns the reservation factor of row i's agent for the current period.
// The first negotiation decision of an agent in a new period closes the previous
// period (its return is the change of the agent's wealth marked to market: WealthUSD
// plus market.Booked, so a deal counts when it is struck, not when it settles hours
// later) and takes a new decision from the learner; later decisions of the period reuse
// it.
func (p *DSRPolicy) priceFactor(o *Obs, i int, r *rand.Rand) (float64, error) {
	k, d := o.EnvIndex[i], &o.Decisions[i]
	key := k*(1<<15) + int(d.Agent)
	if key >= dsr.MaxAgentKey {
		return 1, fmt.Errorf("agents: dsr agent key %d out of range (too many environments)", key)
	}
	if k >= len(p.prices) {
		p.BeginEpisode(k, 0)
	}
	row := p.prices[k]
	for len(row) <= int(d.Agent) {
		row = append(row, priceState{})
	}
	p.prices[k] = row
	ps := &row[d.Agent]
	m := o.Envs[i].Market()
	per := m.Tick() / p.Settings.periodTicks()
	if ps.active && ps.period == per {
		return ps.factor, nil
	}
	group := p.Learn && p.Settings.Explore == DSRExploreGroup
	var theta []float64
	if group {
		var err error
		if theta, err = p.groupPeriod(k, m, per, d.Agent, r); err != nil {
			return 1, err
		}
	}
	v := m.WealthUSD(d.Agent) + p.bookedOf(k, m)[d.Agent]
	ret := 0.0
	if ps.active && ps.value > 0 && !math.IsNaN(v) && !math.IsInf(v, 0) {
		ret = v/ps.value - 1
	}
	if !ps.active {
		// A decision this policy did not take waits no more: a previous episode's, or
		// one a restored learner's checkpoint kept.
		p.Learner.Forget(key)
	} else {
		var err error
		if p.Learn && !group {
			_, err = p.Learner.Feedback(key, ret, 0, 0)
		} else {
			_, err = p.Learner.Observe(key, ret)
		}
		if err != nil {
			return 1, err
		}
	}
	feats := p.feats[:0]
	for _, f := range p.featIdx {
		x := 0.0
		if o.Encoded() {
			x = float64(o.Vec[i*o.ObsDim+f])
		}
		feats = append(feats, x)
	}
	p.feats = feats
	var f float64
	var err error
	switch {
	case group:
		f, err = p.Learner.DecideAt(key, ret, feats, theta)
	case p.Learn:
		f, err = p.Learner.Explore(key, ret, feats, r)
	default:
		f, err = p.Learner.Decide(key, ret, feats)
	}
	if err != nil {
		return 1, err
	}
	*ps = priceState{active: true, period: per, value: v, factor: math.Exp(p.Settings.maxMarkup() * f)}
	if !p.Learn {
		p.Decided = append(p.Decided, PricedDecision{Env: k, Factor: ps.factor})
	}
	return ps.factor, nil
}

// envGroup is one environment's group exploration (explore: group): the perturbed
// weights of the current period and the members' marked-to-market values at its start.
type envGroup struct {
	active  bool
	period  int64
	theta   []float64
	members []market.AgentID
	values  []float64
}

// groupPeriod returns the perturbed weights environment k's agents decide with in
// period per. The first call of a period closes the previous one, crediting the
// learner with the group's return (the members' summed marked-to-market wealth, over
// the members as of the period's start), and draws the next perturbation; the members
// are then the agents this policy has seen in the episode.
func (p *DSRPolicy) groupPeriod(k int, m *market.Market, per int64, self market.AgentID, r *rand.Rand) ([]float64, error) {
	for len(p.groups) <= k {
		p.groups = append(p.groups, envGroup{})
	}
	g := &p.groups[k]
	if g.active && g.period == per {
		return g.theta, nil
	}
	booked := p.bookedOf(k, m)
	value := func(a market.AgentID) float64 { return m.WealthUSD(a) + booked[a] }
	if g.active {
		var now, before float64
		for j, a := range g.members {
			now += value(a)
			before += g.values[j]
		}
		ret := 0.0
		if before > 0 && !math.IsNaN(now) && !math.IsInf(now, 0) {
			ret = now/before - 1
		}
		if _, err := p.Learner.Credit(k, ret); err != nil {
			return nil, err
		}
	} else {
		p.Learner.ForgetGroup(k) // a previous episode's, or a restored checkpoint's
	}
	g.members, g.values = g.members[:0], g.values[:0]
	for a := range p.prices[k] {
		if id := market.AgentID(a); p.prices[k][a].active || id == self {
			g.members = append(g.members, id)
			g.values = append(g.values, value(id))
		}
	}
	var err error
	if g.theta, err = p.Learner.Perturb(k, r, g.theta); err != nil {
		return nil, err
	}
	g.active, g.period = true, per
	return g.theta, nil
}

// bookedOf returns market.Booked of environment k, computed once per tick.
func (p *DSRPolicy) bookedOf(k int, m *market.Market) []float64 {
	for len(p.booked) <= k {
		p.booked = append(p.booked, nil)
		p.bookedAt = append(p.bookedAt, -1)
	}
	if p.bookedAt[k] != m.Tick() {
		p.booked[k] = m.Booked(p.booked[k])
		p.bookedAt[k] = m.Tick()
	}
	return p.booked[k]
}

// forgetPrices drops environment k's pricing decisions at the start of an episode (the
// learner forgets each agent's at its first decision of the episode).
func (p *DSRPolicy) forgetPrices(k int) {
	if k < len(p.prices) {
		p.prices[k] = p.prices[k][:0]
	}
	if k < len(p.bookedAt) {
		p.bookedAt[k] = -1
	}
	if k < len(p.groups) {
		p.groups[k].active = false
	}
}
