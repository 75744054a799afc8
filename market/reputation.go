package market

// Reputation is an account's public deal history, derived from settlement on chain
// (specs/scheme.md: "any agent can read how many deals a counterparty completed, failed
// or was slashed on"). Every agent is either a client or a provider, so the counts read
// in the account's own role. Counters are int64 and grow by one per settlement, so they
// cannot overflow; Volume saturates at math.MaxInt64.
type Reputation struct {
	// Completed counts deals whose payment was released to the provider (PayProvider),
	// for both parties.
	Completed int64
	// Failed counts deals whose payment was refunded to the client after the provider
	// had locked collateral (the deal had started: a failed job, a rejected validation,
	// a missed deadline), for both parties.
	Failed int64
	// Cancelled counts deals whose payment was refunded before the provider locked
	// collateral (terminated before the job started), for both parties.
	Cancelled int64
	// Slashed counts deals in which this account's collateral was slashed (providers
	// only).
	Slashed int64
	// Volume is the payment released in completed deals, per asset, for both parties.
	Volume Balances
}

// Reputation returns account id's reputation in O(1); unknown accounts read as zero.
func (c *Chain) Reputation(id AccountID) Reputation {
	if !c.validAccount(id) {
		return Reputation{}
	}
	return c.rep[id]
}

// settleReputation updates the parties' reputations when a lock of th is paid out.
func (c *Chain) settleReputation(th *thread, final LockState, payment bool, asset Asset, amt int64) {
	cl, pr := &c.rep[th.client], &c.rep[th.provider]
	switch {
	case payment && final == LockReleased:
		cl.Completed++
		pr.Completed++
		cl.Volume[asset] = addSat(cl.Volume[asset], amt)
		pr.Volume[asset] = addSat(pr.Volume[asset], amt)
	case payment && final == LockRefunded && th.col != LockNone:
		cl.Failed++
		pr.Failed++
	case payment && final == LockRefunded:
		cl.Cancelled++
		pr.Cancelled++
	case !payment && final == LockSlashed:
		pr.Slashed++
	}
}
