package market

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
)

// TestL1DataFee checks the Ecotone formula on hand-computed examples.
func TestL1DataFee(t *testing.T) {
	cases := []struct {
		name                                        string
		size, l1Base, blobBase, baseScalar, blobScl int64
		want                                        int64
		err                                         error
	}{
		{
			// 2025-like: L1 base fee 3 gwei, blob base fee 1 wei, a 100-byte transfer.
			// 16 * 3e9 * 1368 = 65,664,000,000,000; + 1 * 810,949 = 65,664,000,810,949;
			// * 100 = 6,566,400,081,094,900; / 1e6 = 6,566,400,081.0949 -> 6,566,400,081 wei
			// (about 6.6 gwei).
			name: "OP mainnet 2025", size: 100, l1Base: 3_000_000_000, blobBase: 1,
			baseScalar: OPMainnetBaseFeeScalar, blobScl: OPMainnetBlobBaseFeeScalar, want: 6_566_400_081,
		},
		{
			// 2024-like: L1 base fee 72 gwei, blob base fee 1 gwei, a 350-byte attestation.
			// 16 * 72e9 * 1368 = 1,575,936,000,000,000; 1e9 * 810,949 = 810,949,000,000,000;
			// sum 2,386,885,000,000,000; * 350 = 835,409,750,000,000,000; / 1e6 =
			// 835,409,750,000 wei (835.4 gwei).
			name: "OP mainnet 2024", size: 350, l1Base: 72_000_000_000, blobBase: 1_000_000_000,
			baseScalar: OPMainnetBaseFeeScalar, blobScl: OPMainnetBlobBaseFeeScalar, want: 835_409_750_000,
		},
		{
			// Rounds down: 1 * (16 * 1 * 1 + 0) / 1e6 = 16e-6 -> 0.
			name: "rounds down", size: 1, l1Base: 1, baseScalar: 1, want: 0,
		},
		{
			// 62,500 * 16 / 1e6 = 1 exactly.
			name: "exactly one", size: 62_500, l1Base: 1, baseScalar: 1, want: 1,
		},
		{
			// The product passes 2^64 but the fee fits: 16 * 1e12 * 1368 = 2.1888e16;
			// * 1e6 = 2.1888e22 (> 1.8e19); / 1e6 = 21,888,000,000,000,000.
			name: "128-bit intermediate", size: 1_000_000, l1Base: 1_000_000_000_000, baseScalar: 1368, want: 21_888_000_000_000_000,
		},
		{
			// Max scalars and fees: far above int64.
			name: "overflow", size: math.MaxInt64, l1Base: math.MaxInt64, blobBase: math.MaxInt64,
			baseScalar: math.MaxUint32, blobScl: math.MaxUint32, err: ErrOverflow,
		},
		{
			// 16 * 1e15 * 4,294,967,295 * 1e5 / 1e6 = 6.87e27: too big.
			name: "overflow in quotient", size: 100_000, l1Base: 1_000_000_000_000_000, baseScalar: math.MaxUint32, err: ErrOverflow,
		},
		{name: "zero size", size: 0, l1Base: math.MaxInt64, blobBase: math.MaxInt64, baseScalar: 1, blobScl: 1, want: 0},
		{name: "negative size", size: -1, err: ErrBadGasPrice},
		{name: "negative fee", size: 1, l1Base: -1, err: ErrBadGasPrice},
		{name: "scalar above uint32", size: 1, baseScalar: math.MaxUint32 + 1, err: ErrBadGasPrice},
	}
	for _, c := range cases {
		got, err := L1DataFee(c.size, c.l1Base, c.blobBase, c.baseScalar, c.blobScl)
		if !errors.Is(err, c.err) || err == nil && got != c.want {
			t.Errorf("%s: got %d, %v; want %d, %v", c.name, got, err, c.want, c.err)
		}
	}
}

// bigL1DataFee is the formula in math/big: the obviously-correct reference.
func bigL1DataFee(size, l1Base, blobBase, baseScalar, blobScalar int64) (int64, bool) {
	w := new(big.Int).Mul(big.NewInt(16), big.NewInt(l1Base))
	w.Mul(w, big.NewInt(baseScalar))
	w.Add(w, new(big.Int).Mul(big.NewInt(blobBase), big.NewInt(blobScalar)))
	w.Mul(w, big.NewInt(size))
	w.Quo(w, big.NewInt(1_000_000))
	if !w.IsInt64() {
		return 0, false
	}
	return w.Int64(), true
}

func FuzzL1DataFee(f *testing.F) {
	f.Add(int64(100), int64(3_000_000_000), int64(1), int64(1368), int64(810949))
	f.Add(int64(1_000_000), int64(1_000_000_000_000), int64(0), int64(1368), int64(0))
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxUint32), int64(math.MaxUint32))
	f.Add(int64(0), int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(400_000), int64(1<<40), int64(1<<41), int64(1<<31), int64(1<<30))
	f.Fuzz(func(t *testing.T, size, l1, blob, bs, bbs int64) {
		got, err := L1DataFee(size, l1, blob, bs, bbs)
		if size < 0 || l1 < 0 || blob < 0 || bs < 0 || bbs < 0 || bs > math.MaxUint32 || bbs > math.MaxUint32 {
			if !errors.Is(err, ErrBadGasPrice) {
				t.Fatalf("bad input accepted: %d, %v", got, err)
			}
			return
		}
		want, fits := bigL1DataFee(size, l1, blob, bs, bbs)
		switch {
		case !fits && !errors.Is(err, ErrOverflow):
			t.Fatalf("L1DataFee(%d, %d, %d, %d, %d) = %d, %v; want ErrOverflow", size, l1, blob, bs, bbs, got, err)
		case fits && (err != nil || got != want):
			t.Fatalf("L1DataFee(%d, %d, %d, %d, %d) = %d, %v; want %d", size, l1, blob, bs, bbs, got, err, want)
		}
	})
}

// TestGasQuote checks units x price, the L1 data fee, the burn/sequencer split and the
// rounding to gwei on hand-computed examples.
func TestGasQuote(t *testing.T) {
	def := DefaultGasSchedule()
	// A schedule with small round numbers for the rounding cases.
	small := GasSchedule{Units: [NumTxKinds]int64{1000, 2, 1, 0, 7, 3}}
	cases := []struct {
		name  string
		s     GasSchedule
		kind  TxKind
		price GasPrice
		want  GasCharge
		err   error
	}{
		{
			// A transfer on an L2 at 0.001 gwei base + 0.001 gwei priority with the 2025
			// L1 data fee of TestL1DataFee: units 65,000;
			// base 65,000 * 1e6 = 65,000,000,000 wei (65 gwei, burned);
			// priority 65,000,000,000 wei; L1 6,566,400,081 wei;
			// total 136,566,400,081 wei -> ceil 137 gwei; sequencer 137 - 65 = 72 gwei.
			name: "transfer, 2025 fees", s: def, kind: TxTransfer,
			price: GasPrice{BaseFee: 1_000_000, PriorityFee: 1_000_000, L1Fee: [NumTxKinds]int64{TxTransfer: 6_566_400_081}},
			want: GasCharge{Units: 65_000, BaseWei: 65_000_000_000, PriorityWei: 65_000_000_000, L1Wei: 6_566_400_081,
				TotalWei: 136_566_400_081, Total: 137, Burn: 65, Sequencer: 72},
		},
		{
			// Escrow lock, 110,000 units at 0.0015 gwei base, no tip, no L1 fee:
			// base 110,000 * 1,500,000 = 165,000,000,000 wei = 165 gwei exactly; all burned.
			name: "escrow lock, base only", s: def, kind: TxEscrowLock,
			price: GasPrice{BaseFee: 1_500_000},
			want:  GasCharge{Units: 110_000, BaseWei: 165_000_000_000, TotalWei: 165_000_000_000, Total: 165, Burn: 165},
		},
		{
			// 1000 units * 1,500,000 wei = 1.5e9 wei = 1.5 gwei: the sender pays 2, 1 is
			// burned (floor), 1 goes to the sequencer (the rounding).
			name: "half gwei rounding", s: small, kind: TxEscrowLock,
			price: GasPrice{BaseFee: 1_500_000},
			want:  GasCharge{Units: 1000, BaseWei: 1_500_000_000, TotalWei: 1_500_000_000, Total: 2, Burn: 1, Sequencer: 1},
		},
		{
			// 2 units * (1e9 + 5e8) = 3e9 wei = 3 gwei exactly: burn 2, sequencer 1.
			name: "exact gwei", s: small, kind: TxCollateralLock,
			price: GasPrice{BaseFee: 1_000_000_000, PriorityFee: 500_000_000},
			want:  GasCharge{Units: 2, BaseWei: 2_000_000_000, PriorityWei: 1_000_000_000, TotalWei: 3_000_000_000, Total: 3, Burn: 2, Sequencer: 1},
		},
		{
			// 1 unit * 999,999,999 wei base + 1 wei tip = 1e9 wei = 1 gwei; the base part
			// is below a gwei, so nothing is burned and the sequencer gets the gwei.
			name: "base part below a gwei", s: small, kind: TxAttestation,
			price: GasPrice{BaseFee: 999_999_999, PriorityFee: 1},
			want:  GasCharge{Units: 1, BaseWei: 999_999_999, PriorityWei: 1, TotalWei: 1_000_000_000, Total: 1, Sequencer: 1},
		},
		{
			// 1 wei of L1 fee costs a whole gwei.
			name: "one wei", s: small, kind: TxSettlement,
			price: GasPrice{L1Fee: [NumTxKinds]int64{TxSettlement: 1}},
			want:  GasCharge{L1Wei: 1, TotalWei: 1, Total: 1, Sequencer: 1},
		},
		{name: "free", s: small, kind: TxSettlement, price: GasPrice{}, want: GasCharge{}},
		{
			name: "units x fee overflow", s: def, kind: TxEscrowLock, price: GasPrice{BaseFee: math.MaxInt64 / 1000},
			err: ErrOverflow,
		},
		{
			name: "sum overflow", s: small, kind: TxTransfer, price: GasPrice{BaseFee: math.MaxInt64 / 7, L1Fee: [NumTxKinds]int64{TxTransfer: 100}},
			err: ErrOverflow,
		},
		{name: "negative base fee", s: def, kind: TxSwap, price: GasPrice{BaseFee: -1}, err: ErrBadGasPrice},
		{name: "negative tip", s: def, kind: TxSwap, price: GasPrice{PriorityFee: -1}, err: ErrBadGasPrice},
		{name: "negative L1 fee", s: def, kind: TxSwap, price: GasPrice{L1Fee: [NumTxKinds]int64{TxSwap: -1}}, err: ErrBadGasPrice},
		{name: "bad kind", s: def, kind: NumTxKinds, err: ErrBadTxKind},
	}
	for _, c := range cases {
		got, err := c.s.Quote(c.kind, &c.price)
		if !errors.Is(err, c.err) || err == nil && got != c.want {
			t.Errorf("%s:\n got %+v, %v\nwant %+v, %v", c.name, got, err, c.want, c.err)
		}
	}
	if _, err := def.Quote(TxSwap, nil); !errors.Is(err, ErrBadGasPrice) {
		t.Errorf("nil price: %v", err)
	}
}

// TestGasPrice checks that Price fills each kind's L1 fee from its data size.
func TestGasPrice(t *testing.T) {
	s := DefaultGasSchedule()
	m := FeeMarket{L2BaseFee: 1_000_000, PriorityFee: 2, L1BaseFee: 3_000_000_000, BlobBaseFee: 1,
		BaseFeeScalar: OPMainnetBaseFeeScalar, BlobBaseFeeScalar: OPMainnetBlobBaseFeeScalar}
	p, err := s.Price(m)
	mustOK(t, err)
	if p.BaseFee != 1_000_000 || p.PriorityFee != 2 {
		t.Errorf("L2 fees %d %d", p.BaseFee, p.PriorityFee)
	}
	// Transfer: 100 bytes, the 2025 example of TestL1DataFee: 6,566,400,081 wei.
	if p.L1Fee[TxTransfer] != 6_566_400_081 {
		t.Errorf("transfer L1 fee %d, want 6566400081", p.L1Fee[TxTransfer])
	}
	// Attestation: 350 bytes: 65,664,000,810,949 * 350 / 1e6 = 22,982,400,283.83 -> 22,982,400,283.
	if p.L1Fee[TxAttestation] != 22_982_400_283 {
		t.Errorf("attestation L1 fee %d, want 22982400283", p.L1Fee[TxAttestation])
	}
	for k := TxKind(0); k < NumTxKinds; k++ {
		want, _ := bigL1DataFee(s.DataSize[k], m.L1BaseFee, m.BlobBaseFee, m.BaseFeeScalar, m.BlobBaseFeeScalar)
		if p.L1Fee[k] != want {
			t.Errorf("%s: L1 fee %d, want %d", k, p.L1Fee[k], want)
		}
	}
	if _, err := s.Price(FeeMarket{L2BaseFee: -1}); !errors.Is(err, ErrBadGasPrice) {
		t.Errorf("negative L2 fee: %v", err)
	}
	if _, err := s.Price(FeeMarket{L1BaseFee: math.MaxInt64, BaseFeeScalar: math.MaxUint32}); !errors.Is(err, ErrOverflow) {
		t.Errorf("L1 overflow: %v", err)
	}
}

// TestChargeGas checks the ledger side: the sender's ETH, the burn, the sequencer, the
// events, and each error leaving the state unchanged.
func TestChargeGas(t *testing.T) {
	c, log := newTestChain(t, 2)
	mustOK(t, c.Mint(0, ETH, 200))
	th, _ := c.OpenThread(0, 1)
	log.Reset()
	p := GasPrice{BaseFee: 1_000_000, PriorityFee: 1_000_000, L1Fee: [NumTxKinds]int64{TxTransfer: 6_566_400_081}}
	// As in TestGasQuote: 137 gwei charged, 65 burned, 72 to the sequencer.
	mustOK(t, c.ChargeGas(th, 0, TxTransfer, &p))
	if c.Balance(0, ETH) != 63 || c.Balance(AcctBurn, ETH) != 65 || c.Balance(AcctSequencer, ETH) != 72 {
		t.Errorf("after gas: sender %d burn %d sequencer %d; want 63 65 72",
			c.Balance(0, ETH), c.Balance(AcctBurn, ETH), c.Balance(AcctSequencer, ETH))
	}
	want := []LedgerEvent{
		{Op: OpBurn, Asset: ETH, Amount: 65, From: 0, To: AcctBurn, Thread: th},
		{Op: OpFee, Asset: ETH, Amount: 72, From: 0, To: AcctSequencer, Thread: th},
	}
	if len(log.Events) != 2 || log.Events[0] != want[0] || log.Events[1] != want[1] {
		t.Errorf("events %v, want %v", log.Events, want)
	}
	mustOK(t, c.CheckInvariants())
	failsUnchanged(t, c, log, ErrInsufficientGas, "63 gwei < 137", func() error { return c.ChargeGas(NoThread, 0, TxTransfer, &p) })
	failsUnchanged(t, c, log, ErrInsufficientGas, "no ETH", func() error { return c.ChargeGas(NoThread, 1, TxTransfer, &p) })
	failsUnchanged(t, c, log, ErrBadTxKind, "kind", func() error { return c.ChargeGas(NoThread, 0, TxKind(6), &p) })
	failsUnchanged(t, c, log, ErrBadGasPrice, "nil price", func() error { return c.ChargeGas(NoThread, 0, TxSwap, nil) })
	failsUnchanged(t, c, log, ErrUnknownAccount, "account", func() error { return c.ChargeGas(NoThread, 2, TxSwap, &GasPrice{}) })
	failsUnchanged(t, c, log, ErrUnknownAccount, "sequencer pays", func() error { return c.ChargeGas(NoThread, AcctSequencer, TxSwap, &GasPrice{}) })
	failsUnchanged(t, c, log, ErrUnknownThread, "thread", func() error { return c.ChargeGas(1, 0, TxSwap, &GasPrice{}) })
	failsUnchanged(t, c, log, ErrOverflow, "cost", func() error {
		return c.ChargeGas(NoThread, 0, TxSwap, &GasPrice{BaseFee: math.MaxInt64 / 2})
	})
	// A free transaction succeeds with zero-amount events.
	log.Reset()
	mustOK(t, c.ChargeGas(NoThread, 1, TxSwap, &GasPrice{}))
	if len(log.Events) != 2 || log.Events[0].Amount != 0 || log.Events[1].Amount != 0 {
		t.Errorf("free tx events %v", log.Events)
	}
	// Exactly enough: 63 gwei left, a 63-gwei charge (63e9 wei of L1 fee) empties it.
	mustOK(t, c.ChargeGas(NoThread, 0, TxSwap, &GasPrice{L1Fee: [NumTxKinds]int64{TxSwap: 63_000_000_000}}))
	if c.Balance(0, ETH) != 0 || c.Balance(AcctSequencer, ETH) != 72+63 {
		t.Errorf("exact charge: sender %d sequencer %d", c.Balance(0, ETH), c.Balance(AcctSequencer, ETH))
	}
	mustOK(t, c.CheckInvariants())
	// The credit's overflow check is unreachable through the API; corrupt the burn total
	// directly to exercise it.
	mustOK(t, c.Mint(1, ETH, 1_000_000)) // covers 150,000 units x 1 gwei
	c.burned[ETH] = math.MaxInt64
	failsUnchanged(t, c, log, ErrOverflow, "burn overflow", func() error {
		return c.ChargeGas(NoThread, 1, TxSwap, &GasPrice{BaseFee: weiPerGwei})
	})
}

func TestGasScheduleValidate(t *testing.T) {
	s := DefaultGasSchedule()
	mustOK(t, s.Validate())
	s.DataSize[TxAttestation] = -1
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), "data_size.attestation") {
		t.Errorf("Validate = %v", err)
	}
}
