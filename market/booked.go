package market

import "github.com/hivegym/hivegym/scheme"

// Booked sets dst[a], for every agent a, to the book value in USD of its contracts that
// are agreed but not yet settled (threads Accepted, AwaitingEscrow, Running or
// Delivered), at the tick's prices, and returns dst (grown to NumAgents):
//
//   - a provider books each contract's escrowed payment less the electricity of the
//     hours it has still to run, at its location's current price;
//   - a client books the job's value less the payment, for the thread its job was
//     dealt on.
//
// These are the amounts that reach the agents' wealth (WealthUSD) when the contract
// settles approved: the payment moves from the client's escrow to the provider's
// wallet, the provider's electricity bill grows as the job runs, and the client is
// credited the job's value. Gas, collateral and slashing are not booked: they reach the
// wealth when they happen. The trainer uses it as the potential of a shaped reward
// (experiments, training.booked_reward), so that a deal is credited when it is struck,
// not hours later when it settles.
func (m *Market) Booked(dst []float64) []float64 {
	n := m.agentIDs
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	clear(dst)
	for s := range m.threads {
		lt := &m.threads[s]
		th := &lt.th
		if int(th.ID) >= len(m.tslot) || m.tslot[th.ID] != int32(s) {
			continue // a free slot
		}
		if th.State < scheme.StateAccepted || th.State > scheme.StateDelivered {
			continue
		}
		t := &th.Terms
		units, ok := scheme.JobCost(t, m.tph)
		if !ok {
			continue
		}
		pay := m.UnitUSD(units, t.Asset)
		left := t.Duration
		if lt.reserved {
			left = max(0, lt.started+t.Duration-m.tick)
		}
		if th.State == scheme.StateDelivered {
			left = 0
		}
		p := &m.prov[m.slot[th.Provider]]
		watts := lt.powerW
		if !lt.reserved {
			watts = float64(t.GPUCount)*m.pclass[p.class].gpuW + float64(t.CPUCores)*m.set.CPUWattsPerCore
		}
		dst[th.Provider] += pay - watts/1000*m.elec[p.loc]*float64(left)/float64(m.tph)
		if j := &m.jobs[lt.job]; j.deal == th.ID {
			dst[th.Client] += j.spec.ValueUSD - pay
		}
	}
	return dst
}
