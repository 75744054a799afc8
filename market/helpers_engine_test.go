package market

import (
	"bytes"
	"math"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/scheme"
)

// Test fixtures of the engine: the catalog's GPUs and the default locations, written out
// by hand from specs/world.md (the market does not import the world).

var testGPUs = []GPUSpec{
	{Model: "rtx-3090", MemoryGB: 24, PowerW: 350},
	{Model: "rtx-4090", MemoryGB: 24, PowerW: 450},
	{Model: "a100-80gb-sxm", MemoryGB: 80, PowerW: 400},
	{Model: "h100-sxm", MemoryGB: 80, PowerW: 700},
	{Model: "h100-pcie", MemoryGB: 80, PowerW: 350},
}

var testLocations = []string{"germany", "sweden", "ireland", "italy", "texas", "virginia", "washington", "california", "hawaii"}

// testElec are the locations' mean prices of specs/world.md, USD per kWh.
var testElec = []float64{0.08, 0.04, 0.12, 0.12, 0.066, 0.089, 0.064, 0.186, 0.353}

func testSetup() Setup {
	return Setup{
		Engine: DefaultEngineConfig(), Scheme: scheme.DefaultConfig(), GPUs: testGPUs,
		CPUWattsPerCore: 170.0 / 16, Locations: testLocations, DemandMultiplier: 1,
	}
}

// testFees are 2024-like fee markets: L2 base and priority fee 0.001 gwei, L1 15 gwei,
// blob base fee 1 wei, OP Mainnet scalars.
func testFees() FeeMarket {
	return FeeMarket{L2BaseFee: 1_000_000, PriorityFee: 1_000_000, L1BaseFee: 15_000_000_000, BlobBaseFee: 1,
		BaseFeeScalar: OPMainnetBaseFeeScalar, BlobBaseFeeScalar: OPMainnetBlobBaseFeeScalar}
}

func testExo() *Exo {
	return &Exo{PriceUSD: [NumAssets]float64{1, 2300, 1}, Fees: testFees(), Elec: append([]float64(nil), testElec...)}
}

func newTestMarket(t testing.TB, s Setup) *Market {
	t.Helper()
	m, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// runMarket resets m with seed and runs ticks ticks of the random policy on exo
// (exoAt, when non-nil, changes it per tick), checking the chain's invariants and the
// engine's own bookkeeping every checkEvery ticks.
func runMarket(t testing.TB, m *Market, seed uint64, ticks int, exoAt func(tick int64, e *Exo), checkEvery int) {
	t.Helper()
	exo := testExo()
	if err := m.Reset(seed, exo); err != nil {
		t.Fatal(err)
	}
	pol := NewRandomPolicy(rng.New(seed, "policy"))
	for k := 0; k < ticks; k++ {
		if exoAt != nil {
			exoAt(int64(k), exo)
		}
		if err := m.Step(exo, pol); err != nil {
			t.Fatalf("tick %d: %v", k, err)
		}
		if checkEvery > 0 && (k%checkEvery == 0 || k == ticks-1) {
			checkBooks(t, m)
		}
	}
}

// checkBooks verifies the chain's invariants and that the engine's per-agent record of
// funds held in escrow adds up to what the escrow holds.
func checkBooks(t testing.TB, m *Market) {
	t.Helper()
	if err := m.chain.CheckInvariants(); err != nil {
		t.Fatalf("tick %d: %v", m.tick, err)
	}
	var held Balances
	for a := 0; a < m.agentIDs; a++ {
		for x := Asset(0); x < NumAssets; x++ {
			if m.held[a][x] < 0 {
				t.Fatalf("tick %d: agent %d holds %d %s in escrow", m.tick, a, m.held[a][x], x)
			}
			held[x] += m.held[a][x]
		}
	}
	for x := Asset(0); x < NumAssets; x++ {
		if esc := m.chain.Balance(AcctEscrow, x); esc != held[x] {
			t.Fatalf("tick %d: escrow holds %d %s, agents' held sum to %d", m.tick, esc, x, held[x])
		}
	}
	for i := range m.prov {
		p := &m.prov[i]
		pc := &m.pclass[p.class]
		if p.freeGPU < 0 || p.freeCPU < 0 || p.freeRAM < 0 || p.freeGPU > pc.gpus || p.freeCPU > pc.cpu || p.freeRAM > pc.ram {
			t.Fatalf("tick %d: provider %d capacity out of range: %+v", m.tick, p.agent, *p)
		}
	}
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func traceOf(t testing.TB, s Setup, seed uint64, ticks int) []byte {
	t.Helper()
	m := newTestMarket(t, s)
	var buf bytes.Buffer
	m.SetTrace(NewTraceWriter(&buf, TraceMeta{Seed: seed, Ticks: ticks, Policy: "random", Config: "test"}))
	runMarket(t, m, seed, ticks, nil, 0)
	if err := m.WriteFinal(false); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
