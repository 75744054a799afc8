package market

import (
	"fmt"
	"math"

	"github.com/hivegym/hivegym/scheme"
)

// treasury answers a treasury decision: hold, or swap through the pool.
func (m *Market) treasury(d *Decision, r *Response) {
	if r.Swap.Amount == 0 {
		m.stats.Holds++
		return
	}
	if err := m.swap(d.Agent, r.Swap); err != nil {
		m.stats.SwapsRejected++
		m.lastErr[d.Agent] = errCode(err)
		if m.tr != nil {
			m.tr.swap(m, d.Agent, r.Swap, 0, err)
		}
	}
}

// SwapOut returns what a swap of s pays out at the tick's prices: floor(amount x
// price(from) / price(to) x (1 - fee)) base units of s.To.
func (m *Market) SwapOut(s Swap) int64 {
	if !s.From.Valid() || !s.To.Valid() || s.Amount <= 0 {
		return 0
	}
	x := float64(s.Amount) * m.pxUnit[s.From] / m.pxUnit[s.To] * (1 - m.cfg.Treasury.Fee)
	if !(x < 1<<62) {
		return 0
	}
	return int64(math.Floor(x))
}

// checkSwap reports why agent a cannot swap s now, or nil.
func (m *Market) checkSwap(a AgentID, s Swap) error {
	if s.From == s.To || !s.From.Valid() || !s.To.Valid() || s.Amount <= 0 {
		return ErrBadSwap
	}
	out := m.SwapOut(s)
	if out <= 0 {
		return ErrBadSwap
	}
	need := s.Amount
	gas := m.gasGwei[TxSwap]
	if s.From == ETH {
		if need > math.MaxInt64-gas {
			return ErrBadSwap
		}
		need += gas
	} else if m.chain.Balance(AccountID(a), ETH) < gas {
		return ErrInsufficientGas
	}
	if m.chain.Balance(AccountID(a), s.From) < need {
		return ErrInsufficientFunds
	}
	if m.chain.Balance(AccountID(m.pool), s.To) < out {
		return ErrPoolDry
	}
	return nil
}

// swap sells s.Amount of s.From to the pool for s.To at the tick's prices, minus the
// fee, and charges the swap's gas. Both legs are ledger transfers between the agent and
// the pool account, so per-asset conservation holds.
func (m *Market) swap(a AgentID, s Swap) error {
	if err := m.checkSwap(a, s); err != nil {
		return err
	}
	out := m.SwapOut(s)
	if m.tr != nil {
		m.tr.swap(m, a, s, out, nil)
	}
	mustOp(m.chain.Transfer(AccountID(a), AccountID(m.pool), s.From, s.Amount))
	mustOp(m.chain.Transfer(AccountID(m.pool), AccountID(a), s.To, out))
	m.chargeGas(scheme.ThreadID(NoThread), a, TxSwap)
	m.stats.Swaps++
	return nil
}

// --- electricity ---------------------------------------------------------------------

// accrue adds the tick's electricity cost to every active provider's bill: its current
// draw (idle power plus the power of the jobs it runs) times the tick's length times its
// location's price. The unpaid bill is a liability in the provider's wealth.
func (m *Market) accrue() {
	h := m.tickH / 1000 // kW·h per W over one tick
	for i := range m.prov {
		p := &m.prov[i]
		if !m.alive[p.agent] {
			continue
		}
		c := p.drawW * h * m.elec[p.loc]
		p.bill += c
		m.extra[p.agent] = -p.bill
		m.stats.ElecUSD += c
	}
}

// payBills pays every provider's accrued electricity bill in USDC to the utility
// account, as far as its USDC balance goes; the rest stays accrued. A bill is paid off
// chain in reality: the transfer is recorded on the ledger (which holds every balance)
// but pays no gas. A negative bill (negative-price hours) is carried forward.
func (m *Market) payBills() {
	for i := range m.prov {
		p := &m.prov[i]
		if !m.alive[p.agent] {
			continue
		}
		m.payBill(p)
	}
}

func (m *Market) payBill(p *provider) {
	if !(p.bill > 0) {
		return
	}
	units := floorUnits(p.bill / m.pxUnit[USDC])
	if b := m.chain.Balance(AccountID(p.agent), USDC); units > b {
		units = b
	}
	if units <= 0 {
		return
	}
	mustOp(m.chain.Transfer(AccountID(p.agent), AccountID(m.utility), USDC, units))
	p.bill -= float64(units) * m.pxUnit[USDC]
	m.extra[p.agent] = -p.bill
	m.stats.ElecPaidUSD += float64(units) * m.pxUnit[USDC]
}

// --- provider churn --------------------------------------------------------------------

// churn makes providers leave at ChurnPerDay each (a Poisson number of departures per
// tick, each a uniformly drawn active provider) and a new provider join in each one's
// place, of a class drawn in proportion to the classes' counts. A join that the ledger
// refuses (the new wallet's mint would overflow an asset's supply, or the population
// would exceed its account limit) is returned as an error: a long run with a high churn
// rate and large wallets can reach it whatever Reset checked.
func (m *Market) churn() error {
	n := poisson(m.rChurn, float64(len(m.activeAll))*m.set.ChurnPerDay/m.tpd)
	for range n {
		if len(m.activeAll) == 0 {
			return nil
		}
		a := m.activeAll[m.rChurn.IntN(len(m.activeAll))]
		m.leave(a)
		total := 0
		for i := range m.pclass {
			total += m.pclass[i].count
		}
		if total == 0 {
			continue
		}
		x := m.rChurn.IntN(total)
		ci := 0
		for ; ci < len(m.pclass)-1 && x >= m.pclass[ci].count; ci++ {
			x -= m.pclass[ci].count
		}
		if err := m.join(ci); err != nil {
			return err
		}
	}
	return nil
}

// leave takes provider a out of the market: its running jobs fail, its negotiations are
// cancelled, its bill is paid as far as it can be, and it never decides again.
func (m *Market) leave(a AgentID) {
	p := &m.prov[m.slot[a]]
	pc := &m.pclass[p.class]
	// Out of the directory (swap-remove; deterministic).
	last := pc.members[len(pc.members)-1]
	pc.members[p.dirPos] = last
	m.prov[m.slot[last]].dirPos = p.dirPos
	pc.members = pc.members[:len(pc.members)-1]
	lastAll := m.activeAll[len(m.activeAll)-1]
	m.activeAll[p.allPos] = lastAll
	m.prov[m.slot[lastAll]].allPos = p.allPos
	m.activeAll = m.activeAll[:len(m.activeAll)-1]
	m.stats.Leaves++
	if m.tr != nil {
		m.tr.agent(m, "leave", a)
	}
	for i := range m.threads {
		lt := &m.threads[i]
		if !lt.used || lt.th.Provider != a || lt.th.State.Terminal() {
			continue
		}
		switch {
		case lt.th.State == scheme.StateRunning:
			m.system(lt, scheme.MsgJobFailed, false)
		case lt.th.State < scheme.StateRunning && lt.th.State > scheme.StateIdle:
			msg := scheme.Message{Thread: lt.th.ID, From: a, To: lt.th.Client, Seq: lt.th.NextSeq(scheme.RoleProvider),
				Type: scheme.MsgTerminate, Reason: scheme.ReasonCancelled, Terms: lt.th.Terms}
			m.send(lt, msg, sendOpts{auto: true})
		}
	}
	m.payBill(p)
	m.alive[a] = false
	m.capGPU -= float64(pc.gpus)
	m.capCPU -= float64(pc.cpu)
	m.departed = append(m.departed, a)
}

// join adds a new provider of class ci (a new account, its wallet minted now).
func (m *Market) join(ci int) error {
	if m.tr != nil {
		m.tr.agentNext(m, "join")
	}
	a, err := m.addProvider(ci)
	if err != nil {
		return fmt.Errorf("market: provider join at tick %d: %w", m.tick, err)
	}
	m.wealth[a] = m.mark(a)
	m.wealth0[a] = m.wealth[a]
	m.risk[a] = newRiskAcc()
	m.stats.Joins++
	return nil
}
