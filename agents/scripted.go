package agents

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/hivegym/hivegym/agents/strategy"
	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// Default openings of scripted agents, as multiples of their reservation price.
const (
	DefaultBuyerOpening  = 0.5 // a client bids from half its value per hour
	DefaultSellerOpening = 2.0 // a provider asks up to twice its cost per hour
)

// dummyRand is a fixed stream for validating the stochastic strategies' parameters.
func dummyRand() *rand.Rand { return rand.New(rand.NewPCG(0, 0)) }

// Scripted is a policy group of scripted agents: each agent runs its own instance of a
// negotiation strategy of package strategy (stateful strategies learn per agent within
// an episode), and the adapter does what the strategies leave to the environment:
//
//   - it builds the strategy's view (strategy.Negotiation) from the decision and the
//     market's read-only views: prices in USD per hour, the thread's offers of both sides
//     (market.History), rounds, time since the thread opened and its offer deadline, the
//     reservation (a provider's cost per hour, ProviderCost; a client's value per hour,
//     capped by its budget in the payment asset over the job's hours) and the opening
//     (Opening x the reservation);
//   - it turns the strategy's Decision into a market.Response: a client's Accept is an
//     accept (with the escrow lock, when the wallet can pay it and the gas), a
//     provider's Accept is CoopHive's identity offer (the client's price offered back),
//     a Counter is an offer at the price converted to base units of the thread's asset
//     and floored at one unit, Reject terminates the thread, Wait waits;
//   - it runs the steps that are not negotiation: a client opens each job with the
//     strategy's opening price (or drops a job it cannot afford at all), retries its
//     escrow lock after collateral_missing when it can pay; a provider starts a job the
//     client accepted when it has the capacity, the job fits before its deadline and the
//     escrow is on chain (collateral_missing when it is not), and rejects what it cannot
//     run; treasury decisions hold, unless the ETH for gas is worth less than half of
//     ETHReserveUSD, when they buy it back up to the reserve with USDC (or HIVE).
//
// Stateful strategies (strategy.Observer) are told every incoming price after they
// decide on it and every deal they close.
type Scripted struct {
	// Group names the group (it names the agents' random streams).
	Group string
	// Name and Params select the strategy (strategy.ByName).
	Name   string
	Params map[string]float64
	// Opening is the opening multiple of the reservation; 0 takes DefaultBuyerOpening
	// or DefaultSellerOpening.
	Opening float64
	// ETHReserveUSD is the gas reserve the treasury keeps (20 USD by default).
	ETHReserveUSD float64

	// aggr, when not 0 or 1, shifts the reservation of the decision being answered
	// (DecideWith).
	aggr float64

	inst   [][]strategy.Strategy // per env, per agent id
	seeds  []uint64
	hist   [market.HistoryLen]market.PricePoint
	mine   []float64
	theirs []float64
}

// NewScripted returns a scripted group running strategy name with params; it checks
// them by building one instance.
func NewScripted(group, name string, params map[string]float64, opening float64) (*Scripted, error) {
	if _, err := strategy.ByName(name, strategy.Params{Values: params, Rand: dummyRand()}); err != nil {
		return nil, fmt.Errorf("agents: group %s: %w", group, err)
	}
	return &Scripted{Group: group, Name: name, Params: params, Opening: opening, ETHReserveUSD: 20}, nil
}

// BeginEpisode implements EpisodeStarter: environment k's agents start afresh, with
// random streams derived from the episode's seed.
func (s *Scripted) BeginEpisode(k int, seed uint64) {
	for len(s.inst) <= k {
		s.inst = append(s.inst, nil)
		s.seeds = append(s.seeds, 0)
	}
	clear(s.inst[k])
	s.inst[k] = s.inst[k][:0]
	s.seeds[k] = seed
}

// strategyOf returns agent a's strategy instance in environment k, made on first use.
func (s *Scripted) strategyOf(k int, a market.AgentID) (strategy.Strategy, error) {
	if k >= len(s.inst) {
		s.BeginEpisode(k, 0)
	}
	row := s.inst[k]
	for len(row) <= int(a) {
		row = append(row, nil)
	}
	s.inst[k] = row
	if row[a] == nil {
		r := rng.New(s.seeds[k], "agents."+s.Group+".strategy."+strconv.Itoa(int(a)))
		st, err := strategy.ByName(s.Name, strategy.Params{Values: s.Params, Rand: r})
		if err != nil {
			return nil, err
		}
		row[a] = st
	}
	return row[a], nil
}

// Act implements Policy: every row gets a structured action.
func (s *Scripted) Act(o *Obs, _ *rand.Rand, out []env.Action) error {
	if len(out) != o.N {
		return fmt.Errorf("agents: %d actions for %d rows", len(out), o.N)
	}
	for i := 0; i < o.N; i++ {
		d := &o.Decisions[i]
		out[i] = env.Action{Structured: true}
		if d.Kind == 0 {
			continue
		}
		st, err := s.strategyOf(o.EnvIndex[i], d.Agent)
		if err != nil {
			return err
		}
		out[i].Response = s.Decide(o.Envs[i].Market(), d, st)
	}
	return nil
}

// ProviderCost returns provider a's cost of running the job of terms t, per hour, as
// strategy.Cost: the power of the job's GPUs and cores (data.CPUWattsPerCore per core)
// at the electricity price of the provider's location, the gas of the provider's
// transactions of a deal (two attestations and the settlement, plus the collateral lock
// when collateral is asked) spread over the job's hours, and the job's share of the
// machine's amortized hardware (the larger of its GPU and core shares). ok is false for
// a client or a job of no duration.
func ProviderCost(m *market.Market, a market.AgentID, t *scheme.Terms) (c strategy.Cost, ok bool) {
	mc, isProv := m.Machine(a)
	if !isProv || t.Duration <= 0 {
		return c, false
	}
	elec, _ := m.Electricity(a)
	watts := float64(t.GPUCount)*mc.GPUPowerW + float64(t.CPUCores)*data.CPUWattsPerCore
	gas := 2*m.GasUSD(market.TxAttestation) + m.GasUSD(market.TxSettlement)
	if t.Collateral > 0 {
		gas += m.GasUSD(market.TxCollateralLock)
	}
	share := 0.0
	if mc.GPUs > 0 {
		share = float64(t.GPUCount) / float64(mc.GPUs)
	}
	share = math.Min(math.Max(share, float64(t.CPUCores)/float64(mc.CPUCores)), 1)
	return strategy.Cost{
		PowerKW: watts / 1000, ElectricityPerKWh: elec, GasPerDeal: gas,
		JobHours: float64(t.Duration) / float64(m.TicksPerHour()),
		Capex:    mc.CapexUSDPerHour * share, LifetimeHours: 1,
	}, true
}

// opening returns the opening price for reservation res on side.
func (s *Scripted) opening(side strategy.Side, res float64) float64 {
	k := s.Opening
	if side == strategy.Buyer {
		if k == 0 {
			k = DefaultBuyerOpening
		}
		return math.Min(k*res, res)
	}
	if k == 0 {
		k = DefaultSellerOpening
	}
	return res + math.Max(k-1, 0)*math.Abs(res)
}

// View builds the strategy's view of decision d (a DecideOpen, or a DecideRespond on an
// offer, a request or a counter-offer) into n, reusing the adapter's slices; ok is false
// when there is no negotiation to view (the thread ended, a state past the
// negotiation, a reservation that cannot be computed).
func (s *Scripted) View(m *market.Market, d *market.Decision, n *strategy.Negotiation) (asset scheme.Asset, ok bool) {
	sc := m.SchemeConfig()
	*n = strategy.Negotiation{MaxRounds: sc.MaxRounds}
	now := m.Tick()
	var terms scheme.Terms
	switch d.Kind {
	case market.DecideOpen:
		terms = m.JobTerms(d.Job, 1)
		n.Side = strategy.Buyer
		n.Deadline = max(terms.OfferDeadline-now, 0)
	case market.DecideRespond:
		th, live := m.Thread(d.Thread)
		if !live || th.State > scheme.StateCountered {
			return 0, false
		}
		terms = th.Terms
		n.Side = strategy.Seller
		if d.Role == scheme.RoleClient {
			n.Side = strategy.Buyer
		}
		opened := m.ThreadOpened(d.Thread)
		n.Round = int(th.Rounds)
		n.Tick = max(now-opened, 0)
		n.Deadline = max(terms.OfferDeadline-opened, 0)
		h := m.History(d.Thread, s.hist[:0])
		s.mine, s.theirs = s.mine[:0], s.theirs[:0]
		for _, p := range h {
			usd := m.UnitUSD(p.Price, terms.Asset)
			if p.FromProvider == (n.Side == strategy.Seller) {
				s.mine = append(s.mine, usd)
			} else {
				s.theirs = append(s.theirs, usd)
			}
		}
		in := m.UnitUSD(d.Incoming.Terms.PricePerHour, terms.Asset)
		if len(s.theirs) == 0 || s.theirs[len(s.theirs)-1] != in {
			s.theirs = append(s.theirs, in)
		}
		n.Mine, n.Theirs = s.mine, s.theirs
	default:
		return 0, false
	}
	if n.Side == strategy.Seller {
		c, ok := ProviderCost(m, d.Agent, &terms)
		if !ok {
			return 0, false
		}
		res, err := c.PerHour()
		if err != nil {
			return 0, false
		}
		n.Reservation = res
	} else {
		spec := m.Job(d.Job)
		hours := spec.Hours(m.TicksPerHour())
		v := m.ClientValueUSD(d.Job)
		bal := m.Wallet(d.Agent)
		budget := m.UnitUSD(bal[market.Asset(terms.Asset)], terms.Asset)
		if !(hours > 0) || math.IsNaN(v) {
			return 0, false
		}
		n.ValuePerHour, n.Budget, n.JobHours = math.Max(v, 0), math.Max(budget, 0), hours
		n.Reservation = math.Min(v, budget/hours)
	}
	if f := s.aggr; f > 0 && f != 1 {
		if n.Side == strategy.Seller {
			n.Reservation += (f - 1) * math.Abs(n.Reservation)
		} else {
			n.ValuePerHour /= f
			n.Reservation = n.Reservation / f
			if n.JobHours > 0 {
				n.Reservation = math.Min(n.Reservation, n.Budget/n.JobHours)
			}
		}
	}
	if math.IsNaN(n.Reservation) || math.IsInf(n.Reservation, 0) {
		return 0, false
	}
	n.Opening = s.opening(n.Side, n.Reservation)
	return terms.Asset, true
}

// units converts a price per hour in USD to base units of asset, at least one.
func units(m *market.Market, usd float64, asset scheme.Asset) int64 {
	if !(usd > 0) {
		return 1
	}
	return max(m.USDUnits(usd, asset), 1)
}

var (
	reject = market.Response{Type: scheme.MsgTerminate, Reason: scheme.ReasonRejected}
	wait   = market.Response{}
)

// DecideWith answers decision d with strategy st negotiating from a shifted
// reservation: a provider's cost per hour c becomes c + (f - 1)|c| and a client's value
// per hour v becomes v / f (capped by its budget over the job's hours), so f > 1 makes
// the agent harder (it asks more, bids less, concedes to a worse limit for its
// counterparty) and f < 1 softer; the opening moves with the reservation. f = 1 is
// Decide. A dsr pricing group sets f (DSRPolicy).
func (s *Scripted) DecideWith(m *market.Market, d *market.Decision, st strategy.Strategy, f float64) market.Response {
	s.aggr = f
	defer func() { s.aggr = 0 }()
	return s.Decide(m, d, st)
}

// Decide answers one decision with strategy st.
func (s *Scripted) Decide(m *market.Market, d *market.Decision, st strategy.Strategy) market.Response {
	switch d.Kind {
	case market.DecideTreasury:
		return TopUpGas(m, d, s.ETHReserveUSD)
	case market.DecideOpen:
		var n strategy.Negotiation
		asset, ok := s.View(m, d, &n)
		if !ok || !(n.Reservation > 0) {
			return market.Response{Type: scheme.MsgTerminate} // drop the job
		}
		return market.Response{Type: scheme.MsgRequest, Price: units(m, st.Open(&n), asset)}
	}
	th, live := m.Thread(d.Thread)
	if !live {
		return wait
	}
	provider := d.Role == scheme.RoleProvider
	switch {
	case provider && (d.State == scheme.StateRequested || d.State == scheme.StateCountered):
		if !m.CanRun(d.Agent, &th.Terms) {
			return reject
		}
		return s.negotiate(m, d, st, true)
	case !provider && d.State == scheme.StateOffered:
		return s.negotiate(m, d, st, false)
	case provider && d.State == scheme.StateAccepted:
		return Start(m, d, &th)
	case !provider && d.State == scheme.StateAwaitingEscrow:
		if d.Allowed.Has(scheme.MsgAccept) && canPayEscrow(m, d.Agent, &th) {
			return market.Response{Type: scheme.MsgAccept}
		}
		return reject
	}
	return wait
}

// negotiate answers an incoming price with the strategy.
func (s *Scripted) negotiate(m *market.Market, d *market.Decision, st strategy.Strategy, provider bool) market.Response {
	var n strategy.Negotiation
	asset, ok := s.View(m, d, &n)
	if !ok {
		return reject
	}
	dec := st.Respond(&n)
	obs, isObs := st.(strategy.Observer)
	if z, ok := n.Incoming(); ok && isObs {
		obs.Observe(strategy.Outcome{Event: strategy.OfferSeen, Price: z})
	}
	switch dec.Action {
	case strategy.ActionAccept:
		th, _ := m.Thread(d.Thread)
		if provider {
			if !d.Allowed.Has(scheme.MsgOffer) {
				return reject
			}
			if isObs {
				obs.Observe(strategy.Outcome{Event: strategy.DealClosed, Price: dec.Price})
			}
			return market.Response{Type: scheme.MsgOffer, Price: d.Incoming.Terms.PricePerHour}
		}
		if !d.Allowed.Has(scheme.MsgAccept) || !canPayEscrow(m, d.Agent, &th) {
			return reject
		}
		if isObs {
			obs.Observe(strategy.Outcome{Event: strategy.DealClosed, Price: dec.Price})
		}
		return market.Response{Type: scheme.MsgAccept}
	case strategy.ActionCounter:
		if !d.Allowed.Has(scheme.MsgOffer) {
			return reject
		}
		return market.Response{Type: scheme.MsgOffer, Price: units(m, dec.Price, asset)}
	case strategy.ActionReject:
		return reject
	}
	return wait
}

// canPayEscrow reports whether client a can lock the escrow of thread th (the job's
// cost at the thread's terms) and pay the gas of the lock and its attestation.
func canPayEscrow(m *market.Market, a market.AgentID, th *scheme.Thread) bool {
	cost, ok := m.JobCostUnits(&th.Terms)
	if !ok {
		return false
	}
	b := m.Wallet(a)
	return b[market.Asset(th.Terms.Asset)] >= cost && b[market.ETH] >= m.GasGwei(market.TxEscrowLock)+m.GasGwei(market.TxAttestation)
}

// Start is a provider's answer once the client accepted: start the job (attestation,
// verifying the escrow) when the escrow is on chain, it has the capacity and the job
// fits before its deadline; report collateral_missing (or wait) while the escrow is not
// there; reject what it cannot run.
func Start(m *market.Market, d *market.Decision, th *scheme.Thread) market.Response {
	late := m.Tick()+th.Terms.Duration >= th.Terms.JobDeadline
	if !m.CanRun(d.Agent, &th.Terms) || late {
		return reject
	}
	if d.Allowed.Has(scheme.MsgAttestation) && (m.SchemeConfig().Verify == scheme.VerifyAgent || m.EscrowOnChain(d.Thread)) {
		r := market.Response{Type: scheme.MsgAttestation, VerifyEscrow: true}
		if m.Check(d, &r) != nil {
			return reject
		}
		return r
	}
	if d.Allowed.Has(scheme.MsgCollateralMissing) {
		return market.Response{Type: scheme.MsgCollateralMissing}
	}
	return wait
}

// TopUpGas is the scripted treasury: hold, unless the agent's ETH (its gas money) is
// worth less than half of reserveUSD; then buy ETH back up to the reserve with USDC, or
// HIVE if USDC cannot pay.
func TopUpGas(m *market.Market, d *market.Decision, reserveUSD float64) market.Response {
	b := m.Wallet(d.Agent)
	ethUSD := m.UnitUSD(b[market.ETH], scheme.AssetETH)
	if !(reserveUSD > 0) || ethUSD >= reserveUSD/2 {
		return wait
	}
	want := reserveUSD - ethUSD
	for _, from := range [2]market.Asset{market.USDC, market.HIVE} {
		amt := m.USDUnits(want, scheme.Asset(from))
		if b[from] >= amt {
			r := market.Response{Swap: market.Swap{From: from, To: market.ETH, Amount: amt}}
			if m.Check(d, &r) == nil {
				return r
			}
		}
	}
	return wait
}

// Negotiating reports whether decision d is a negotiation step, which a group with a
// scripted protocol leaves to its policy: a client opening a job or answering a
// provider's offer, a provider answering a request or a counter-offer. Every other
// decision (starting an accepted job, retrying an escrow lock, treasury) is a protocol
// step.
func Negotiating(d *market.Decision) bool {
	switch d.Kind {
	case market.DecideOpen:
		return true
	case market.DecideRespond:
		if d.Role == scheme.RoleProvider {
			return d.State == scheme.StateRequested || d.State == scheme.StateCountered
		}
		return d.State == scheme.StateOffered
	}
	return false
}

// Protocol answers a protocol step (a decision that is not Negotiating) with the scripted
// adapter's rules: a provider starts an accepted job (Start), a client retries its escrow
// lock when it can pay and otherwise walks away, the treasury keeps the gas reserve
// (TopUpGas with 20 USD); anything else waits.
func Protocol(m *market.Market, d *market.Decision) market.Response {
	if d.Kind == market.DecideTreasury {
		return TopUpGas(m, d, 20)
	}
	th, live := m.Thread(d.Thread)
	if d.Kind != market.DecideRespond || !live {
		return wait
	}
	switch {
	case d.Role == scheme.RoleProvider && d.State == scheme.StateAccepted:
		return Start(m, d, &th)
	case d.Role == scheme.RoleClient && d.State == scheme.StateAwaitingEscrow:
		if d.Allowed.Has(scheme.MsgAccept) && canPayEscrow(m, d.Agent, &th) {
			return market.Response{Type: scheme.MsgAccept}
		}
		return reject
	}
	return wait
}
