package env

import (
	"math"
	"strconv"

	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// The discrete action space, the same for every agent (docs/env.md):
//
//	0                     wait: postpone (respond, open) or hold (treasury)
//	1                     reject: terminate the thread (reason rejected), or drop the job
//	2                     accept: a client accepts the offer (or retries its escrow lock);
//	                      a provider agrees (offers the client's price back) or, on an
//	                      accepted thread, starts after verifying the escrow
//	3                     the other way: a client accepts without locking its escrow (a
//	                      cheating client); a provider starts without reading the chain
//	4                     collateral_missing: the provider reports the escrow missing
//	5 .. 5+M-1            price m_i: a request at the job's value per hour x m_i, an offer
//	                      or counter-offer at the incoming price x m_i
//	5+M .. 5+M+6F-1       treasury swaps: for each ordered asset pair (USDC>ETH, USDC>HIVE,
//	                      ETH>USDC, ETH>HIVE, HIVE>USDC, HIVE>ETH) and fraction f_j, sell
//	                      f_j of the balance
const (
	ActWait = iota
	ActReject
	ActAccept
	ActAcceptOther
	ActCollateralMissing
	ActPrice0
)

var swapPairs = [6][2]market.Asset{
	{market.USDC, market.ETH}, {market.USDC, market.HIVE}, {market.ETH, market.USDC},
	{market.ETH, market.HIVE}, {market.HIVE, market.USDC}, {market.HIVE, market.ETH},
}

func numActions(a *ActionConfig) int {
	return ActPrice0 + len(a.PriceMultipliers) + len(swapPairs)*len(a.SwapFractions)
}

// ActionName names discrete action i.
func (e *Env) ActionName(i int) string {
	ac := &e.s.Env.Actions
	switch {
	case i == ActWait:
		return "wait"
	case i == ActReject:
		return "reject"
	case i == ActAccept:
		return "accept"
	case i == ActAcceptOther:
		return "accept_other"
	case i == ActCollateralMissing:
		return "collateral_missing"
	case i < ActPrice0+len(ac.PriceMultipliers):
		return "price_x" + strconv.FormatFloat(ac.PriceMultipliers[i-ActPrice0], 'g', -1, 64)
	case i < e.nAct:
		k := i - ActPrice0 - len(ac.PriceMultipliers)
		p := swapPairs[k/len(ac.SwapFractions)]
		f := ac.SwapFractions[k%len(ac.SwapFractions)]
		return "swap_" + p[0].String() + "_" + p[1].String() + "_" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return "action(" + strconv.Itoa(i) + ")"
}

// invalid is the response a nonsensical action decodes to: the market refuses it.
var invalid = market.Response{Type: scheme.MsgType(255)}

// decode turns discrete action idx (with price multiplier px when continuous) for
// decision d into a market response; base is d's counter-offer anchor (counterBase),
// read by respond decisions only. ok is false when the action means
// nothing for the decision; the response is then one the market refuses.
func (e *Env) decode(d *market.Decision, idx int, px float32, base int64) (market.Response, bool) {
	if idx == ActWait {
		return market.Response{}, true
	}
	m := e.m
	ac := &e.s.Env.Actions
	nPrice := len(ac.PriceMultipliers)
	mult := func(k int) float64 {
		if ac.ContinuousPrice {
			x := float64(px)
			if math.IsNaN(x) {
				x = 1
			}
			return math.Max(ac.MinMultiplier, math.Min(ac.MaxMultiplier, x))
		}
		return ac.PriceMultipliers[k]
	}
	isPrice := idx >= ActPrice0 && idx < ActPrice0+nPrice
	switch d.Kind {
	case market.DecideTreasury:
		k := idx - ActPrice0 - nPrice
		if k < 0 || k >= len(swapPairs)*len(ac.SwapFractions) || len(ac.SwapFractions) == 0 {
			return market.Response{Swap: market.Swap{From: 255, To: 255, Amount: -1}}, false
		}
		pair := swapPairs[k/len(ac.SwapFractions)]
		f := ac.SwapFractions[k%len(ac.SwapFractions)]
		bal := m.Wallet(d.Agent)
		amt := int64(math.Floor(float64(bal[pair[0]]) * f))
		if amt <= 0 {
			amt = -1 // nothing to sell: refused
		}
		return market.Response{Swap: market.Swap{From: pair[0], To: pair[1], Amount: amt}}, true
	case market.DecideOpen:
		switch {
		case idx == ActReject:
			return market.Response{Type: scheme.MsgTerminate}, true
		case isPrice:
			v := m.ClientValueUSD(d.Job)
			spec := m.Job(d.Job)
			return market.Response{Type: scheme.MsgRequest, Price: priceUnits(m, v*mult(idx-ActPrice0), spec.Asset)}, true
		}
		return invalid, false
	case market.DecideRespond:
		if base < 0 {
			return invalid, false // no live thread
		}
		provider := d.Role == scheme.RoleProvider
		q := d.Incoming.Terms.PricePerHour
		switch {
		case idx == ActReject:
			return market.Response{Type: scheme.MsgTerminate, Reason: scheme.ReasonRejected}, true
		case idx == ActAccept && !provider:
			return market.Response{Type: scheme.MsgAccept}, true
		case idx == ActAcceptOther && !provider:
			return market.Response{Type: scheme.MsgAccept, SkipEscrow: true}, true
		case idx == ActAccept && provider && d.State < scheme.StateAccepted:
			return market.Response{Type: scheme.MsgOffer, Price: q}, true
		case idx == ActAccept && provider:
			return market.Response{Type: scheme.MsgAttestation, VerifyEscrow: true}, true
		case idx == ActAcceptOther && provider && d.State >= scheme.StateAccepted:
			return market.Response{Type: scheme.MsgAttestation}, true
		case idx == ActCollateralMissing && provider:
			return market.Response{Type: scheme.MsgCollateralMissing}, true
		case isPrice && d.State < scheme.StateAccepted:
			p := float64(base) * mult(idx-ActPrice0)
			return market.Response{Type: scheme.MsgOffer, Price: clampUnits(p)}, true
		}
		return invalid, false
	}
	return invalid, false
}

// counterBase returns the price (units of the job's asset per hour) a counter-offer's
// multiplier applies to on respond decision d: the incoming price, or the thread's when
// the incoming message names none, and with env.actions.reservation_anchor that price
// clamped to the deciding agent's side of its reservation: up to a provider's cost of the
// job, down to a client's value of it (a reservation that is unknown or not positive
// leaves it as it is). It is computed once per decision, not per price action. It is -1
// for other decisions and for a thread that is no longer live.
func (e *Env) counterBase(d *market.Decision) int64 {
	if d.Kind != market.DecideRespond {
		return -1
	}
	th, ok := e.m.Thread(d.Thread)
	if !ok {
		return -1
	}
	base := d.Incoming.Terms.PricePerHour
	if base <= 0 {
		base = th.Terms.PricePerHour
	}
	if !e.s.Env.Actions.ReservationAnchor {
		return base
	}
	r := priceUnits(e.m, e.reference(d, &th.Terms), th.Terms.Asset)
	switch {
	case r <= 0:
	case d.Role == scheme.RoleProvider:
		base = max(base, r)
	default:
		base = min(base, r)
	}
	return base
}

func priceUnits(m *market.Market, usd float64, a scheme.Asset) int64 {
	if !(usd > 0) {
		return 0
	}
	return m.USDUnits(usd, a)
}

func clampUnits(p float64) int64 {
	switch {
	case !(p > 0):
		return 0
	case p > 1<<62:
		return 1 << 62
	}
	return int64(math.Round(p))
}

// mask writes decision d's legal-action mask into out: action i is legal when it
// decodes to a response the market would accept now (market.Check: the scheme's dry-run
// verdict and the chain's). Waiting is always legal; an entry without a decision has an
// all-false mask.
func (e *Env) mask(d *market.Decision, out []bool) {
	clear(out)
	if d.Kind == 0 {
		return
	}
	base := e.counterBase(d)
	for i := range out {
		r, ok := e.decode(d, i, 1, base)
		if !ok {
			continue
		}
		if e.s.Env.Actions.ContinuousPrice && i >= ActPrice0 && i < ActPrice0+len(e.s.Env.Actions.PriceMultipliers) {
			// Every multiplier in range gives a positive price; the grid's first entry
			// stands for all of them.
			r, _ = e.decode(d, i, float32(e.s.Env.Actions.MinMultiplier), base)
		}
		out[i] = e.m.Check(d, &r) == nil
	}
}
