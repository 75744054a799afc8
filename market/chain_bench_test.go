package market

import (
	"crypto/ed25519"
	"testing"
)

// benchWorld is a chain with benchAgents accounts (even ids clients, odd ids providers),
// funded, with an event log drained every deal as the engine drains it every tick.
type benchWorld struct {
	c     *Chain
	log   EventLog
	keys  []ed25519.PublicKey
	price GasPrice
	deals int // deals since the last reset
}

const (
	benchAgents = 1000
	// benchEpisode is how many deals run before the chain is Reset (outside the timer),
	// as an episode would end: it bounds memory while keeping the capacity warm.
	benchEpisode = 1 << 15
)

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	c, err := NewChain(Config{Accounts: benchAgents, Threads: benchEpisode, Attestations: 3 * benchEpisode})
	if err != nil {
		b.Fatal(err)
	}
	w := &benchWorld{c: c}
	for i := 0; i < benchAgents; i++ {
		w.keys = append(w.keys, testKey(i))
	}
	// 2025-like fees: L2 0.001 gwei base + 0.001 gwei tip, L1 3 gwei, blob 1 wei.
	sched := DefaultGasSchedule()
	w.price, err = sched.Price(FeeMarket{L2BaseFee: 1_000_000, PriorityFee: 1_000_000, L1BaseFee: 3_000_000_000, BlobBaseFee: 1,
		BaseFeeScalar: OPMainnetBaseFeeScalar, BlobBaseFeeScalar: OPMainnetBlobBaseFeeScalar})
	if err != nil {
		b.Fatal(err)
	}
	c.SetEventSink(w.log.Append)
	w.log.Events = make([]LedgerEvent, 0, 64)
	w.reset(b)
	return w
}

func (w *benchWorld) reset(b *testing.B) {
	w.c.Reset()
	for i, k := range w.keys {
		if _, err := w.c.AddAccount(k); err != nil {
			b.Fatal(err)
		}
		id := AccountID(i)
		for _, m := range []struct {
			a   Asset
			amt int64
		}{{USDC, 1e15}, {ETH, 1e15}, {HIVE, 1e15}} {
			if err := w.c.Mint(id, m.a, m.amt); err != nil {
				b.Fatal(err)
			}
		}
	}
	w.log.Reset()
	w.deals = 0
}

// maybeReset resets the chain between episodes with the timer stopped.
func (w *benchWorld) maybeReset(b *testing.B) {
	if w.deals < benchEpisode {
		return
	}
	b.StopTimer()
	w.reset(b)
	b.StartTimer()
}

// opsPerDeal is the number of chain ops in one BenchmarkLedgerOps iteration.
const opsPerDeal = 8

// BenchmarkLedgerOps runs one deal's full op sequence per iteration: open the thread,
// lock the escrow, pay its gas, lock the collateral, pay its gas, attest the buy, pay the
// provider, return the collateral.
func BenchmarkLedgerOps(b *testing.B) {
	w := newBenchWorld(b)
	c := w.c
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.maybeReset(b)
		client := AccountID(2 * (i % (benchAgents / 2)))
		provider := client + 1
		tick := int64(w.deals / 64)
		if err := c.SetTick(tick); err != nil {
			b.Fatal(err)
		}
		th, err := c.OpenThread(client, provider)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.LockEscrow(th, client, USDC, 2_500_000); err != nil {
			b.Fatal(err)
		}
		if err := c.ChargeGas(th, client, TxEscrowLock, &w.price); err != nil {
			b.Fatal(err)
		}
		if err := c.LockCollateral(th, provider, USDC, 500_000); err != nil {
			b.Fatal(err)
		}
		if err := c.ChargeGas(th, provider, TxCollateralLock, &w.price); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Attest(AttestRequest{Schema: SchemaBuy, Thread: th, Attester: client, Recipient: provider,
			Data: AttestationData{JobCost: 2_500_000, PaymentAsset: USDC, CollateralRequested: 500_000,
				OfferDeadline: tick + 5, JobDeadline: tick + 50, ArbitrationDeadline: tick + 60}}); err != nil {
			b.Fatal(err)
		}
		if err := c.PayProvider(th); err != nil {
			b.Fatal(err)
		}
		if err := c.ReturnCollateral(th); err != nil {
			b.Fatal(err)
		}
		w.deals++
		w.log.Reset()
	}
	b.StopTimer()
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*opsPerDeal)/s, "ops/s")
	b.ReportMetric(float64(b.N)/s, "deals/s")
}

// BenchmarkLedgerOpsNoAttest is BenchmarkLedgerOps without the attestation (whose
// SHA-256 dominates), to show the cost of the pure ledger ops.
func BenchmarkLedgerOpsNoAttest(b *testing.B) {
	w := newBenchWorld(b)
	c := w.c
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.maybeReset(b)
		client := AccountID(2 * (i % (benchAgents / 2)))
		provider := client + 1
		th, err := c.OpenThread(client, provider)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.LockEscrow(th, client, USDC, 2_500_000); err != nil {
			b.Fatal(err)
		}
		if err := c.ChargeGas(th, client, TxEscrowLock, &w.price); err != nil {
			b.Fatal(err)
		}
		if err := c.LockCollateral(th, provider, USDC, 500_000); err != nil {
			b.Fatal(err)
		}
		if err := c.ChargeGas(th, provider, TxCollateralLock, &w.price); err != nil {
			b.Fatal(err)
		}
		if err := c.PayProvider(th); err != nil {
			b.Fatal(err)
		}
		if err := c.ReturnCollateral(th); err != nil {
			b.Fatal(err)
		}
		w.deals++
		w.log.Reset()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*7)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkAttest records a buy, its sell and its validation per iteration.
func BenchmarkAttest(b *testing.B) {
	w := newBenchWorld(b)
	c := w.c
	threads := make([]ThreadID, 0, benchAgents/2)
	for i := 0; i < benchAgents/2; i++ {
		th, err := c.OpenThread(AccountID(2*i), AccountID(2*i+1))
		if err != nil {
			b.Fatal(err)
		}
		threads = append(threads, th)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w.deals >= benchEpisode {
			b.StopTimer()
			w.c.reg.reset()
			w.deals = 0
			b.StartTimer()
		}
		k := i % (benchAgents / 2)
		client, provider := AccountID(2*k), AccountID(2*k+1)
		buy, err := c.Attest(AttestRequest{Schema: SchemaBuy, Thread: threads[k], Attester: client, Recipient: provider,
			Data: AttestationData{JobCost: int64(i), PaymentAsset: USDC, CollateralRequested: 500_000,
				OfferDeadline: 5, JobDeadline: 50, ArbitrationDeadline: 60}})
		if err != nil {
			b.Fatal(err)
		}
		sell, err := c.Attest(AttestRequest{Schema: SchemaSell, Thread: threads[k], Attester: provider, Recipient: client, RefUID: buy,
			Data: AttestationData{Collateral: 500_000}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Attest(AttestRequest{Schema: SchemaValidation, Thread: threads[k], Attester: client, Recipient: provider, RefUID: sell,
			Data: AttestationData{Approved: true}}); err != nil {
			b.Fatal(err)
		}
		w.deals++
	}
	b.StopTimer()
	b.ReportMetric(float64(3*b.N)/b.Elapsed().Seconds(), "attestations/s")
}

// BenchmarkTransfer is the cheapest op, for scale.
func BenchmarkTransfer(b *testing.B) {
	w := newBenchWorld(b)
	c := w.c
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		from := AccountID(i % benchAgents)
		if err := c.Transfer(from, (from+1)%benchAgents, USDC, 1); err != nil {
			b.Fatal(err)
		}
		w.log.Reset()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkRejectedOp measures a rejected op (insufficient funds): rejections must not
// allocate either.
func BenchmarkRejectedOp(b *testing.B) {
	w := newBenchWorld(b)
	c := w.c
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Transfer(AccountID(i%benchAgents), 0, USDC, 1e18); err != ErrInsufficientFunds {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
