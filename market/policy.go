package market

import (
	"math"
	"math/rand/v2"

	"github.com/hivegym/hivegym/scheme"
)

// RandomPolicy is the cost-aware random-legal policy: at each decision it picks
// uniformly among the moves the decision allows (like Gymnasium's masked
// action_space.sample()), except that it never makes a losing one: a provider never
// offers or agrees below its cost (ProviderCostUSD), a client never requests, counters or
// accepts above its value (ClientValueUSD), and neither side sends what the chain would
// refuse (a start without capacity, a retry without funds). Its moves:
//
//   - open a job: request at value x a RequestMultipliers entry, or drop the job when its
//     value does not cover the client's gas;
//   - provider, request or counter-offer at price q: agree (offer q back), counter at
//     max(q, cost) x a ProviderMultipliers entry, reject, or wait;
//   - client, offer at price q: accept, counter at q x a ClientMultipliers entry (only
//     when a round is left for the provider's answer), reject, or wait;
//   - provider, accept: start (verifying the escrow) if it has the capacity and can
//     finish before the job deadline, otherwise reject; collateral_missing or wait when
//     the escrow is not there;
//   - client, collateral_missing: retry the lock if it can pay, else reject;
//   - treasury: hold, unless the agent's ETH (gas money) is worth less than half of
//     ETHReserveUSD; then it buys ETH back up to the reserve with USDC (or HIVE).
//
// It draws from R only, does not allocate, and gives the same decisions for the same
// seed.
type RandomPolicy struct {
	R                   *rand.Rand
	RequestMultipliers  []float64
	ProviderMultipliers []float64
	ClientMultipliers   []float64
	ETHReserveUSD       float64
}

// NewRandomPolicy returns the policy with its default multipliers and a 20 USD ETH
// reserve, drawing from r.
func NewRandomPolicy(r *rand.Rand) *RandomPolicy {
	return &RandomPolicy{
		R:                   r,
		RequestMultipliers:  []float64{0.5, 0.7, 0.85, 1.0},
		ProviderMultipliers: []float64{1.1, 1.25, 1.5},
		ClientMultipliers:   []float64{0.8, 0.9, 0.95},
		ETHReserveUSD:       20,
	}
}

// Act implements Policy.
func (p *RandomPolicy) Act(m *Market, ds []Decision, out []Response) {
	for i := range ds {
		out[i] = p.Decide(m, &ds[i])
	}
}

func (p *RandomPolicy) pick(xs []float64) float64 { return xs[p.R.IntN(len(xs))] }

// moves of a decision, as a small fixed set.
type moveSet struct {
	n int
	r [6]Response
}

func (s *moveSet) add(r Response) { s.r[s.n] = r; s.n++ }

// Decide returns the policy's answer to one decision.
func (p *RandomPolicy) Decide(m *Market, d *Decision) Response {
	switch d.Kind {
	case DecideOpen:
		return p.open(m, d)
	case DecideTreasury:
		return p.treasury(m, d)
	}
	th, ok := m.Thread(d.Thread)
	if !ok {
		return Response{}
	}
	var s moveSet
	wait := Response{}
	reject := Response{Type: scheme.MsgTerminate, Reason: scheme.ReasonRejected}
	q := d.Incoming.Terms.PricePerHour
	asset := th.Terms.Asset
	switch {
	case d.Role == scheme.RoleProvider && (d.State == scheme.StateRequested || d.State == scheme.StateCountered):
		if !m.CanRun(d.Agent, &th.Terms) {
			return reject
		}
		cost := m.USDUnits(m.ProviderCostUSD(d.Agent, &th.Terms), asset)
		if d.Allowed.Has(scheme.MsgOffer) {
			if q >= cost {
				s.add(Response{Type: scheme.MsgOffer, Price: q})
			}
			c := float64(max(q, cost)) * p.pick(p.ProviderMultipliers)
			if c < 1<<52 {
				s.add(Response{Type: scheme.MsgOffer, Price: max(int64(math.Ceil(c)), 1)})
			}
		}
		s.add(reject)
		s.add(wait)
	case d.Role == scheme.RoleClient && d.State == scheme.StateOffered:
		value := m.ClientValueUSD(d.Job)
		v := floorUnits(value / m.UnitUSD(1, asset))
		if d.Allowed.Has(scheme.MsgAccept) && q <= v {
			s.add(Response{Type: scheme.MsgAccept})
		}
		if d.Allowed.Has(scheme.MsgOffer) && int(th.Rounds)+1 < m.sc.MaxRounds {
			c := floorUnits(float64(q) * p.pick(p.ClientMultipliers))
			if c >= 1 && c <= v {
				s.add(Response{Type: scheme.MsgOffer, Price: c})
			}
		}
		s.add(reject)
		s.add(wait)
	case d.Role == scheme.RoleProvider && d.State == scheme.StateAccepted:
		late := m.Tick()+th.Terms.Duration >= th.Terms.JobDeadline
		if !m.CanRun(d.Agent, &th.Terms) || late {
			return reject
		}
		switch {
		case d.Allowed.Has(scheme.MsgAttestation) && (m.sc.Verify == scheme.VerifyAgent || m.EscrowOnChain(d.Thread)):
			r := Response{Type: scheme.MsgAttestation, VerifyEscrow: true}
			if m.Check(d, &r) != nil {
				return reject
			}
			return r
		case d.Allowed.Has(scheme.MsgCollateralMissing):
			s.add(Response{Type: scheme.MsgCollateralMissing})
			s.add(wait)
		default:
			s.add(wait)
		}
	case d.Role == scheme.RoleClient && d.State == scheme.StateAwaitingEscrow:
		b := m.Wallet(d.Agent)
		if d.Allowed.Has(scheme.MsgAccept) && b[asset] >= th.Escrow && b[ETH] >= m.GasGwei(TxEscrowLock)+m.GasGwei(TxAttestation) {
			s.add(Response{Type: scheme.MsgAccept})
		}
		s.add(reject)
		s.add(wait)
	default:
		return wait
	}
	return s.r[p.R.IntN(s.n)]
}

func (p *RandomPolicy) open(m *Market, d *Decision) Response {
	spec := m.Job(d.Job)
	value := m.ClientValueUSD(d.Job)
	if !(value > 0) {
		return Response{Type: scheme.MsgTerminate}
	}
	price := m.USDUnits(value*p.pick(p.RequestMultipliers), spec.Asset)
	return Response{Type: scheme.MsgRequest, Price: max(price, 1)}
}

func (p *RandomPolicy) treasury(m *Market, d *Decision) Response {
	b := m.Wallet(d.Agent)
	ethUSD := m.UnitUSD(b[ETH], scheme.AssetETH)
	if !(p.ETHReserveUSD > 0) || ethUSD >= p.ETHReserveUSD/2 {
		return Response{}
	}
	want := p.ETHReserveUSD - ethUSD
	for _, from := range [2]Asset{USDC, HIVE} {
		amt := m.USDUnits(want, scheme.Asset(from))
		if b[from] >= amt {
			r := Response{Swap: Swap{From: from, To: ETH, Amount: amt}}
			if m.Check(d, &r) == nil {
				return r
			}
		}
	}
	return Response{}
}
