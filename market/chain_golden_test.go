package market

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewrite regenerates the golden files in testdata/: go test ./market -run Golden -rewrite.
// Other test files of package market should reuse this flag rather than define their own
// (a second flag named "rewrite" in the same test binary panics).
var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/")

// TestGoldenDeals runs three scripted deals (approved, rejected, cancelled) with gas at
// 2025-like fees, checks the outcome against hand-computed numbers, and compares the
// event log and the state dump with testdata/deals.golden (which pins the formats).
func TestGoldenDeals(t *testing.T) {
	c, log := newTestChain(t, 4)
	s := DefaultGasSchedule()
	price, err := s.Price(FeeMarket{L2BaseFee: 1_000_000, PriorityFee: 1_000_000, L1BaseFee: 3_000_000_000, BlobBaseFee: 1,
		BaseFeeScalar: OPMainnetBaseFeeScalar, BlobBaseFeeScalar: OPMainnetBlobBaseFeeScalar})
	mustOK(t, err)
	// Gas per kind at these fees (L1 weighted price 16*3e9*1368 + 1*810949 = 65,664,000,810,949):
	//   escrow/collateral lock: 110,000 * 2e6 wei = 220 gwei + L1 120 B: 7,879,680,097 wei
	//     -> 227,879,680,097 wei -> 228 gwei (110 burned, 118 sequencer)
	//   attestation: 180,000 * 2e6 = 360 gwei + L1 350 B: 22,982,400,283 wei -> 383 (180, 203)
	//   settlement: 130,000 * 2e6 = 260 gwei + L1 120 B: 7,879,680,097 wei -> 268 (130, 138)
	const lock, att, settle = 228, 383, 268
	const lockBurn, attBurn, settleBurn = 110, 180, 130

	gas := func(th ThreadID, who AccountID, k TxKind) { mustOK(t, c.ChargeGas(th, who, k, &price)) }
	for id := AccountID(0); id < 4; id++ {
		usdc := int64(10_000_000) // clients 0 and 2: 10 USDC
		if id%2 == 1 {
			usdc = 5_000_000 // providers 1 and 3: 5 USDC
		}
		mustOK(t, c.Mint(id, USDC, usdc))
		mustOK(t, c.Mint(id, ETH, 1_000_000)) // 0.001 ETH
	}

	// Deal 1: client 0, provider 1, 2.5 USDC, 0.5 USDC collateral, approved.
	mustOK(t, c.SetTick(1))
	d1, _ := c.OpenThread(0, 1)
	mustOK(t, c.LockEscrow(d1, 0, USDC, 2_500_000))
	gas(d1, 0, TxEscrowLock)
	buy1, err := c.Attest(AttestRequest{Schema: SchemaBuy, Thread: d1, Attester: 0, Recipient: 1,
		Data: AttestationData{JobCost: 2_500_000, PaymentAsset: USDC, CollateralRequested: 500_000, OfferDeadline: 3, JobDeadline: 10, ArbitrationDeadline: 12}})
	mustOK(t, err)
	gas(d1, 0, TxAttestation)
	mustOK(t, c.SetTick(2))
	mustOK(t, c.LockCollateral(d1, 1, USDC, 500_000))
	gas(d1, 1, TxCollateralLock)
	sell1, err := c.Attest(AttestRequest{Schema: SchemaSell, Thread: d1, Attester: 1, Recipient: 0, RefUID: buy1, Data: AttestationData{Collateral: 500_000}})
	mustOK(t, err)
	gas(d1, 1, TxAttestation)
	mustOK(t, c.SetTick(5))
	_, err = c.Attest(AttestRequest{Schema: SchemaValidation, Thread: d1, Attester: 0, Recipient: 1, RefUID: sell1, Data: AttestationData{Approved: true}})
	mustOK(t, err)
	gas(d1, 0, TxAttestation)
	mustOK(t, c.PayProvider(d1))
	mustOK(t, c.ReturnCollateral(d1))
	gas(d1, 1, TxSettlement)

	// Deal 2: client 2, provider 3, 1 USDC, 0.2 USDC collateral, rejected by the market's
	// oracle (the escrow account, which pays no gas); the client pays the settlement.
	mustOK(t, c.SetTick(6))
	d2, _ := c.OpenThread(2, 3)
	mustOK(t, c.LockEscrow(d2, 2, USDC, 1_000_000))
	gas(d2, 2, TxEscrowLock)
	buy2, err := c.Attest(AttestRequest{Schema: SchemaBuy, Thread: d2, Attester: 2, Recipient: 3,
		Data: AttestationData{JobCost: 1_000_000, PaymentAsset: USDC, CollateralRequested: 200_000, OfferDeadline: 8, JobDeadline: 15, ArbitrationDeadline: 20}})
	mustOK(t, err)
	gas(d2, 2, TxAttestation)
	mustOK(t, c.LockCollateral(d2, 3, USDC, 200_000))
	gas(d2, 3, TxCollateralLock)
	sell2, err := c.Attest(AttestRequest{Schema: SchemaSell, Thread: d2, Attester: 3, Recipient: 2, RefUID: buy2, Data: AttestationData{Collateral: 200_000}})
	mustOK(t, err)
	gas(d2, 3, TxAttestation)
	mustOK(t, c.SetTick(16))
	_, err = c.Attest(AttestRequest{Schema: SchemaValidation, Thread: d2, Attester: AcctEscrow, Recipient: 3, RefUID: sell2, Data: AttestationData{Approved: false}})
	mustOK(t, err)
	mustOK(t, c.SlashCollateral(d2))
	mustOK(t, c.RefundClient(d2))
	gas(d2, 2, TxSettlement)

	// Deal 3: client 0, provider 3, escrow locked then cancelled before the start.
	d3, _ := c.OpenThread(0, 3)
	mustOK(t, c.LockEscrow(d3, 0, USDC, 100_000))
	mustOK(t, c.RefundClient(d3))

	want := []struct {
		id    AccountID
		asset Asset
		v     int64
	}{
		{0, USDC, 10_000_000 - 2_500_000},
		{1, USDC, 5_000_000 + 2_500_000},
		{2, USDC, 10_000_000 + 200_000},
		{3, USDC, 5_000_000 - 200_000},
		{0, ETH, 1_000_000 - lock - 2*att},
		{1, ETH, 1_000_000 - lock - att - settle},
		{2, ETH, 1_000_000 - lock - att - settle},
		{3, ETH, 1_000_000 - lock - att},
		{AcctBurn, ETH, 4*lockBurn + 5*attBurn + 2*settleBurn},                            // 1,600
		{AcctSequencer, ETH, 4*(lock-lockBurn) + 5*(att-attBurn) + 2*(settle-settleBurn)}, // 1,763
		{AcctEscrow, USDC, 0},
	}
	for _, w := range want {
		if got := c.Balance(w.id, w.asset); got != w.v {
			t.Errorf("%s %s = %d, want %d", w.id, w.asset, got, w.v)
		}
	}
	reps := map[AccountID]Reputation{
		0: {Completed: 1, Cancelled: 1, Volume: Balances{USDC: 2_500_000}},
		1: {Completed: 1, Volume: Balances{USDC: 2_500_000}},
		2: {Failed: 1},
		3: {Failed: 1, Cancelled: 1, Slashed: 1},
	}
	for id, r := range reps {
		if got := c.Reputation(id); got != r {
			t.Errorf("reputation of %s: %+v, want %+v", id, got, r)
		}
	}
	mustOK(t, c.CheckInvariants())

	var b strings.Builder
	b.WriteString("# events\n")
	for _, e := range log.Events {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	b.WriteString("# state\n")
	b.WriteString(c.String())
	compareGolden(t, "deals.golden", b.String())
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		mustOK(t, os.MkdirAll("testdata", 0o755))
		mustOK(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got %q\nwant %q\n(run with -rewrite to accept)", path, i+1, g, w)
			}
		}
	}
}
