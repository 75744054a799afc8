package data

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// NextBaseFee is the EIP-1559 base fee of the block after a parent with base fee
// parent (wei per gas) that used gasUsed of its gasTarget, with change denominator
// denom (BASE_FEE_MAX_CHANGE_DENOMINATOR: 8 on L1, 250 on OP-stack L2s). It follows
// the EIP's integer arithmetic exactly:
//
//	used == target: parent
//	used >  target: parent + max(parent*(used-target) // target // denom, 1)
//	used <  target: parent - parent*(target-used) // target // denom
//
// (EIP-1559, "Specification"). The product parent*delta is formed in 128 bits, so
// nothing overflows; a result above 2^64-1 wei saturates there. gasTarget and denom
// must be positive.
func NextBaseFee(parent, gasUsed, gasTarget, denom uint64) uint64 {
	switch {
	case gasUsed == gasTarget:
		return parent
	case gasUsed > gasTarget:
		d := mulDiv2(parent, gasUsed-gasTarget, gasTarget, denom)
		if d < 1 {
			d = 1
		}
		s, carry := bits.Add64(parent, d, 0)
		if carry != 0 {
			return math.MaxUint64
		}
		return s
	default:
		d := mulDiv2(parent, gasTarget-gasUsed, gasTarget, denom)
		return parent - d // d <= parent because target-used <= target
	}
}

// mulDiv returns floor(a*b/c) with a 128-bit product, saturating at 2^64-1.
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi == 0 {
		return lo / c
	}
	if hi >= c {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// mulDiv2 returns floor(floor(a*b/c)/d), which equals floor(a*b/(c*d)) for positive
// integers; one division is cheaper than two when c*d fits in 64 bits.
func mulDiv2(a, b, c, d uint64) uint64 {
	if hi, cd := bits.Mul64(c, d); hi == 0 {
		return mulDiv(a, b, cd)
	}
	return mulDiv(a, b, c) / d
}

// divider divides 64-bit integers by a fixed divisor with a multiply and a shift
// (Granlund & Montgomery 1994, "Division by invariant integers using
// multiplication"; the branchy variant of libdivide's u64 algorithm): the per-block
// EIP-1559 update divides by the same target*denominator millions of times.
type divider struct {
	d     uint64
	magic uint64
	shift uint
	add   bool // the magic number needs 65 bits: use the add-and-shift fix-up
	pow2  bool
}

func newDivider(d uint64) divider {
	if d == 0 {
		panic("data: division by zero")
	}
	l := uint(63 - bits.LeadingZeros64(d)) // floor(log2 d)
	if d&(d-1) == 0 {
		return divider{d: d, shift: l, pow2: true}
	}
	// m = floor(2^(64+l) / d), rem = 2^(64+l) mod d.
	m, rem := bits.Div64(uint64(1)<<l, 0, d)
	if e := d - rem; e < uint64(1)<<l {
		return divider{d: d, magic: m + 1, shift: l}
	}
	m += m
	if twice := rem + rem; twice >= d || twice < rem {
		m++
	}
	return divider{d: d, magic: m + 1, shift: l, add: true}
}

// div returns floor(n / d).
func (v *divider) div(n uint64) uint64 {
	if v.pow2 {
		return n >> v.shift
	}
	q, _ := bits.Mul64(v.magic, n)
	if !v.add {
		return q >> v.shift
	}
	return (((n - q) >> 1) + q) >> v.shift
}

// next is NextBaseFee(parent, used, target, denom) with the division by
// target*denominator done by v when the product parent*delta fits in 64 bits.
func (v *divider) next(parent, used, target, denom uint64) uint64 {
	var delta uint64
	if used > target {
		delta = used - target
	} else {
		delta = target - used
	}
	hi, lo := bits.Mul64(parent, delta)
	if hi != 0 || v.d == 0 {
		return NextBaseFee(parent, used, target, denom)
	}
	d := v.div(lo)
	switch {
	case used > target:
		return addSat(parent, max(d, 1))
	case used < target:
		return parent - d
	}
	return parent
}

// mulSat returns a*b, saturating at 2^64-1.
func mulSat(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// addSat returns a+b, saturating at 2^64-1.
func addSat(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

// GasPerBlob is EIP-4844's GAS_PER_BLOB (2^17).
const GasPerBlob = 1 << 17

// NextExcessBlobGas is EIP-4844's calc_excess_blob_gas: the parent's excess plus the
// blob gas it used, minus the target, floored at 0.
func NextExcessBlobGas(parentExcess, parentBlobGasUsed, targetBlobGas uint64) uint64 {
	s := addSat(parentExcess, parentBlobGasUsed)
	if s < targetBlobGas {
		return 0
	}
	return s - targetBlobGas
}

// FakeExponential is EIP-4844's fake_exponential(factor, numerator, denominator), an
// integer approximation of factor * e^(numerator/denominator) by its Taylor series;
// the blob base fee is FakeExponential(MIN_BASE_FEE_PER_BLOB_GAS, excess_blob_gas,
// BLOB_BASE_FEE_UPDATE_FRACTION). Intermediate products are 128-bit; a result that
// does not fit saturates at 2^64-1.
func FakeExponential(factor, numerator, denominator uint64) uint64 {
	hi, acc := bits.Mul64(factor, denominator)
	if hi != 0 {
		return math.MaxUint64
	}
	var outHi, outLo uint64 // the sum, in 128 bits
	for i := uint64(1); acc > 0; i++ {
		var c uint64
		outLo, c = bits.Add64(outLo, acc, 0)
		outHi += c
		div := mulSat(denominator, i)
		hi, lo := bits.Mul64(acc, numerator)
		if hi >= div {
			return math.MaxUint64
		}
		acc, _ = bits.Div64(hi, lo, div)
	}
	if outHi >= denominator {
		return math.MaxUint64
	}
	q, _ := bits.Div64(outHi, outLo, denominator)
	return q
}

// L1DataFee is the L1 data fee of an OP-stack transaction in wei (specs/world.md; the
// Ecotone/Fjord formula with the size already in compressed bytes):
//
//	size * (16 * l1BaseFee * baseFeeScalar + blobBaseFee * blobBaseFeeScalar) / 1e6
//
// computed in integers with 128-bit products, saturating at 2^64-1.
func L1DataFee(size, l1BaseFee, blobBaseFee, baseFeeScalar, blobBaseFeeScalar uint64) uint64 {
	scaled := addSat(mulSat(mulSat(16, l1BaseFee), baseFeeScalar), mulSat(blobBaseFee, blobBaseFeeScalar))
	return mulDiv(size, scaled, 1_000_000)
}

// gweiToWei converts a gwei amount to wei, rounding to the nearest wei (at least 1).
func gweiToWei(g float64) uint64 {
	w := math.Round(g * 1e9)
	if w < 1 {
		return 1
	}
	if w >= math.MaxUint64 {
		return math.MaxUint64
	}
	return uint64(w)
}

// chain is the base fee of one EIP-1559 chain, block by block, driven by a log-OU
// demand level per tick (DemandConfig). Representative values are per tick: Rep is the
// mean of the base fees of the tick's blocks.
type chain struct {
	baseFee       uint64 // base fee of the next block to be produced
	rep           uint64 // mean base fee of the blocks of the last tick
	target, limit uint64
	denom         uint64
	div           divider // by target*denom (zero value when it overflows)
	blockNs       int64
	tickNs        int64
	ticks         int64 // ticks stepped

	logD, logMean, phi, innov float64 // log demand (wei): OU per tick
	response, noise           float64
	mult                      float64 // demand multiplier (shocks)
	lastUsed                  uint64  // gas used by the last block (for tests)

	rng *rand.Rand
}

func newChain(blockTime, tick int64, limit, elasticity, denom uint64, initialGwei float64, d DemandConfig, r *rand.Rand) *chain {
	c := &chain{
		baseFee: gweiToWei(initialGwei),
		target:  limit / elasticity, limit: limit, denom: denom,
		blockNs: blockTime, tickNs: tick,
		logMean:  math.Log(d.MedianGwei * 1e9),
		response: d.Response, noise: d.BlockNoise, mult: 1, rng: r,
	}
	if hi, td := bits.Mul64(c.target, denom); hi == 0 {
		c.div = newDivider(td)
	}
	c.rep = c.baseFee
	c.logD = c.logMean
	// Exact OU discretization over one tick (Uhlenbeck & Ornstein 1930): phi = e^{-kappa dt},
	// innovation sd = stationary sd * sqrt(1 - phi^2).
	kappa := math.Ln2 / float64(d.HalfLife)
	c.phi = math.Exp(-kappa * float64(tick))
	c.innov = d.LogSD * math.Sqrt(1-c.phi*c.phi)
	return c
}

// step advances the demand level one tick and produces the tick's blocks.
func (c *chain) step() {
	c.logD = c.logMean + c.phi*(c.logD-c.logMean) + c.innov*c.rng.NormFloat64()
	demand := math.Exp(c.logD) * c.mult
	c.ticks++
	n := blocksIn(c.ticks, c.tickNs, c.blockNs)
	if n == 0 {
		c.rep = c.baseFee
		return
	}
	tf := float64(c.target)
	lf := float64(c.limit)
	var sumHi, sumLo uint64
	for range n {
		b := c.baseFee
		var carry uint64
		sumLo, carry = bits.Add64(sumLo, b, 0)
		sumHi += carry
		// Gas used responds to the gap between demand and the block's base fee.
		u := tf * (1 + c.response*(demand/float64(max(b, 1))-1) + c.noise*c.rng.NormFloat64())
		if !(u > 0) { // also catches NaN
			u = 0
		} else if u > lf {
			u = lf
		}
		used := uint64(u)
		c.lastUsed = used
		c.baseFee = c.div.next(b, used, c.target, c.denom)
	}
	if sumHi >= uint64(n) {
		c.rep = math.MaxUint64
	} else {
		c.rep, _ = bits.Div64(sumHi, sumLo, uint64(n))
	}
}

// blocksIn returns the number of blocks of length blockNs that start in tick k (the
// interval ((k-1)*tick, k*tick] since tick 0), k >= 1.
func blocksIn(k, tickNs, blockNs int64) int64 {
	return (k*tickNs)/blockNs - ((k-1)*tickNs)/blockNs
}

// blobMarket is the EIP-4844 blob gas market: Poisson blobs per L1 block (capped at
// the maximum), excess blob gas per block, and the blob base fee at the tick's end.
type blobMarket struct {
	excess    uint64
	target    uint64 // target blob gas per block
	fraction  uint64
	minFee    uint64
	fee       uint64
	cdf       []float64 // P(blobs <= k), k = 0..max-1; the rest is max
	rng       *rand.Rand
	lastBlobs uint64
}

func newBlobMarket(cfg BlobConfig, r *rand.Rand) *blobMarket {
	m := &blobMarket{
		target: cfg.TargetBlobs * GasPerBlob, fraction: cfg.UpdateFraction, minFee: cfg.MinBaseFeeWei, rng: r,
	}
	// Capped Poisson CDF.
	p := math.Exp(-cfg.MeanBlobs)
	cum := 0.0
	for k := uint64(0); k < cfg.MaxBlobs; k++ {
		cum += p
		m.cdf = append(m.cdf, cum)
		p *= cfg.MeanBlobs / float64(k+1)
	}
	m.updateFee()
	return m
}

func (m *blobMarket) block() {
	u := m.rng.Float64()
	k := uint64(0)
	for k < uint64(len(m.cdf)) && u >= m.cdf[k] {
		k++
	}
	m.lastBlobs = k
	m.excess = NextExcessBlobGas(m.excess, k*GasPerBlob, m.target)
}

func (m *blobMarket) updateFee() { m.fee = FakeExponential(m.minFee, m.excess, m.fraction) }
