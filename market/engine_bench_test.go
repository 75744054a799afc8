package market

import (
	"runtime"
	"testing"
	"time"

	"github.com/hivegym/hivegym/internal/rng"
)

// setup10k is the default market scaled to 1,000 providers and 9,000 clients (every
// class count times ten), signatures none.
func setup10k() Setup {
	s := testSetup()
	for i := range s.Engine.Providers {
		s.Engine.Providers[i].Count *= 10
	}
	for i := range s.Engine.Clients {
		s.Engine.Clients[i].Count *= 10
	}
	return s
}

// BenchmarkMarket10k steps the 10,000-agent market with the random policy, one tick per
// iteration; the market is reset (outside the timer) every simulated week. It reports
// agent-ticks/s, decisions/s, decisions per tick, and allocations per tick (b.ReportAllocs;
// divide by decisions/tick for allocations per decision).
func BenchmarkMarket10k(b *testing.B) {
	m := newTestMarket(b, setup10k())
	exo := testExo()
	const week = 2016
	reset := func(seed uint64) *RandomPolicy {
		if err := m.Reset(seed, exo); err != nil {
			b.Fatal(err)
		}
		return NewRandomPolicy(rng.New(seed, "policy"))
	}
	pol := reset(1)
	// Warm up one week so slices reach their steady-state capacity.
	for k := 0; k < week; k++ {
		if err := m.Step(exo, pol); err != nil {
			b.Fatal(err)
		}
	}
	pol = reset(2)
	agents := float64(m.NumAgents() - 2)
	b.ReportAllocs()
	b.ResetTimer()
	var decisions int64
	var busy time.Duration
	start := time.Now()
	ticks := 0
	for i := 0; i < b.N; i++ {
		if ticks == week {
			b.StopTimer()
			busy += time.Since(start)
			decisions += m.Stats().Decisions
			pol = reset(uint64(3 + i))
			ticks = 0
			start = time.Now()
			b.StartTimer()
		}
		if err := m.Step(exo, pol); err != nil {
			b.Fatal(err)
		}
		ticks++
	}
	busy += time.Since(start)
	decisions += m.Stats().Decisions
	sec := busy.Seconds()
	b.ReportMetric(agents*float64(b.N)/sec, "agent-ticks/s")
	b.ReportMetric(float64(decisions)/sec, "decisions/s")
	b.ReportMetric(float64(decisions)/float64(b.N), "decisions/tick")
	runtime.KeepAlive(m)
}

// BenchmarkMarketWeek10k runs whole simulated weeks (2,016 ticks, the reset included) of
// the 10,000-agent market; it reports seconds per week.
func BenchmarkMarketWeek10k(b *testing.B) {
	m := newTestMarket(b, setup10k())
	exo := testExo()
	b.ReportAllocs()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := m.Reset(uint64(i+1), exo); err != nil {
			b.Fatal(err)
		}
		pol := NewRandomPolicy(rng.New(uint64(i+1), "policy"))
		for k := 0; k < 2016; k++ {
			if err := m.Step(exo, pol); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/week")
}

// heapPerAgent measures the heap an idle agent costs: the marginal heap of n more
// clients that never get a job nor a treasury turn, after a few ticks.
func heapPerAgent(tb testing.TB, n int) float64 {
	build := func(clients int) *Market {
		s := testSetup()
		s.Engine.Treasury.PeriodTicks = 0
		s.Engine.Clients = s.Engine.Clients[:1]
		s.Engine.Clients[0].Count = clients
		s.Engine.Clients[0].JobsPerDay = Range{0, 0}
		m := newTestMarket(tb, s)
		exo := testExo()
		if err := m.Reset(1, exo); err != nil {
			tb.Fatal(err)
		}
		pol := NewRandomPolicy(rng.New(1, "policy"))
		for k := 0; k < 3; k++ {
			if err := m.Step(exo, pol); err != nil {
				tb.Fatal(err)
			}
		}
		return m
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	h0 := heap()
	a := build(n)
	h1 := heap()
	c := build(2 * n)
	h2 := heap()
	runtime.KeepAlive(a)
	runtime.KeepAlive(c)
	return (float64(h2-h1) - float64(h1-h0)) / float64(n)
}

// BenchmarkIdleAgentMemory reports the heap an idle agent costs (B/agent).
func BenchmarkIdleAgentMemory(b *testing.B) {
	var per float64
	for i := 0; i < b.N; i++ {
		per = heapPerAgent(b, 20_000)
	}
	b.ReportMetric(per, "B/agent")
}
