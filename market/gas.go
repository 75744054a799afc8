package market

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// TxKind is the kind of an on-chain write; each has its own gas units and calldata size.
type TxKind uint8

const (
	TxEscrowLock     TxKind = iota // the client's payment into escrow
	TxCollateralLock               // the provider's collateral into escrow
	TxAttestation                  // an EAS-style attestation (buy, sell or validation)
	TxSettlement                   // a settlement: payment and collateral out of escrow
	TxTransfer                     // an ERC-20 transfer between accounts
	TxSwap                         // a DEX swap
)

// NumTxKinds is the number of transaction kinds.
const NumTxKinds = 6

var txKindNames = [NumTxKinds]string{"escrow_lock", "collateral_lock", "attestation", "settlement", "transfer", "swap"}

// Valid reports whether k names a known kind.
func (k TxKind) Valid() bool { return k < NumTxKinds }

// String returns the kind's config name (e.g. "escrow_lock").
func (k TxKind) String() string {
	if k.Valid() {
		return txKindNames[k]
	}
	return fmt.Sprintf("TxKind(%d)", uint8(k))
}

// ParseTxKind parses a kind name as written by String.
func ParseTxKind(s string) (TxKind, error) {
	for i, n := range txKindNames {
		if s == n {
			return TxKind(i), nil
		}
	}
	return 0, fmt.Errorf("market: unknown transaction kind %q: %w", s, ErrBadTxKind)
}

// Gas errors.
var (
	ErrBadTxKind       = errors.New("market: unknown transaction kind")
	ErrBadGasPrice     = errors.New("market: bad gas price")
	ErrInsufficientGas = errors.New("market: insufficient ETH for gas")
)

// GasSchedule gives, per transaction kind, the L2 gas units it burns and the compressed
// size of its transaction in bytes (the input of the L1 data fee).
type GasSchedule struct {
	Units    [NumTxKinds]int64
	DataSize [NumTxKinds]int64
}

// DefaultGasSchedule returns the default gas schedule. The figures are assumptions
// calibrated from public Ethereum numbers, since CoopHive publishes no gas report:
//
//   - transfer 65,000 gas, 100 bytes: an ERC-20 transfer to a fresh holder is 21,000
//     intrinsic (yellow paper G_transaction) + 20,000 for the new storage slot (EIP-2200)
//   - calldata and execution; USDC transfers on explorers use about 45,000-65,000. A
//     signed ERC-20 transfer is about 110 bytes of RLP; 100 bytes compressed is also the
//     floor OP Fjord applies to its size estimate.
//   - escrow lock and collateral lock 110,000 gas, 120 bytes each: an ERC-20 approve
//     (about 46,000) plus a transferFrom into the escrow contract (about 65,000).
//   - attestation 180,000 gas, 350 bytes: an EAS attest() that stores a new record with a
//     resolver call; EAS attestations on explorers use about 150,000-250,000. The buy
//     schema's seven 32-byte ABI words plus the envelope are about 450 bytes raw.
//   - settlement 130,000 gas, 120 bytes: two ERC-20 transfers out of escrow (about 35,000
//     each, warm slots) plus the resolver's bookkeeping and logs.
//   - swap 150,000 gas, 180 bytes: a Uniswap v3 exactInputSingle uses about
//     130,000-180,000.
func DefaultGasSchedule() GasSchedule {
	var s GasSchedule
	s.Units = [NumTxKinds]int64{
		TxEscrowLock:     110_000,
		TxCollateralLock: 110_000,
		TxAttestation:    180_000,
		TxSettlement:     130_000,
		TxTransfer:       65_000,
		TxSwap:           150_000,
	}
	s.DataSize = [NumTxKinds]int64{
		TxEscrowLock:     120,
		TxCollateralLock: 120,
		TxAttestation:    350,
		TxSettlement:     120,
		TxTransfer:       100,
		TxSwap:           180,
	}
	return s
}

// Validate checks that units and sizes are non-negative, with field paths
// "units.<kind>" and "data_size.<kind>".
func (s *GasSchedule) Validate() error {
	var errs []error
	for k := TxKind(0); k < NumTxKinds; k++ {
		if s.Units[k] < 0 {
			errs = append(errs, fieldpath.Errorf("units."+k.String(), "must be non-negative, got %d", s.Units[k]))
		}
		if s.DataSize[k] < 0 {
			errs = append(errs, fieldpath.Errorf("data_size."+k.String(), "must be non-negative, got %d", s.DataSize[k]))
		}
	}
	return errors.Join(errs...)
}

// The OP Mainnet fee scalars of the Ecotone L1 data fee (specs/world.md "Gas").
const (
	OPMainnetBaseFeeScalar     = 1368
	OPMainnetBlobBaseFeeScalar = 810949
)

// L1DataFee returns the L1 data fee in wei of a transaction of compressedSize bytes, by
// the OP Stack Ecotone formula (specs/world.md "Gas"; OP Stack specs, "Ecotone L1 cost
// function"):
//
//	fee = compressedSize * (16*l1BaseFee*baseFeeScalar + blobBaseFee*blobBaseFeeScalar) / 1e6
//
// with integer division (rounding down, as the GasPriceOracle contract does). Fees are in
// wei; the scalars are uint32 on chain and must be in [0, 2^32). The intermediate products
// are computed in 128 bits, so only a result above math.MaxInt64 is ErrOverflow; a
// negative input is ErrBadGasPrice. (OP's Fjord upgrade replaced compressedSize by a
// FastLZ-based estimate; the caller chooses what size to pass.)
func L1DataFee(compressedSize, l1BaseFee, blobBaseFee, baseFeeScalar, blobBaseFeeScalar int64) (int64, error) {
	if compressedSize < 0 || l1BaseFee < 0 || blobBaseFee < 0 || baseFeeScalar < 0 || blobBaseFeeScalar < 0 ||
		baseFeeScalar > math.MaxUint32 || blobBaseFeeScalar > math.MaxUint32 {
		return 0, ErrBadGasPrice
	}
	// w = 16*l1BaseFee*baseFeeScalar + blobBaseFee*blobBaseFeeScalar, in 128 bits:
	// 16*baseFeeScalar < 2^36, so each product is below 2^99 and the sum below 2^100.
	h1, l1 := bits.Mul64(uint64(l1BaseFee), 16*uint64(baseFeeScalar))
	h2, l2 := bits.Mul64(uint64(blobBaseFee), uint64(blobBaseFeeScalar))
	wl, carry := bits.Add64(l1, l2, 0)
	wh, _ := bits.Add64(h1, h2, carry)
	// p = w * compressedSize, in up to 192 bits; its top word must be zero.
	ph, pl := bits.Mul64(wl, uint64(compressedSize))
	top, mid := bits.Mul64(wh, uint64(compressedSize))
	if top != 0 {
		return 0, ErrOverflow
	}
	ph, carry = bits.Add64(ph, mid, 0)
	if carry != 0 {
		return 0, ErrOverflow
	}
	const denom = 1_000_000
	if ph >= denom { // the quotient would not fit 64 bits
		return 0, ErrOverflow
	}
	q, _ := bits.Div64(ph, pl, denom)
	if q > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(q), nil
}

// FeeMarket is the state of the fee markets for one tick, as the world generates it
// (specs/world.md "Gas"): all fees in wei, the scalars as on chain (see
// OPMainnetBaseFeeScalar and OPMainnetBlobBaseFeeScalar).
type FeeMarket struct {
	L2BaseFee         int64 // L2 EIP-1559 base fee, wei per gas
	PriorityFee       int64 // L2 priority fee (tip), wei per gas
	L1BaseFee         int64 // L1 base fee, wei per gas
	BlobBaseFee       int64 // L1 blob base fee, wei per blob gas
	BaseFeeScalar     int64
	BlobBaseFeeScalar int64
}

// GasPrice is what a transaction costs during one tick: the L2 fees per gas and the L1
// data fee of each transaction kind, all in wei. Build it once per tick with
// GasSchedule.Price, or fill it directly.
type GasPrice struct {
	BaseFee     int64             // wei per gas, burned
	PriorityFee int64             // wei per gas, to the sequencer
	L1Fee       [NumTxKinds]int64 // wei per transaction, to the sequencer
}

// Price computes the tick's gas price from the fee markets: the L2 fees copied, the L1
// data fee of each kind from its DataSize by L1DataFee.
func (s *GasSchedule) Price(m FeeMarket) (GasPrice, error) {
	if m.L2BaseFee < 0 || m.PriorityFee < 0 {
		return GasPrice{}, ErrBadGasPrice
	}
	p := GasPrice{BaseFee: m.L2BaseFee, PriorityFee: m.PriorityFee}
	for k := TxKind(0); k < NumTxKinds; k++ {
		f, err := L1DataFee(s.DataSize[k], m.L1BaseFee, m.BlobBaseFee, m.BaseFeeScalar, m.BlobBaseFeeScalar)
		if err != nil {
			return GasPrice{}, fmt.Errorf("market: L1 data fee of %s: %w", k, err)
		}
		p.L1Fee[k] = f
	}
	return p, nil
}

// GasCharge is the cost of one transaction: the wei parts and what is charged in gwei.
type GasCharge struct {
	Units       int64 // gas units of the kind
	BaseWei     int64 // Units * BaseFee
	PriorityWei int64 // Units * PriorityFee
	L1Wei       int64 // the kind's L1 data fee
	TotalWei    int64 // BaseWei + PriorityWei + L1Wei
	Total       int64 // gwei debited from the sender: ceil(TotalWei / 1e9)
	Burn        int64 // gwei burned: floor(BaseWei / 1e9)
	Sequencer   int64 // gwei to the sequencer: Total - Burn
}

const weiPerGwei = 1_000_000_000

// Quote computes what a transaction of kind costs at price p. Rounding: balances are in
// gwei, so the sender pays the total rounded up to a whole gwei; the burn is the base-fee
// part rounded down; the sequencer gets the rest (priority fee + L1 data fee + the
// rounding, which is under 2 gwei). Burn + Sequencer == Total exactly, so conservation
// holds, and no part is ever negative. Errors: ErrBadTxKind, ErrBadGasPrice (nil price or
// a negative fee), ErrOverflow.
func (s *GasSchedule) Quote(kind TxKind, p *GasPrice) (GasCharge, error) {
	if !kind.Valid() {
		return GasCharge{}, ErrBadTxKind
	}
	if p == nil || p.BaseFee < 0 || p.PriorityFee < 0 || p.L1Fee[kind] < 0 {
		return GasCharge{}, ErrBadGasPrice
	}
	g := GasCharge{Units: s.Units[kind], L1Wei: p.L1Fee[kind]}
	var ok1, ok2, ok3, ok4 bool
	g.BaseWei, ok1 = mul64(g.Units, p.BaseFee)
	g.PriorityWei, ok2 = mul64(g.Units, p.PriorityFee)
	g.TotalWei, ok3 = add64(g.BaseWei, g.PriorityWei)
	g.TotalWei, ok4 = add64(g.TotalWei, g.L1Wei)
	if !(ok1 && ok2 && ok3 && ok4) {
		return GasCharge{}, ErrOverflow
	}
	g.Total = g.TotalWei / weiPerGwei
	if g.TotalWei%weiPerGwei != 0 {
		g.Total++
	}
	g.Burn = g.BaseWei / weiPerGwei
	g.Sequencer = g.Total - g.Burn
	return g, nil
}

// GasQuote is Quote with the chain's schedule.
func (c *Chain) GasQuote(kind TxKind, p *GasPrice) (GasCharge, error) { return c.gas.Quote(kind, p) }

// ChargeGas charges acct the gas of one transaction of kind at price p, in ETH (gwei):
// the base-fee part is burned, the rest goes to the sequencer (see Quote for the
// rounding). thread is the thread the transaction belongs to, or NoThread; it only labels
// the events. Checks, in order: ErrBadTxKind, ErrBadGasPrice, ErrOverflow (the cost),
// ErrUnknownAccount, ErrUnknownThread, ErrInsufficientGas, ErrOverflow (the credit). Emits {burn, From: acct, To: burn}
// then {fee, From: acct, To: sequencer}, both always (amounts may be 0).
func (c *Chain) ChargeGas(thread ThreadID, acct AccountID, kind TxKind, p *GasPrice) error {
	g, err := c.gas.Quote(kind, p)
	if err != nil {
		return err
	}
	if !c.validAccount(acct) {
		return ErrUnknownAccount
	}
	if thread != NoThread && c.thread(thread) == nil {
		return ErrUnknownThread
	}
	b := c.bal[acct][ETH]
	if b < g.Total {
		return ErrInsufficientGas
	}
	nb, ok1 := add64(c.burned[ETH], g.Burn)
	ns, ok2 := add64(c.sequencer[ETH], g.Sequencer)
	if !ok1 || !ok2 {
		return ErrOverflow
	}
	c.bal[acct][ETH] = b - g.Total
	c.burned[ETH] = nb
	c.sequencer[ETH] = ns
	c.emit(OpBurn, ETH, g.Burn, acct, AcctBurn, thread)
	c.emit(OpFee, ETH, g.Sequencer, acct, AcctSequencer, thread)
	return nil
}
