package env

import (
	"testing"
	"time"

	"github.com/hivegym/hivegym/internal/rng"
)

// BenchmarkEnvStep steps the default environment (1,000 agents, observation vectors
// and masks on) with the random-legal policy; one iteration is one Step (a round of
// decisions). It reports decisions/s, agent-ticks/s and allocations per step.
func BenchmarkEnvStep(b *testing.B) {
	s := DefaultSettings()
	e, err := New(s)
	if err != nil {
		b.Fatal(err)
	}
	pol := NewRandomLegal(rng.New(1, "bench"))
	batch, err := e.Reset(1)
	if err != nil {
		b.Fatal(err)
	}
	var acts []Action
	step := func() {
		if batch.Done {
			if batch, err = e.Reset(2); err != nil {
				b.Fatal(err)
			}
		}
		acts = append(acts[:0], make([]Action, batch.Len())...)
		pol.Act(e, batch, acts)
		if batch, err = e.Step(acts); err != nil {
			b.Fatal(err)
		}
	}
	for range 3000 { // warm up: steady-state capacity
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	entries, ticks := 0, int64(0)
	last := batch.Tick
	for i := 0; i < b.N; i++ {
		step()
		entries += batch.Len()
		if batch.Tick != last {
			ticks += max(batch.Tick-last, 0)
			last = batch.Tick
		}
	}
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(entries)/sec, "decisions/s")
	b.ReportMetric(float64(ticks)*1000/sec, "agent-ticks/s")
}
