package market

import (
	"fmt"
	"testing"

	"github.com/hivegym/hivegym/scheme"
)

// Full negotiations of the compute-marketplace scheme driven through Scheme.Step
// (signatures none) with their ledger effects applied to a Chain: the chain-side half of
// issue 4's BenchmarkSchemeStep ("messages through Step and their ledger effects"). The
// scheme package's own BenchmarkSchemeStep measures Step alone (it cannot import market).
//
// One negotiation is the nine messages of scheme/bench_test.go: request, offer,
// counter-offer, identity offer, accept, escrow_locked (system), attestation:start,
// attestation:complete, validated (system, approved). Effects map to chain ops as
// market/tick.go's send, applyEffects, attest and chargeGas map them; every op must
// succeed here (the engine prechecks them; this helper has funded both parties).

// Fixtures of the scheme+chain negotiation. Agent ids are account ids, as in the engine.
const (
	scClient   = AccountID(0)
	scProvider = AccountID(1)
	scNow      = int64(5)  // every message is stepped at this tick; the chain sits at it too
	scStart    = int64(20) // the job's proposed start tick
	scDuration = int64(25) // ticks
	scNegMsgs  = 9         // messages per negotiation
	// scEpisode is how many negotiations run before the chain is Reset (timer stopped),
	// as in chain_bench_test.go: it bounds memory and keeps the capacity warm.
	scEpisode = 1 << 14
	// scGenesis is what each party is minted of USDC and of ETH (gwei) per episode.
	scGenesis = int64(1e15)
)

// Prices in USDC base units per hour: the request's, the provider's offer, the client's
// counter (which the provider restates unchanged and the client accepts).
const (
	scPriceRequest = int64(1_000_000)
	scPriceOffer   = int64(1_300_007)
	scPriceFinal   = int64(1_200_007)
	scCollateral   = int64(500_000)
)

// schemeChain drives negotiations through a scheme and applies their effects to a chain.
type schemeChain struct {
	s     scheme.Scheme
	c     *Chain
	price GasPrice

	msgs [scNegMsgs]scheme.Message // one negotiation; Thread is set by open
	th   scheme.Thread             // the scheme's state of the current negotiation
	tid  ThreadID                  // its chain thread
	effs []scheme.Effect           // reused effects buffer
	buy  UID                       // the thread's buy attestation (the sell's refUID)
	sell UID                       // the thread's sell attestation (the validation's refUID)

	// Counters: effects returned by Step and chain ops called (OpenThread, locks,
	// releases, attestations and every ChargeGas count one each).
	effects, ops int64
}

// scTerms returns the terms of the request: one GPU for scDuration ticks from scStart,
// with the scheme config's default deadline windows (offer < job < arbitration).
func scTerms(cfg scheme.Config) scheme.Terms {
	offer, job, arb := cfg.Deadlines(scNow, scStart, scDuration)
	return scheme.Terms{
		GPUModel: 3, GPUCount: 1, CPUCores: 8, RAMGB: 32,
		Asset: scheme.AssetUSDC, Validation: scheme.ValidationOracle,
		Duration: scDuration, Start: scStart, PricePerHour: scPriceRequest, Collateral: scCollateral,
		OfferDeadline: offer, JobDeadline: job, ArbitrationDeadline: arb,
	}
}

func newSchemeChain(tb testing.TB, threadsHint int) *schemeChain {
	tb.Helper()
	s, err := scheme.New(scheme.DefaultConfig(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := NewChain(Config{Accounts: 2, Threads: threadsHint, Attestations: 3 * threadsHint})
	if err != nil {
		tb.Fatal(err)
	}
	// 2025-like fees, as chain_bench_test.go: L2 0.001 gwei base + 0.001 gwei tip, L1 3
	// gwei, blob 1 wei, OP Mainnet scalars.
	sched := c.GasSchedule()
	price, err := sched.Price(FeeMarket{L2BaseFee: 1_000_000, PriorityFee: 1_000_000, L1BaseFee: 3_000_000_000, BlobBaseFee: 1,
		BaseFeeScalar: OPMainnetBaseFeeScalar, BlobBaseFeeScalar: OPMainnetBlobBaseFeeScalar})
	if err != nil {
		tb.Fatal(err)
	}
	r := &schemeChain{s: s, c: c, price: price, effs: make([]scheme.Effect, 0, 16)}

	req := scTerms(s.Config())
	offer := req
	offer.PricePerHour = scPriceOffer
	final := req
	final.PricePerHour = scPriceFinal
	cl, pr := scheme.AgentID(scClient), scheme.AgentID(scProvider)
	sys := scheme.SystemID
	r.msgs = [scNegMsgs]scheme.Message{
		{From: cl, To: pr, Seq: 1, Type: scheme.MsgRequest, Terms: req},
		{From: pr, To: cl, Seq: 1, Type: scheme.MsgOffer, Terms: offer},
		{From: cl, To: pr, Seq: 2, Type: scheme.MsgOffer, Terms: final},
		{From: pr, To: cl, Seq: 2, Type: scheme.MsgOffer, Terms: final}, // identity counter-offer
		{From: cl, To: pr, Seq: 3, Type: scheme.MsgAccept, Terms: final},
		{From: sys, To: sys, Type: scheme.MsgEscrowLocked},
		{From: pr, To: cl, Seq: 3, Type: scheme.MsgAttestation, Stage: scheme.StageStart, Terms: final},
		{From: pr, To: cl, Seq: 4, Type: scheme.MsgAttestation, Stage: scheme.StageComplete, Terms: final},
		{From: sys, To: sys, Type: scheme.MsgValidated, Approved: true},
	}
	if err := r.reset(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// reset empties the chain and recreates the two funded accounts at tick scNow.
func (r *schemeChain) reset() error {
	r.c.Reset()
	for _, want := range []AccountID{scClient, scProvider} {
		id, err := r.c.AddAccount(testKey(int(want)))
		if err != nil {
			return err
		}
		if id != want {
			return fmt.Errorf("account %d, want %d", id, want)
		}
		for _, a := range []Asset{USDC, ETH} {
			if err := r.c.Mint(id, a, scGenesis); err != nil {
				return err
			}
		}
	}
	return r.c.SetTick(scNow)
}

// open starts a negotiation: a chain thread, a fresh scheme thread with the same id, and
// that id on every message.
func (r *schemeChain) open() error {
	tid, err := r.c.OpenThread(scClient, scProvider)
	r.ops++
	if err != nil {
		return err
	}
	r.tid = tid
	if r.th, err = scheme.NewThread(scheme.ThreadID(tid), scheme.AgentID(scClient), scheme.AgentID(scProvider)); err != nil {
		return err
	}
	for i := range r.msgs {
		r.msgs[i].Thread = scheme.ThreadID(tid)
	}
	r.buy, r.sell = UID{}, UID{}
	return nil
}

// step steps message i of the negotiation and applies its effects to the chain.
func (r *schemeChain) step(i int) error {
	m := &r.msgs[i]
	effs, err := r.s.Step(&r.th, m, scNow, r.effs[:0])
	r.effs = effs[:0]
	if err != nil {
		return fmt.Errorf("step %v: %w", m.Type, err)
	}
	r.effects += int64(len(effs))
	if m.Type == scheme.MsgEscrowLocked {
		// The client's lock transaction landed and the thread accepted it: the payment
		// moves into escrow and the client pays the lock's gas (tick.go, send).
		if err := r.op(r.c.LockEscrow(r.tid, scClient, Asset(r.th.Terms.Asset), r.th.Escrow)); err != nil {
			return fmt.Errorf("lock escrow: %w", err)
		}
		if err := r.gas(scClient, TxEscrowLock); err != nil {
			return err
		}
	}
	return r.apply(effs)
}

// negotiate runs one whole negotiation.
func (r *schemeChain) negotiate() error {
	if err := r.open(); err != nil {
		return err
	}
	for i := range r.msgs {
		if err := r.step(i); err != nil {
			return err
		}
	}
	return nil
}

// op counts one chain op and passes its error through.
func (r *schemeChain) op(err error) error {
	r.ops++
	return err
}

// gas charges account a the gas of one transaction of kind k at the fixed price.
func (r *schemeChain) gas(a AccountID, k TxKind) error {
	if err := r.op(r.c.ChargeGas(r.tid, a, k, &r.price)); err != nil {
		return fmt.Errorf("gas %v for %v: %w", k, a, err)
	}
	return nil
}

// apply maps each effect to its chain op as tick.go's applyEffects and attest do:
// collateral lock + its gas by the provider; buy attestation + its gas by the client;
// sell attestation (refUID: the buy) + its gas by the provider; validation (attester:
// the escrow account, refUID: the sell); payment and collateral releases; then the
// claimant (the provider when it is paid) pays the validation's and the settlement's gas.
func (r *schemeChain) apply(effs []scheme.Effect) error {
	th := &r.th
	t := &th.Terms
	tid := r.tid
	claimant := NoAccount
	payClaim, settled, validated := false, false, false
	for i := range effs {
		e := &effs[i]
		var err error
		switch e.Kind {
		case scheme.EffStateChange:
			continue // trace only
		case scheme.EffRequestEscrowLock:
			continue // the lock lands as the EscrowLocked message (step)
		case scheme.EffLockCollateral:
			if err = r.op(r.c.LockCollateral(tid, AccountID(e.From), Asset(e.Asset), e.Amount)); err == nil {
				err = r.gas(AccountID(e.From), TxCollateralLock)
			}
		case scheme.EffPayProvider:
			err = r.op(r.c.PayProvider(tid))
			settled, payClaim, claimant = true, true, AccountID(th.Provider)
		case scheme.EffRefundClient:
			err = r.op(r.c.RefundClient(tid))
			settled = true
			if !payClaim {
				claimant = AccountID(th.Client)
			}
		case scheme.EffReturnCollateral:
			err = r.op(r.c.ReturnCollateral(tid))
			settled = true
			if claimant == NoAccount {
				claimant = AccountID(th.Provider)
			}
		case scheme.EffSlashCollateral:
			err = r.op(r.c.SlashCollateral(tid))
			settled = true
			if !payClaim {
				claimant = AccountID(th.Client)
			}
		case scheme.EffAttest:
			switch e.Attest {
			case scheme.AttestBuy:
				r.buy, err = r.c.Attest(AttestRequest{Schema: SchemaBuy, Thread: tid, Attester: AccountID(th.Client), Recipient: AccountID(th.Provider),
					Data: AttestationData{JobCost: e.Amount, PaymentAsset: Asset(t.Asset), CollateralRequested: t.Collateral,
						OfferDeadline: t.OfferDeadline, JobDeadline: t.JobDeadline, ArbitrationDeadline: t.ArbitrationDeadline}})
				if err = r.op(err); err == nil {
					err = r.gas(AccountID(th.Client), TxAttestation)
				}
			case scheme.AttestSell:
				r.sell, err = r.c.Attest(AttestRequest{Schema: SchemaSell, Thread: tid, Attester: AccountID(th.Provider), Recipient: AccountID(th.Client),
					RefUID: r.buy, Data: AttestationData{Collateral: t.Collateral}})
				if err = r.op(err); err == nil {
					err = r.gas(AccountID(th.Provider), TxAttestation)
				}
			case scheme.AttestValidation:
				_, err = r.c.Attest(AttestRequest{Schema: SchemaValidation, Thread: tid, Attester: AcctEscrow, Recipient: AccountID(th.Provider),
					RefUID: r.sell, Data: AttestationData{Approved: e.Approved}})
				err = r.op(err)
				validated = true
			}
		default:
			err = fmt.Errorf("unknown effect kind %v", e.Kind)
		}
		if err != nil {
			return fmt.Errorf("effect %v: %w", e, err)
		}
	}
	if settled || validated {
		if claimant == NoAccount {
			claimant = AccountID(th.Provider)
		}
		if validated {
			if err := r.gas(claimant, TxAttestation); err != nil {
				return err
			}
		}
		if settled {
			if err := r.gas(claimant, TxSettlement); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestSchemeChainNegotiation runs one negotiation and checks the chain by hand-computed
// numbers.
func TestSchemeChainNegotiation(t *testing.T) {
	r := newSchemeChain(t, 1)
	c := r.c
	before := [2]Balances{}
	for i, a := range []AccountID{scClient, scProvider} {
		before[i], _ = c.Balances(a)
	}
	if err := r.negotiate(); err != nil {
		t.Fatal(err)
	}
	if r.th.State != scheme.StateSettled || !r.th.Has(scheme.FlagApproved) {
		t.Fatalf("negotiation ended %v (flags %v), want Settled approved", r.th.State, r.th.Flags)
	}

	// Job cost = ceil(1_200_007 x 25 / 12) = ceil(30_000_175 / 12) = ceil(2_500_014.58)
	// = 2_500_015 USDC base units (ticks_per_hour 12 is the scheme's default config).
	const wantCost = int64(2_500_015)
	if tph := r.s.Config().TicksPerHour; tph != 12 {
		t.Fatalf("ticks_per_hour %d, the hand-computed cost assumes 12", tph)
	}
	if r.th.Escrow != wantCost {
		t.Errorf("scheme escrow %d, want %d", r.th.Escrow, wantCost)
	}

	// Gas, by hand from the fee market of newSchemeChain and DefaultGasSchedule: wei =
	// units x (base 1e6 + tip 1e6) + size x (16 x 3e9 x 1368 + 1 x 810949) / 1e6 (integer
	// division), charged as ceil(wei / 1e9) gwei.
	quote := func(units, size int64) int64 {
		wei := units*2_000_000 + size*(16*3_000_000_000*1368+810_949)/1_000_000
		return (wei + 999_999_999) / 1_000_000_000
	}
	escrowLock := quote(110_000, 120)  // 220_000_000_000 + 7_879_680_097 wei -> 228 gwei
	collLock := quote(110_000, 120)    // 228 gwei
	attestation := quote(180_000, 350) // 360_000_000_000 + 22_982_400_283 wei -> 383 gwei
	settlement := quote(130_000, 120)  // 260_000_000_000 + 7_879_680_097 wei -> 268 gwei
	if escrowLock != 228 || attestation != 383 || settlement != 268 {
		t.Fatalf("hand quotes %d %d %d, want 228 383 268", escrowLock, attestation, settlement)
	}
	wantGas := [2]int64{
		escrowLock + attestation,                          // client: escrow lock, buy attestation
		collLock + attestation + attestation + settlement, // provider: collateral lock, sell, validation, settlement
	}

	wantUSDC := [2]int64{-wantCost, +wantCost} // collateral locked and returned: net 0
	for i, a := range []AccountID{scClient, scProvider} {
		after, _ := c.Balances(a)
		if d := after[USDC] - before[i][USDC]; d != wantUSDC[i] {
			t.Errorf("%v: USDC change %d, want %d", a, d, wantUSDC[i])
		}
		if d := before[i][ETH] - after[ETH]; d != wantGas[i] {
			t.Errorf("%v: ETH spent on gas %d, want %d", a, d, wantGas[i])
		}
	}
	if got, want := c.Balance(AcctBurn, ETH)+c.Balance(AcctSequencer, ETH), wantGas[0]+wantGas[1]; got != want {
		t.Errorf("burned + sequencer = %d gwei, want %d", got, want)
	}
	if got := c.Balance(AcctEscrow, USDC); got != 0 {
		t.Errorf("escrow still holds %d USDC", got)
	}
	info, ok := c.Thread(r.tid)
	if !ok || info.PaymentState != LockReleased || info.Payment != wantCost ||
		info.CollateralState != LockReleased || info.Collateral != scCollateral {
		t.Errorf("chain thread %+v, want payment %d and collateral %d both released", info, wantCost, scCollateral)
	}
	if n := c.NumAttestations(); n != 3 {
		t.Fatalf("%d attestations, want 3 (buy, sell, validation)", n)
	}
	if sell, ok := c.ReferencedBy(r.buy); !ok || sell != r.sell {
		t.Errorf("buy not referenced by the sell")
	}
	val, ok := c.ReferencedBy(r.sell)
	if a, _ := c.Attestation(val); !ok || a.Schema != SchemaValidation || !a.Data.Approved {
		t.Errorf("sell not referenced by an approved validation: %+v", a)
	}
	// Effects: 4 offers/request x 1 + accept 2 + escrow_locked 1 + start 3 + complete 1
	// + validated 4 = 15. Ops: open, lock escrow + gas, buy + gas, collateral + gas,
	// sell + gas, validation, pay, return, validation gas, settlement gas = 14.
	if r.effects != 15 || r.ops != 14 {
		t.Errorf("effects %d ops %d, want 15 and 14", r.effects, r.ops)
	}
	if err := c.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkSchemeStepChain: messages of full compute-marketplace negotiations through
// Step (signatures none) with their ledger effects applied to a Chain. One op is one
// message (as in scheme's BenchmarkSchemeStep, so the ns/op difference is the chain's
// share); a negotiation's first message also opens its chain thread. Run with -cpu 1.
func BenchmarkSchemeStepChain(b *testing.B) {
	r := newSchemeChain(b, scEpisode)
	var negs, settled, episode int
	finish := func() { // after the last message of a negotiation
		negs++
		episode++
		if r.th.State == scheme.StateSettled {
			settled++
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % scNegMsgs
		if k == 0 {
			if episode == scEpisode {
				b.StopTimer()
				if err := r.c.CheckInvariants(); err != nil {
					b.Fatal(err)
				}
				if err := r.reset(); err != nil {
					b.Fatal(err)
				}
				episode = 0
				b.StartTimer()
			}
			if err := r.open(); err != nil {
				b.Fatal(err)
			}
		}
		if err := r.step(k); err != nil {
			b.Fatal(err)
		}
		if k == scNegMsgs-1 {
			finish()
		}
	}
	b.StopTimer()
	msgs := float64(b.N)
	b.ReportMetric(msgs/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(r.effects)/msgs, "effects/msg")
	b.ReportMetric(float64(r.ops)/msgs, "chain-ops/msg")
	// Complete a negotiation the timed loop left part-way, untimed and uncounted.
	if k := b.N % scNegMsgs; k != 0 {
		for ; k < scNegMsgs; k++ {
			if err := r.step(k); err != nil {
				b.Fatal(err)
			}
		}
		finish()
	}
	if err := r.c.CheckInvariants(); err != nil {
		b.Fatal(err)
	}
	if settled != negs {
		b.Fatalf("%d of %d negotiations ended Settled", settled, negs)
	}
}
