package env

import (
	"math"
	"math/rand/v2"

	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// RandomLegal is the cost-aware random-legal policy over the discrete action space:
// like Gymnasium's masked action_space.sample(), it picks uniformly among the actions
// the mask allows, but never one that loses money: a provider never offers or agrees
// below its cost, nor starts a job it cannot finish before the job deadline; a client
// never requests, counters or accepts above its value, and counters only while a round
// is left for the provider's answer. Honest (the default) also rules out the cheating
// actions (accepting without locking the escrow, starting without reading the chain).
// Treasury decisions hold, unless the agent's ETH for gas is worth less than
// ETHReserveUSD/2, when the smallest legal USDC-to-ETH swap is taken.
type RandomLegal struct {
	R             *rand.Rand
	Honest        bool
	ETHReserveUSD float64
	cand          []int32
}

// NewRandomLegal returns an honest policy drawing from r, with a 20 USD ETH reserve.
func NewRandomLegal(r *rand.Rand) *RandomLegal {
	return &RandomLegal{R: r, Honest: true, ETHReserveUSD: 20}
}

// Act fills out[i] for every entry of b (entries without a decision get the zero
// action).
func (p *RandomLegal) Act(e *Env, b *Batch, out []Action) {
	n := e.NumActions()
	for i := range b.Agents {
		out[i] = Action{}
		d := &b.Decisions[i]
		if d.Kind == 0 {
			continue
		}
		out[i].Index = p.pick(e, d, b.Mask(i, n))
	}
}

func (p *RandomLegal) pick(e *Env, d *market.Decision, mask []bool) int32 {
	m := e.m
	p.cand = p.cand[:0]
	if d.Kind == market.DecideTreasury {
		bal := m.Wallet(d.Agent)
		if m.UnitUSD(bal[market.ETH], scheme.AssetETH) < p.ETHReserveUSD/2 {
			k := ActPrice0 + len(e.s.Env.Actions.PriceMultipliers) // USDC>ETH, smallest fraction first
			best, bestF := -1, math.Inf(1)
			for j, f := range e.s.Env.Actions.SwapFractions {
				if mask[k+j] && f < bestF {
					best, bestF = k+j, f
				}
			}
			if best >= 0 {
				return int32(best)
			}
		}
		return ActWait
	}
	th, haveThread := m.Thread(d.Thread)
	provider := d.Role == scheme.RoleProvider
	var costUnits, valueUnits float64
	var asset scheme.Asset
	switch {
	case d.Kind == market.DecideOpen:
		asset = m.Job(d.Job).Asset
		valueUnits = m.ClientValueUSD(d.Job) / m.UnitUSD(1, asset)
	case haveThread:
		asset = th.Terms.Asset
		if provider {
			costUnits = m.ProviderCostUSD(d.Agent, &th.Terms) / m.UnitUSD(1, asset)
		} else {
			valueUnits = m.ClientValueUSD(d.Job) / m.UnitUSD(1, asset)
		}
	}
	sc := m.SchemeConfig()
	base := e.counterBase(d)
	for i, ok := range mask {
		if !ok {
			continue
		}
		if i == ActWait || i == ActReject {
			p.cand = append(p.cand, int32(i))
			continue
		}
		if p.Honest && (i == ActAcceptOther || (i == ActCollateralMissing && m.EscrowOnChain(d.Thread))) {
			continue
		}
		r, _ := e.decode(d, i, 1, base)
		switch {
		case d.Kind == market.DecideOpen:
			if !(float64(r.Price) <= valueUnits) {
				continue
			}
		case r.Type == scheme.MsgOffer && provider:
			if float64(r.Price) < costUnits {
				continue
			}
		case r.Type == scheme.MsgOffer:
			if float64(r.Price) > valueUnits || int(th.Rounds)+1 >= sc.MaxRounds {
				continue
			}
		case r.Type == scheme.MsgAccept && d.State == scheme.StateOffered:
			if float64(d.Incoming.Terms.PricePerHour) > valueUnits {
				continue
			}
		case r.Type == scheme.MsgAttestation:
			if m.Tick()+th.Terms.Duration >= th.Terms.JobDeadline {
				continue
			}
		}
		p.cand = append(p.cand, int32(i))
	}
	if len(p.cand) == 0 {
		return ActWait
	}
	return p.cand[p.R.IntN(len(p.cand))]
}
