package data

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// refNextBaseFee is EIP-1559's base-fee rule written literally with math/big, the
// obviously-correct reference: parent_base_fee * gas_used_delta // parent_gas_target //
// BASE_FEE_MAX_CHANGE_DENOMINATOR, with an increase of at least 1 wei. It returns ok
// false when the result does not fit in 64 bits.
func refNextBaseFee(parent, used, target, denom uint64) (uint64, bool) {
	p := new(big.Int).SetUint64(parent)
	t := new(big.Int).SetUint64(target)
	d := new(big.Int).SetUint64(denom)
	u := new(big.Int).SetUint64(used)
	switch u.Cmp(t) {
	case 0:
		return parent, true
	case 1:
		delta := new(big.Int).Sub(u, t)
		x := new(big.Int).Mul(p, delta)
		x.Quo(x, t)
		x.Quo(x, d)
		if x.Sign() == 0 {
			x.SetInt64(1)
		}
		x.Add(x, p)
		if !x.IsUint64() {
			return 0, false
		}
		return x.Uint64(), true
	default:
		delta := new(big.Int).Sub(t, u)
		x := new(big.Int).Mul(p, delta)
		x.Quo(x, t)
		x.Quo(x, d)
		x.Sub(p, x)
		return x.Uint64(), true
	}
}

// TestNextBaseFeeHandComputed checks sequences of blocks worked out by hand.
func TestNextBaseFeeHandComputed(t *testing.T) {
	// L1: gas limit 30M, target 15M, denominator 8. Each line: parent, gas used, child.
	//  1 gwei, full block: delta 15M; 1e9*15e6/15e6 = 1e9; /8 = 125,000,000 -> 1,125,000,000 (+12.5%)
	//  at target: unchanged
	//  empty block: 1,125,000,000*15e6/15e6/8 = 140,625,000 -> 984,375,000 (-12.5%)
	//  20M used: delta 5M; 984,375,000*5e6 = 4,921,875,000,000,000; /15e6 = 328,125,000;
	//    /8 = 41,015,625 -> 1,025,390,625
	//  10,000,001 used: delta 4,999,999; 1,025,390,625*4,999,999 = 5,126,952,099,609,375;
	//    /15e6 = 341,796,806 (floor of ...806.64); /8 = 42,724,600 (floor of ...600.75)
	//    -> 1,025,390,625 - 42,724,600 = 982,666,025
	l1 := []struct{ parent, used, want uint64 }{
		{1_000_000_000, 30_000_000, 1_125_000_000},
		{1_125_000_000, 15_000_000, 1_125_000_000},
		{1_125_000_000, 0, 984_375_000},
		{984_375_000, 20_000_000, 1_025_390_625},
		{1_025_390_625, 10_000_001, 982_666_025},
		// A 7 wei parent one gas over target: 7*1/15e6/8 = 0, and the EIP's max(., 1) makes it +1.
		{7, 15_000_001, 8},
	}
	for i, c := range l1 {
		if c.parent != l1[max(i-1, 0)].want && i > 0 && i < 5 {
			t.Fatalf("row %d does not continue the sequence", i)
		}
		if got := NextBaseFee(c.parent, c.used, 15_000_000, 8); got != c.want {
			t.Errorf("L1 NextBaseFee(%d, %d) = %d, want %d", c.parent, c.used, got, c.want)
		}
		dv := newDivider(15_000_000 * 8)
		if got := dv.next(c.parent, c.used, 15_000_000, 8); got != c.want {
			t.Errorf("L1 divider.next(%d, %d) = %d, want %d", c.parent, c.used, got, c.want)
		}
	}
	// OP-stack L2: gas limit 30M, elasticity 6 (target 5M), denominator 250.
	//  0.001 gwei = 1,000,000 wei, full block: delta 25M; 1e6*25e6/5e6 = 5e6; /250 = 20,000 -> 1,020,000 (+2%)
	//  empty: 1,020,000*5e6/5e6/250 = 4,080 -> 1,015,920 (-0.4%)
	//  one gas over target: 1,015,920*1/5e6 = 0; 0/250 = 0 -> max(0, 1) = 1 -> 1,015,921
	l2 := []struct{ parent, used, want uint64 }{
		{1_000_000, 30_000_000, 1_020_000},
		{1_020_000, 0, 1_015_920},
		{1_015_920, 5_000_001, 1_015_921},
	}
	for _, c := range l2 {
		if got := NextBaseFee(c.parent, c.used, 5_000_000, 250); got != c.want {
			t.Errorf("L2 NextBaseFee(%d, %d) = %d, want %d", c.parent, c.used, got, c.want)
		}
	}
}

// TestNextBaseFeeMatchesReference compares NextBaseFee and the chain's fast divider
// path with the big-integer reference on random inputs, small and near overflow.
func TestNextBaseFeeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	targets := []uint64{1, 7, 5_000_000, 15_000_000, 1 << 39}
	denoms := []uint64{1, 8, 250, 1 << 20}
	for i := 0; i < 200_000; i++ {
		target := targets[r.IntN(len(targets))]
		denom := denoms[r.IntN(len(denoms))]
		used := r.Uint64N(target*6 + 1)
		var parent uint64
		switch r.IntN(3) {
		case 0:
			parent = r.Uint64N(1 << 20)
		case 1:
			parent = r.Uint64N(1 << 44)
		default:
			parent = r.Uint64() // forces the 128-bit path
		}
		want, ok := refNextBaseFee(parent, used, target, denom)
		got := NextBaseFee(parent, used, target, denom)
		if !ok {
			if got != math.MaxUint64 {
				t.Fatalf("NextBaseFee(%d, %d, %d, %d) = %d, want saturation", parent, used, target, denom, got)
			}
			continue
		}
		if got != want {
			t.Fatalf("NextBaseFee(%d, %d, %d, %d) = %d, want %d", parent, used, target, denom, got, want)
		}
		dv := newDivider(target * denom)
		if got := dv.next(parent, used, target, denom); got != want {
			t.Fatalf("divider.next(%d, %d, %d, %d) = %d, want %d", parent, used, target, denom, got, want)
		}
	}
}

func TestDividerExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ds := []uint64{1, 2, 3, 7, 8, 10, 120_000_000, 1_250_000_000, 1<<63 + 1, math.MaxUint64}
	for i := 0; i < 200; i++ {
		ds = append(ds, r.Uint64N(1<<uint(1+r.IntN(63)))+1)
	}
	for _, d := range ds {
		dv := newDivider(d)
		for _, n := range []uint64{0, 1, d - 1, d, d + 1, math.MaxUint64, math.MaxUint64 - 1} {
			if got := dv.div(n); got != n/d {
				t.Fatalf("div(%d)/%d = %d, want %d", n, d, got, n/d)
			}
		}
		for j := 0; j < 500; j++ {
			n := r.Uint64()
			if got := dv.div(n); got != n/d {
				t.Fatalf("div(%d)/%d = %d, want %d", n, d, got, n/d)
			}
		}
	}
}

// TestNextBaseFeeBound is the property that the base fee never moves more than 1/8
// (12.5%) a block on L1, except for the EIP's minimum increase of 1 wei, which exceeds
// 12.5% only below 8 wei.
func TestNextBaseFeeBound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const target, limit = 15_000_000, 30_000_000
	for i := 0; i < 200_000; i++ {
		parent := r.Uint64N(1 << uint(r.IntN(50)+1))
		used := r.Uint64N(limit + 1)
		next := NextBaseFee(parent, used, target, 8)
		switch {
		case next > parent:
			if next-parent > max(parent/8, 1) {
				t.Fatalf("parent %d used %d: rose by %d > max(parent/8, 1)", parent, used, next-parent)
			}
		case parent-next > parent/8:
			t.Fatalf("parent %d used %d: fell by %d > parent/8", parent, used, parent-next)
		}
	}
}

// TestChainFollowsRecursion runs the L1 generator with one block per tick (tick =
// 12 s), so that its representative fee is the base fee of each block, and checks every
// block against the big-integer reference and the 12.5% bound, through a 20x demand
// shock and back.
func TestChainFollowsRecursion(t *testing.T) {
	c := DefaultConfig()
	l1 := c.Gas.L1
	ch := newChain(int64(l1.BlockTime), int64(12*time.Second), l1.GasLimit, l1.Elasticity, l1.Denominator,
		l1.InitialBaseFeeGwei, l1.Demand, rand.New(rand.NewPCG(7, 8)))
	target := l1.GasLimit / l1.Elasticity
	rose, fell := 0, 0
	for k := 0; k < 20_000; k++ {
		ch.mult = 1
		if k >= 5000 && k < 5300 {
			ch.mult = 20
		}
		prev := ch.baseFee
		ch.step()
		if ch.rep != prev {
			t.Fatalf("block %d: representative %d != the block's base fee %d", k, ch.rep, prev)
		}
		want, _ := refNextBaseFee(prev, ch.lastUsed, target, l1.Denominator)
		if ch.baseFee != want {
			t.Fatalf("block %d: base fee %d after parent %d with %d gas used, want %d", k, ch.baseFee, prev, ch.lastUsed, want)
		}
		if ch.lastUsed > l1.GasLimit {
			t.Fatalf("block %d used %d > limit", k, ch.lastUsed)
		}
		if d := float64(ch.baseFee)/float64(prev) - 1; d > 0.125+1e-12 || d < -0.125-1e-12 {
			t.Fatalf("block %d moved by %.4f%%", k, 100*d)
		}
		switch {
		case ch.baseFee > prev:
			rose++
		case ch.baseFee < prev:
			fell++
		}
	}
	if rose < 1000 || fell < 1000 {
		t.Errorf("base fee rose %d and fell %d times in 20000 blocks: the gas-used process is not stochastic", rose, fell)
	}
}

// refFakeExponential is EIP-4844's fake_exponential with math/big.
func refFakeExponential(factor, numerator, denominator uint64) *big.Int {
	f, n, d := new(big.Int).SetUint64(factor), new(big.Int).SetUint64(numerator), new(big.Int).SetUint64(denominator)
	out := new(big.Int)
	acc := new(big.Int).Mul(f, d)
	for i := int64(1); acc.Sign() > 0; i++ {
		out.Add(out, acc)
		acc.Mul(acc, n)
		acc.Quo(acc, new(big.Int).Mul(d, big.NewInt(i)))
	}
	return out.Quo(out, d)
}

func TestFakeExponential(t *testing.T) {
	// By hand: e^0 = 1 exactly; numerator 0 gives factor.
	if got := FakeExponential(1, 0, 3338477); got != 1 {
		t.Errorf("fake_exponential(1, 0, F) = %d, want 1", got)
	}
	if got := FakeExponential(5, 0, 3338477); got != 5 {
		t.Errorf("fake_exponential(5, 0, F) = %d, want 5", got)
	}
	// 1000 * e^1 = 2718.28...; the truncated series gives 2718.
	if got := FakeExponential(1000, 3338477, 3338477); got != 2718 {
		t.Errorf("fake_exponential(1000, F, F) = %d, want 2718", got)
	}
	for _, x := range []uint64{1, 1 << 17, 3338477, 10_000_000, 50_000_000, 100_000_000} {
		want := refFakeExponential(1, x, 3338477)
		got := FakeExponential(1, x, 3338477)
		if want.IsUint64() && got != want.Uint64() {
			t.Errorf("FakeExponential(1, %d) = %d, want %s", x, got, want)
		}
		// The float value is within 1 wei plus truncation of 1*e^(x/F).
		if f := math.Exp(float64(x) / 3338477); want.IsUint64() && math.Abs(float64(got)-f) > 1+1e-9*f {
			t.Errorf("FakeExponential(1, %d) = %d, far from e^x = %g", x, got, f)
		}
	}
	if got := FakeExponential(1, 1<<40, 3338477); got != math.MaxUint64 {
		t.Errorf("huge excess: got %d, want saturation", got)
	}
}

func TestNextExcessBlobGas(t *testing.T) {
	const target = 3 * GasPerBlob
	// By hand: below target the excess is floored at 0; above it accumulates.
	cases := []struct{ excess, used, want uint64 }{
		{0, 0, 0},
		{0, 2 * GasPerBlob, 0},
		{0, 6 * GasPerBlob, 3 * GasPerBlob},
		{3 * GasPerBlob, 6 * GasPerBlob, 6 * GasPerBlob},
		{6 * GasPerBlob, 0, 3 * GasPerBlob},
		{GasPerBlob, GasPerBlob, 0},
	}
	for _, c := range cases {
		if got := NextExcessBlobGas(c.excess, c.used, target); got != c.want {
			t.Errorf("NextExcessBlobGas(%d, %d) = %d, want %d", c.excess, c.used, got, c.want)
		}
	}
}

func TestL1DataFee(t *testing.T) {
	// By hand: 400 bytes at an L1 base fee of 15 gwei and a blob base fee of 1 wei:
	// 16 * 15e9 * 1368 = 328,320,000,000,000; + 1 * 810,949 = 328,320,000,810,949;
	// * 400 = 131,328,000,324,379,600; / 1e6 = 131,328,000,324 wei (floor).
	if got := L1DataFee(400, 15_000_000_000, 1, 1368, 810949); got != 131_328_000_324 {
		t.Errorf("L1DataFee = %d, want 131328000324", got)
	}
	// Blob-only: 100 bytes, 0 L1 base fee, blob fee 10 wei: 100*8,109,490/1e6 = 810 (floor of 810.949).
	if got := L1DataFee(100, 0, 10, 1368, 810949); got != 810 {
		t.Errorf("L1DataFee blob-only = %d, want 810", got)
	}
	if got := L1DataFee(1<<24, math.MaxUint64/2, 1, 1368, 810949); got != math.MaxUint64 {
		t.Errorf("overflowing L1DataFee = %d, want saturation", got)
	}
}
