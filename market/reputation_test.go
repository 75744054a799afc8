package market

import (
	"math"
	"testing"
)

// TestReputation runs one deal of each outcome between client 0 and providers 1 and 2
// and checks the counts by hand.
func TestReputation(t *testing.T) {
	c, _ := newTestChain(t, 3)
	mustOK(t, c.Mint(0, USDC, 10_000))
	mustOK(t, c.Mint(0, HIVE, 10_000))
	mustOK(t, c.Mint(1, USDC, 1_000))
	mustOK(t, c.Mint(2, USDC, 1_000))

	// Deal A (provider 1): completed, 300 USDC.
	a, _ := c.OpenThread(0, 1)
	mustOK(t, c.LockEscrow(a, 0, USDC, 300))
	mustOK(t, c.LockCollateral(a, 1, USDC, 100))
	mustOK(t, c.PayProvider(a))
	mustOK(t, c.ReturnCollateral(a))
	// Deal B (provider 1): completed, paid in HIVE (700), with zero collateral.
	b, _ := c.OpenThread(0, 1)
	mustOK(t, c.LockEscrow(b, 0, HIVE, 700))
	mustOK(t, c.LockCollateral(b, 1, USDC, 0))
	mustOK(t, c.PayProvider(b))
	mustOK(t, c.ReturnCollateral(b))
	// Deal C (provider 2): started, then failed: collateral slashed, client refunded.
	cc, _ := c.OpenThread(0, 2)
	mustOK(t, c.LockEscrow(cc, 0, USDC, 50))
	mustOK(t, c.LockCollateral(cc, 2, USDC, 20))
	mustOK(t, c.SlashCollateral(cc))
	mustOK(t, c.RefundClient(cc))
	// Deal D (provider 2): escrow locked, terminated before the provider started.
	d, _ := c.OpenThread(0, 2)
	mustOK(t, c.LockEscrow(d, 0, USDC, 80))
	mustOK(t, c.RefundClient(d))
	// Deal E (provider 1): still running: no count yet.
	e, _ := c.OpenThread(0, 1)
	mustOK(t, c.LockEscrow(e, 0, USDC, 10))
	mustOK(t, c.LockCollateral(e, 1, USDC, 10))

	want := map[AccountID]Reputation{
		0: {Completed: 2, Failed: 1, Cancelled: 1, Volume: Balances{USDC: 300, HIVE: 700}},
		1: {Completed: 2, Volume: Balances{USDC: 300, HIVE: 700}},
		2: {Failed: 1, Cancelled: 1, Slashed: 1},
	}
	for id, w := range want {
		if got := c.Reputation(id); got != w {
			t.Errorf("reputation of %s: got %+v, want %+v", id, got, w)
		}
	}
	if c.Reputation(9) != (Reputation{}) || c.Reputation(AcctEscrow) != (Reputation{}) {
		t.Error("unknown account has a reputation")
	}
	// Provider 2 lost its 20 USDC of collateral in deal C: 1000 - 20 = 980.
	if c.Balance(2, USDC) != 980 {
		t.Errorf("provider 2 USDC %d, want 980", c.Balance(2, USDC))
	}
	mustOK(t, c.CheckInvariants())
}

// TestReputationVolumeSaturates: volume is cumulative, so it can pass the supply; it
// saturates at math.MaxInt64 instead of wrapping.
func TestReputationVolumeSaturates(t *testing.T) {
	c, _ := newTestChain(t, 2)
	mustOK(t, c.Mint(0, HIVE, math.MaxInt64))
	a, _ := c.OpenThread(0, 1)
	mustOK(t, c.LockEscrow(a, 0, HIVE, math.MaxInt64-5))
	mustOK(t, c.PayProvider(a))
	mustOK(t, c.Transfer(1, 0, HIVE, math.MaxInt64-5))
	b, _ := c.OpenThread(0, 1)
	mustOK(t, c.LockEscrow(b, 0, HIVE, 10))
	mustOK(t, c.PayProvider(b))
	for id := AccountID(0); id < 2; id++ {
		if r := c.Reputation(id); r.Completed != 2 || r.Volume[HIVE] != math.MaxInt64 {
			t.Errorf("%s: %+v, want 2 completed and volume saturated at MaxInt64", id, r)
		}
	}
	mustOK(t, c.CheckInvariants())
}
