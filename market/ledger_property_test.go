package market

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

var longTests = flag.Bool("long", false, "run the long randomized chain tests (with -short unset)")

// This file holds the property test of the chain: seeded random sequences of valid and
// invalid ops, each applied to the chain and to refModel, a slow, obviously-correct
// reference ledger written with maps and math/big. After every op the harness checks:
// the same error (or success) as the reference; a failed op changed nothing (deep
// comparison with a clone taken before) and emitted nothing; the same events, balances,
// threads, reputations and attestations as the reference; conservation per asset and no
// negative balance (computed here, and by CheckInvariants); payment and collateral each
// paid out at most once per thread.

type opKind uint8

const (
	kMint opKind = iota
	kTransfer
	kOpen
	kLockEscrow
	kLockCollateral
	kPay
	kRefund
	kReturn
	kSlash
	kGas
	kAttest
	kTick
	numOpKinds
)

type testOp struct {
	kind   opKind
	a, b   AccountID
	asset  Asset
	amt    int64
	thread ThreadID
	tx     TxKind
	price  GasPrice
	att    AttestRequest
	tick   int64
}

func (o testOp) String() string {
	switch o.kind {
	case kMint:
		return fmt.Sprintf("Mint(%s, %s, %d)", o.a, o.asset, o.amt)
	case kTransfer:
		return fmt.Sprintf("Transfer(%s, %s, %s, %d)", o.a, o.b, o.asset, o.amt)
	case kOpen:
		return fmt.Sprintf("OpenThread(%s, %s)", o.a, o.b)
	case kLockEscrow:
		return fmt.Sprintf("LockEscrow(%d, %s, %s, %d)", o.thread, o.a, o.asset, o.amt)
	case kLockCollateral:
		return fmt.Sprintf("LockCollateral(%d, %s, %s, %d)", o.thread, o.a, o.asset, o.amt)
	case kPay:
		return fmt.Sprintf("PayProvider(%d)", o.thread)
	case kRefund:
		return fmt.Sprintf("RefundClient(%d)", o.thread)
	case kReturn:
		return fmt.Sprintf("ReturnCollateral(%d)", o.thread)
	case kSlash:
		return fmt.Sprintf("SlashCollateral(%d)", o.thread)
	case kGas:
		return fmt.Sprintf("ChargeGas(%d, %s, %s, %+v)", o.thread, o.a, o.tx, o.price)
	case kAttest:
		return fmt.Sprintf("Attest(%+v)", o.att)
	case kTick:
		return fmt.Sprintf("SetTick(%d)", o.tick)
	}
	return "?"
}

// ---- the reference ledger ----

type refKey struct {
	acct  AccountID
	asset Asset
}

type refThread struct {
	client, provider   AccountID
	pay, col           LockState
	payAsset, colAsset Asset
	payAmt, colAmt     int64
}

type refModel struct {
	n       int
	bal     map[refKey]int64 // agent accounts, AcctEscrow, AcctSequencer, AcctBurn; AcctMint holds the supply
	threads []refThread
	rep     map[AccountID]Reputation
	atts    map[UID]Attestation
	child   map[UID]bool // uid -> already referenced
	order   []UID
	tick    int64
	sched   GasSchedule
}

func newRefModel(n int, sched GasSchedule) *refModel {
	return &refModel{n: n, bal: map[refKey]int64{}, rep: map[AccountID]Reputation{}, atts: map[UID]Attestation{}, child: map[UID]bool{}, sched: sched}
}

func (m *refModel) isAgent(a AccountID) bool { return a >= 0 && int(a) < m.n }

func fitsInt64(x *big.Int) bool { return x.IsInt64() }

func bsum(xs ...int64) *big.Int {
	s := new(big.Int)
	for _, x := range xs {
		s.Add(s, big.NewInt(x))
	}
	return s
}

// satSum is a+b, or math.MaxInt64 if the sum does not fit (Volume saturates).
func satSum(a, b int64) int64 {
	if s := bsum(a, b); s.IsInt64() {
		return s.Int64()
	}
	return math.MaxInt64
}

func (m *refModel) ev(op Op, asset Asset, amt int64, from, to AccountID, t ThreadID) LedgerEvent {
	return LedgerEvent{Tick: m.tick, Op: op, Asset: asset, Amount: amt, From: from, To: to, Thread: t}
}

func (m *refModel) move(from, to AccountID, asset Asset, amt int64) {
	m.bal[refKey{from, asset}] -= amt
	m.bal[refKey{to, asset}] += amt
}

// apply returns the expected events, new thread id (kOpen), attestation record
// (kAttest, without its uid) and error, and updates the model on success.
func (m *refModel) apply(o testOp) ([]LedgerEvent, ThreadID, Attestation, error) {
	switch o.kind {
	case kMint:
		switch {
		case o.asset >= NumAssets:
			return nil, 0, Attestation{}, ErrBadAsset
		case o.amt <= 0:
			return nil, 0, Attestation{}, ErrBadAmount
		case !m.isAgent(o.a):
			return nil, 0, Attestation{}, ErrUnknownAccount
		case !fitsInt64(bsum(m.bal[refKey{AcctMint, o.asset}], o.amt)):
			return nil, 0, Attestation{}, ErrOverflow
		}
		m.bal[refKey{AcctMint, o.asset}] += o.amt
		m.bal[refKey{o.a, o.asset}] += o.amt
		return []LedgerEvent{m.ev(OpMint, o.asset, o.amt, AcctMint, o.a, NoThread)}, 0, Attestation{}, nil
	case kTransfer:
		switch {
		case o.asset >= NumAssets:
			return nil, 0, Attestation{}, ErrBadAsset
		case o.amt <= 0:
			return nil, 0, Attestation{}, ErrBadAmount
		case !m.isAgent(o.a) || !m.isAgent(o.b):
			return nil, 0, Attestation{}, ErrUnknownAccount
		case m.bal[refKey{o.a, o.asset}] < o.amt:
			return nil, 0, Attestation{}, ErrInsufficientFunds
		}
		m.move(o.a, o.b, o.asset, o.amt)
		return []LedgerEvent{m.ev(OpTransfer, o.asset, o.amt, o.a, o.b, NoThread)}, 0, Attestation{}, nil
	case kOpen:
		switch {
		case !m.isAgent(o.a) || !m.isAgent(o.b):
			return nil, 0, Attestation{}, ErrUnknownAccount
		case o.a == o.b:
			return nil, 0, Attestation{}, ErrWrongParty
		}
		m.threads = append(m.threads, refThread{client: o.a, provider: o.b})
		return nil, ThreadID(len(m.threads) - 1), Attestation{}, nil
	case kLockEscrow, kLockCollateral:
		payment := o.kind == kLockEscrow
		switch {
		case o.asset >= NumAssets:
			return nil, 0, Attestation{}, ErrBadAsset
		case o.amt < 0:
			return nil, 0, Attestation{}, ErrBadAmount
		case o.thread < 0 || int(o.thread) >= len(m.threads):
			return nil, 0, Attestation{}, ErrUnknownThread
		}
		th := &m.threads[o.thread]
		party, own, other := th.client, th.pay, th.col
		if !payment {
			party, own, other = th.provider, th.col, th.pay
		}
		settled := func(s LockState) bool { return s == LockReleased || s == LockRefunded || s == LockSlashed }
		switch {
		case o.a != party:
			return nil, 0, Attestation{}, ErrWrongParty
		case own == LockHeld:
			return nil, 0, Attestation{}, ErrAlreadyLocked
		case settled(own) || settled(other):
			return nil, 0, Attestation{}, ErrAlreadySettled
		case m.bal[refKey{o.a, o.asset}] < o.amt:
			return nil, 0, Attestation{}, ErrInsufficientFunds
		}
		m.move(o.a, AcctEscrow, o.asset, o.amt)
		if payment {
			th.pay, th.payAsset, th.payAmt = LockHeld, o.asset, o.amt
		} else {
			th.col, th.colAsset, th.colAmt = LockHeld, o.asset, o.amt
		}
		return []LedgerEvent{m.ev(OpLock, o.asset, o.amt, o.a, AcctEscrow, o.thread)}, 0, Attestation{}, nil
	case kPay, kRefund, kReturn, kSlash:
		if o.thread < 0 || int(o.thread) >= len(m.threads) {
			return nil, 0, Attestation{}, ErrUnknownThread
		}
		th := &m.threads[o.thread]
		payment := o.kind == kPay || o.kind == kRefund
		st, asset, amt := th.pay, th.payAsset, th.payAmt
		if !payment {
			st, asset, amt = th.col, th.colAsset, th.colAmt
		}
		switch {
		case st == LockNone && payment:
			return nil, 0, Attestation{}, ErrNoEscrow
		case st == LockNone:
			return nil, 0, Attestation{}, ErrNoCollateral
		case st != LockHeld:
			return nil, 0, Attestation{}, ErrAlreadySettled
		}
		cl, pr := m.rep[th.client], m.rep[th.provider]
		var to AccountID
		op := OpRelease
		switch o.kind {
		case kPay:
			to, th.pay = th.provider, LockReleased
			cl.Completed++
			pr.Completed++
			cl.Volume[asset] = satSum(cl.Volume[asset], amt)
			pr.Volume[asset] = satSum(pr.Volume[asset], amt)
		case kRefund:
			to, th.pay = th.client, LockRefunded
			if th.col == LockNone {
				cl.Cancelled++
				pr.Cancelled++
			} else {
				cl.Failed++
				pr.Failed++
			}
		case kReturn:
			to, th.col = th.provider, LockReleased
		case kSlash:
			to, th.col, op = th.client, LockSlashed, OpSlash
			pr.Slashed++
		}
		m.rep[th.client], m.rep[th.provider] = cl, pr
		m.move(AcctEscrow, to, asset, amt)
		return []LedgerEvent{m.ev(op, asset, amt, AcctEscrow, to, o.thread)}, 0, Attestation{}, nil
	case kGas:
		p := o.price
		switch {
		case o.tx >= NumTxKinds:
			return nil, 0, Attestation{}, ErrBadTxKind
		case p.BaseFee < 0 || p.PriorityFee < 0 || p.L1Fee[o.tx] < 0:
			return nil, 0, Attestation{}, ErrBadGasPrice
		}
		units := big.NewInt(m.sched.Units[o.tx])
		base := new(big.Int).Mul(units, big.NewInt(p.BaseFee))
		prio := new(big.Int).Mul(units, big.NewInt(p.PriorityFee))
		total := new(big.Int).Add(base, prio)
		total.Add(total, big.NewInt(p.L1Fee[o.tx]))
		if !fitsInt64(base) || !fitsInt64(prio) || !fitsInt64(total) {
			return nil, 0, Attestation{}, ErrOverflow
		}
		switch {
		case !m.isAgent(o.a):
			return nil, 0, Attestation{}, ErrUnknownAccount
		case o.thread != NoThread && (o.thread < 0 || int(o.thread) >= len(m.threads)):
			return nil, 0, Attestation{}, ErrUnknownThread
		}
		// Charged: ceil(total / 1e9) gwei; burned: floor(base / 1e9).
		g := big.NewInt(weiPerGwei)
		charged := new(big.Int).Add(total, big.NewInt(weiPerGwei-1))
		charged.Quo(charged, g)
		burn := new(big.Int).Quo(base, g)
		if big.NewInt(m.bal[refKey{o.a, ETH}]).Cmp(charged) < 0 {
			return nil, 0, Attestation{}, ErrInsufficientGas
		}
		b, s := burn.Int64(), charged.Int64()-burn.Int64()
		m.move(o.a, AcctBurn, ETH, b)
		m.move(o.a, AcctSequencer, ETH, s)
		return []LedgerEvent{m.ev(OpBurn, ETH, b, o.a, AcctBurn, o.thread), m.ev(OpFee, ETH, s, o.a, AcctSequencer, o.thread)}, 0, Attestation{}, nil
	case kAttest:
		rec, err := m.attest(o.att)
		return nil, 0, rec, err
	case kTick:
		if o.tick < m.tick {
			return nil, 0, Attestation{}, ErrTickBackwards
		}
		m.tick = o.tick
		return nil, 0, Attestation{}, nil
	}
	panic("unknown op kind")
}

func (m *refModel) attest(r AttestRequest) (Attestation, error) {
	if r.Schema < SchemaBuy || r.Schema > SchemaValidation {
		return Attestation{}, ErrBadSchema
	}
	if !m.isAgent(r.Attester) && !(r.Schema == SchemaValidation && r.Attester == AcctEscrow) || !m.isAgent(r.Recipient) {
		return Attestation{}, ErrUnknownAccount
	}
	var th *refThread
	if r.Thread != NoThread {
		if r.Thread < 0 || int(r.Thread) >= len(m.threads) {
			return Attestation{}, ErrUnknownThread
		}
		th = &m.threads[r.Thread]
	}
	rec := Attestation{Schema: r.Schema, Thread: r.Thread, Attester: r.Attester, Recipient: r.Recipient, RefUID: r.RefUID, Tick: m.tick}
	d := r.Data
	switch r.Schema {
	case SchemaBuy:
		switch {
		case r.RefUID != (UID{}):
			return rec, ErrBadRef
		case r.Attester == r.Recipient || th != nil && (r.Attester != th.client || r.Recipient != th.provider):
			return rec, ErrWrongParty
		case d.PaymentAsset >= NumAssets:
			return rec, ErrBadAsset
		case d.JobCost < 0 || d.CollateralRequested < 0:
			return rec, ErrBadAmount
		case !(d.OfferDeadline < d.JobDeadline) || !(d.JobDeadline < d.ArbitrationDeadline):
			return rec, ErrDeadlineOrder
		case m.tick >= d.OfferDeadline:
			return rec, ErrPastDeadline
		}
		rec.Data = d
		rec.Data.Collateral, rec.Data.Approved = 0, false
	case SchemaSell:
		buy, ok := m.atts[r.RefUID]
		switch {
		case !ok || buy.Schema != SchemaBuy || buy.Thread != r.Thread:
			return rec, ErrBadRef
		case m.child[r.RefUID]:
			return rec, ErrAlreadyReferenced
		case r.Attester != buy.Recipient || r.Recipient != buy.Attester:
			return rec, ErrWrongParty
		case d.Collateral != buy.Data.CollateralRequested:
			return rec, ErrCollateralMismatch
		case m.tick >= buy.Data.JobDeadline:
			return rec, ErrPastDeadline
		}
		rec.Data = AttestationData{Collateral: d.Collateral}
	case SchemaValidation:
		sell, ok := m.atts[r.RefUID]
		if !ok || sell.Schema != SchemaSell || sell.Thread != r.Thread {
			return rec, ErrBadRef
		}
		buy := m.atts[sell.RefUID]
		switch {
		case m.child[r.RefUID]:
			return rec, ErrAlreadyReferenced
		case (r.Attester != buy.Attester && r.Attester != AcctEscrow) || r.Recipient != sell.Attester:
			return rec, ErrWrongParty
		case m.tick >= buy.Data.ArbitrationDeadline:
			return rec, ErrPastDeadline
		}
		rec.Data = AttestationData{Approved: d.Approved}
	}
	return rec, nil
}

// ---- random ops ----

// source is what the op generator draws from: a seeded *rand.Rand in the property test,
// the fuzzer's bytes in FuzzChainOps.
type source interface{ IntN(n int) int }

// byteSource turns fuzz input into draws; once exhausted it returns 0.
type byteSource struct{ b []byte }

func (s *byteSource) IntN(n int) int {
	var v uint32
	for i := 0; i < 4; i++ {
		v <<= 8
		if len(s.b) > 0 {
			v |= uint32(s.b[0])
			s.b = s.b[1:]
		}
	}
	return int(v % uint32(n))
}

func pickAcct(s source, n int) AccountID {
	if s.IntN(10) == 0 {
		odd := []AccountID{AcctEscrow, AcctSequencer, AcctBurn, AcctMint, NoAccount, AccountID(n), AccountID(n + 3)}
		return odd[s.IntN(len(odd))]
	}
	return AccountID(s.IntN(n))
}

func pickAsset(s source) Asset {
	if s.IntN(15) == 0 {
		return Asset(NumAssets + s.IntN(250))
	}
	return Asset(s.IntN(NumAssets))
}

func pickThread(s source, m *refModel) ThreadID {
	if len(m.threads) == 0 || s.IntN(10) == 0 {
		odd := []ThreadID{NoThread, ThreadID(len(m.threads)), -7, math.MaxInt32}
		return odd[s.IntN(len(odd))]
	}
	return ThreadID(s.IntN(len(m.threads)))
}

func pickAmount(s source, m *refModel, acct AccountID, asset Asset) int64 {
	switch s.IntN(12) {
	case 0:
		return 0
	case 1:
		return -1 - int64(s.IntN(5))
	case 2:
		return math.MaxInt64
	case 3, 4:
		return m.bal[refKey{acct, asset}]
	case 5:
		return m.bal[refKey{acct, asset}] + 1
	case 6:
		return int64(s.IntN(1<<30)) << 20
	}
	return 1 + int64(s.IntN(1000))
}

func pickFee(s source) int64 {
	switch s.IntN(12) {
	case 0:
		return 0
	case 1:
		return -1
	case 2:
		return math.MaxInt64 / 3
	case 3:
		return 999_999_999
	case 4:
		return 1_500_000
	}
	return int64(s.IntN(1_000_000_000))
}

func pickUID(s source, m *refModel, want Schema) UID {
	if len(m.order) == 0 || s.IntN(8) == 0 {
		return [...]UID{{}, {0xde, 0xad}}[s.IntN(2)]
	}
	// Prefer a record of the wanted schema: scan from a random start.
	start := s.IntN(len(m.order))
	for i := range m.order {
		u := m.order[(start+i)%len(m.order)]
		if m.atts[u].Schema == want {
			return u
		}
	}
	return m.order[start]
}

func genOp(s source, m *refModel) testOp {
	o := testOp{kind: opKind(s.IntN(int(numOpKinds)))}
	switch o.kind {
	case kMint:
		o.a, o.asset = pickAcct(s, m.n), pickAsset(s)
		switch s.IntN(10) {
		case 0:
			o.amt = math.MaxInt64 - m.bal[refKey{AcctMint, o.asset}] // exactly fills the supply
		case 1:
			o.amt = math.MaxInt64
		case 2:
			o.amt = -int64(s.IntN(3))
		default:
			o.amt = 1 + int64(s.IntN(1_000_000_000))
		}
	case kTransfer:
		o.a, o.b, o.asset = pickAcct(s, m.n), pickAcct(s, m.n), pickAsset(s)
		o.amt = pickAmount(s, m, o.a, o.asset)
	case kOpen:
		o.a, o.b = pickAcct(s, m.n), pickAcct(s, m.n)
	case kLockEscrow, kLockCollateral:
		o.thread, o.asset = pickThread(s, m), pickAsset(s)
		o.a = pickAcct(s, m.n)
		if o.thread >= 0 && int(o.thread) < len(m.threads) && s.IntN(4) != 0 {
			o.a = m.threads[o.thread].client
			if o.kind == kLockCollateral {
				o.a = m.threads[o.thread].provider
			}
		}
		o.amt = pickAmount(s, m, o.a, o.asset)
	case kPay, kRefund, kReturn, kSlash:
		o.thread = pickThread(s, m)
	case kGas:
		o.a, o.thread = pickAcct(s, m.n), pickThread(s, m)
		o.tx = TxKind(s.IntN(NumTxKinds + 1))
		o.price.BaseFee, o.price.PriorityFee = pickFee(s), pickFee(s)
		for k := range o.price.L1Fee {
			o.price.L1Fee[k] = pickFee(s) * int64(s.IntN(40))
		}
	case kAttest:
		o.att = genAttest(s, m)
	case kTick:
		o.tick = m.tick + int64(s.IntN(4)) - int64(s.IntN(2))
	}
	return o
}

func genAttest(s source, m *refModel) AttestRequest {
	r := AttestRequest{Schema: Schema(s.IntN(5)), Thread: pickThread(s, m), Attester: pickAcct(s, m.n), Recipient: pickAcct(s, m.n)}
	if s.IntN(5) == 0 {
		r.Thread = NoThread
	}
	switch r.Schema {
	case SchemaBuy:
		if r.Thread >= 0 && int(r.Thread) < len(m.threads) && s.IntN(4) != 0 {
			r.Attester, r.Recipient = m.threads[r.Thread].client, m.threads[r.Thread].provider
		}
		if s.IntN(10) == 0 {
			r.RefUID = pickUID(s, m, SchemaBuy)
		}
		od := m.tick + int64(s.IntN(6)) - 1
		jd := od + int64(s.IntN(5))
		r.Data = AttestationData{
			JobCost: int64(s.IntN(1000)) - int64(s.IntN(2)), PaymentAsset: pickAsset(s), CollateralRequested: int64(s.IntN(3)*10) - int64(s.IntN(2)),
			OfferDeadline: od, JobDeadline: jd, ArbitrationDeadline: jd + int64(s.IntN(5)),
			Collateral: int64(s.IntN(3)), Approved: s.IntN(2) == 0,
		}
	case SchemaSell:
		r.RefUID = pickUID(s, m, SchemaBuy)
		if buy, ok := m.atts[r.RefUID]; ok && s.IntN(4) != 0 {
			r.Thread, r.Attester, r.Recipient = buy.Thread, buy.Recipient, buy.Attester
			r.Data.Collateral = buy.Data.CollateralRequested + int64(s.IntN(3)/2)
		}
		r.Data.JobCost = int64(s.IntN(3))
	case SchemaValidation:
		r.RefUID = pickUID(s, m, SchemaSell)
		if sell, ok := m.atts[r.RefUID]; ok && s.IntN(4) != 0 {
			buy := m.atts[sell.RefUID]
			r.Thread, r.Attester, r.Recipient = sell.Thread, buy.Attester, sell.Attester
			if s.IntN(3) == 0 {
				r.Attester = AcctEscrow
			}
		}
		r.Data.Approved = s.IntN(2) == 0
		r.Data.OfferDeadline = int64(s.IntN(3))
	}
	return r
}

// ---- the harness ----

type harness struct {
	tb      testing.TB
	c       *Chain
	ref     *refModel
	log     EventLog
	settled map[[2]int32]int // (thread, 0 payment | 1 collateral) -> successful payouts
	nops    int
}

func newHarness(tb testing.TB, n int) *harness {
	c, err := NewChain(Config{})
	if err != nil {
		tb.Fatal(err)
	}
	h := &harness{tb: tb, c: c, ref: newRefModel(n, c.GasSchedule()), settled: map[[2]int32]int{}}
	c.SetEventSink(h.log.Append)
	for i := 0; i < n; i++ {
		if _, err := c.AddAccount(testKey(i)); err != nil {
			tb.Fatal(err)
		}
	}
	// Genesis through the checked path: every account gets some of every asset.
	for i := 0; i < n; i++ {
		for a := Asset(0); a < NumAssets; a++ {
			h.step(testOp{kind: kMint, a: AccountID(i), asset: a, amt: int64(1000 * (i + 1))})
		}
	}
	return h
}

func (h *harness) fatalf(o testOp, format string, args ...any) {
	h.tb.Helper()
	h.tb.Fatalf("op %d %s: %s\nchain:\n%s", h.nops, o, fmt.Sprintf(format, args...), h.c)
}

// step applies o to the chain and to the reference, checks everything and returns the
// chain's error.
func (h *harness) step(o testOp) error {
	h.tb.Helper()
	h.nops++
	before := h.c.Clone()
	h.log.Reset()
	var err error
	var gotThread ThreadID
	var uid UID
	switch o.kind {
	case kMint:
		err = h.c.Mint(o.a, o.asset, o.amt)
	case kTransfer:
		err = h.c.Transfer(o.a, o.b, o.asset, o.amt)
	case kOpen:
		gotThread, err = h.c.OpenThread(o.a, o.b)
	case kLockEscrow:
		err = h.c.LockEscrow(o.thread, o.a, o.asset, o.amt)
	case kLockCollateral:
		err = h.c.LockCollateral(o.thread, o.a, o.asset, o.amt)
	case kPay:
		err = h.c.PayProvider(o.thread)
	case kRefund:
		err = h.c.RefundClient(o.thread)
	case kReturn:
		err = h.c.ReturnCollateral(o.thread)
	case kSlash:
		err = h.c.SlashCollateral(o.thread)
	case kGas:
		err = h.c.ChargeGas(o.thread, o.a, o.tx, &o.price)
	case kAttest:
		uid, err = h.c.Attest(o.att)
	case kTick:
		err = h.c.SetTick(o.tick)
	}
	wantEvents, wantThread, wantRec, wantErr := h.ref.apply(o)

	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			h.fatalf(o, "error %v, reference says %v", err, wantErr)
		}
		if !reflect.DeepEqual(before, h.c.Clone()) {
			h.fatalf(o, "failed op changed the state; before:\n%s", before)
		}
		if len(h.log.Events) != 0 {
			h.fatalf(o, "failed op emitted %v", h.log.Events)
		}
	} else {
		if err != nil {
			h.fatalf(o, "error %v, reference says ok", err)
		}
		if !reflect.DeepEqual(h.log.Events, wantEvents) && !(len(h.log.Events) == 0 && len(wantEvents) == 0) {
			h.fatalf(o, "events %v, want %v", h.log.Events, wantEvents)
		}
		switch o.kind {
		case kOpen:
			if gotThread != wantThread {
				h.fatalf(o, "thread id %d, want %d", gotThread, wantThread)
			}
		case kAttest:
			if _, dup := h.ref.atts[uid]; dup || uid.IsZero() {
				h.fatalf(o, "uid %s is not new", uid)
			}
			got, ok := h.c.Attestation(uid)
			wantRec.UID, wantRec.Bump = uid, got.Bump
			if !ok || got != wantRec {
				h.fatalf(o, "record\n got %+v\nwant %+v", got, wantRec)
			}
			h.ref.atts[uid] = wantRec
			h.ref.order = append(h.ref.order, uid)
			if !wantRec.RefUID.IsZero() {
				h.ref.child[wantRec.RefUID] = true
			}
		case kPay, kRefund, kReturn, kSlash:
			which := int32(0)
			if o.kind == kReturn || o.kind == kSlash {
				which = 1
			}
			k := [2]int32{int32(o.thread), which}
			h.settled[k]++
			if h.settled[k] > 1 {
				h.fatalf(o, "thread %d: %s paid out %d times", o.thread, [2]string{"payment", "collateral"}[which], h.settled[k])
			}
		}
	}
	h.check(o)
	return err
}

// check compares the chain with the reference and verifies conservation, here, in test
// code, independently of CheckInvariants (which is checked too).
func (h *harness) check(o testOp) {
	h.tb.Helper()
	m, c := h.ref, h.c
	for a := Asset(0); a < NumAssets; a++ {
		var sum, refSum big.Int
		for i := 0; i < m.n; i++ {
			id := AccountID(i)
			got, want := c.Balance(id, a), m.bal[refKey{id, a}]
			if got != want {
				h.fatalf(o, "%s %s balance %d, reference %d", id, a, got, want)
			}
			if got < 0 {
				h.fatalf(o, "%s %s balance %d is negative", id, a, got)
			}
			sum.Add(&sum, big.NewInt(got))
		}
		for _, id := range []AccountID{AcctEscrow, AcctSequencer, AcctBurn} {
			got, want := c.Balance(id, a), m.bal[refKey{id, a}]
			if got != want || got < 0 {
				h.fatalf(o, "%s %s balance %d, reference %d", id, a, got, want)
			}
			sum.Add(&sum, big.NewInt(got))
		}
		for k, v := range m.bal {
			if k.asset == a && k.acct != AcctMint {
				refSum.Add(&refSum, big.NewInt(v))
			}
		}
		supply := c.Balance(AcctMint, a)
		if supply != m.bal[refKey{AcctMint, a}] || sum.Cmp(big.NewInt(supply)) != 0 || refSum.Cmp(big.NewInt(supply)) != 0 {
			h.fatalf(o, "%s: conservation: balances %s, reference %s, supply %d", a, &sum, &refSum, supply)
		}
	}
	if c.NumThreads() != len(m.threads) {
		h.fatalf(o, "%d threads, reference %d", c.NumThreads(), len(m.threads))
	}
	for i, rt := range m.threads {
		info, _ := c.Thread(ThreadID(i))
		want := ThreadInfo{Client: rt.client, Provider: rt.provider, PaymentAsset: rt.payAsset, Payment: rt.payAmt, PaymentState: rt.pay,
			CollateralAsset: rt.colAsset, Collateral: rt.colAmt, CollateralState: rt.col}
		if info != want {
			h.fatalf(o, "thread %d: %+v, reference %+v", i, info, want)
		}
		if a, amt, ok := c.EscrowOf(ThreadID(i)); ok != (rt.pay == LockHeld) || ok && (a != rt.payAsset || amt != rt.payAmt) {
			h.fatalf(o, "thread %d: EscrowOf = %s %d %t", i, a, amt, ok)
		}
	}
	for i := 0; i < m.n; i++ {
		if got, want := c.Reputation(AccountID(i)), m.rep[AccountID(i)]; got != want {
			h.fatalf(o, "reputation of %d: %+v, reference %+v", i, got, want)
		}
	}
	if c.NumAttestations() != len(m.order) || c.Tick() != m.tick {
		h.fatalf(o, "%d attestations at tick %d, reference %d at %d", c.NumAttestations(), c.Tick(), len(m.order), m.tick)
	}
	if err := c.CheckInvariants(); err != nil {
		h.fatalf(o, "CheckInvariants: %v", err)
	}
}

// TestLedgerProperty runs thousands of seeded random op sequences against the reference.
func TestLedgerProperty(t *testing.T) {
	seqs, ops := 2000, 150
	if testing.Short() {
		seqs = 200
	}
	if *longTests && !testing.Short() {
		seqs, ops = 50_000, 400
	}
	okCount := make([]int, numOpKinds)
	failCount := make([]int, numOpKinds)
	errCount := map[error]int{}
	for seq := 0; seq < seqs; seq++ {
		r := rng.New(uint64(seq), "market/ledger-property")
		h := newHarness(t, 2+r.IntN(6))
		for i := 0; i < ops; i++ {
			o := genOp(r, h.ref)
			if err := h.step(o); err != nil {
				failCount[o.kind]++
				errCount[err]++
			} else {
				okCount[o.kind]++
			}
		}
	}
	t.Logf("successes per op kind %v, failures %v", okCount, failCount)
	// The generator must reach every op both ways and every error, or the test proves
	// little.
	for k := opKind(0); k < numOpKinds; k++ {
		if okCount[k] == 0 || failCount[k] == 0 {
			t.Errorf("op kind %d: %d successes, %d failures", k, okCount[k], failCount[k])
		}
	}
	for _, e := range []error{
		ErrBadAsset, ErrBadAmount, ErrUnknownAccount, ErrUnknownThread, ErrWrongParty, ErrInsufficientFunds,
		ErrAlreadyLocked, ErrNoEscrow, ErrNoCollateral, ErrAlreadySettled, ErrOverflow, ErrTickBackwards,
		ErrBadTxKind, ErrBadGasPrice, ErrInsufficientGas,
		ErrBadSchema, ErrBadRef, ErrAlreadyReferenced, ErrDeadlineOrder, ErrPastDeadline, ErrCollateralMismatch,
	} {
		if errCount[e] == 0 {
			t.Errorf("no op failed with %v", e)
		} else {
			t.Logf("%6d x %v", errCount[e], e)
		}
	}
}

// FuzzChainOps decodes the input into a sequence of ops and runs them through the same
// harness as TestLedgerProperty: no panic, and every property holds after every op.
//
//	go test ./market -run '^$' -fuzz FuzzChainOps -fuzztime 60s -fuzzminimizetime 5s
//
// (Minimizing a new interesting input of a few kilobytes takes many runs; the counter of
// execs pauses meanwhile, hence the shorter -fuzzminimizetime.)
func FuzzChainOps(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"))
	for seed := uint64(0); seed < 8; seed++ {
		r := rng.New(seed, "market/fuzz-seed")
		b := make([]byte, 2048)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &byteSource{b: data}
		h := newHarness(t, 2+s.IntN(5))
		for i := 0; i < 250 && len(s.b) > 0; i++ {
			h.step(genOp(s, h.ref))
		}
	})
}
