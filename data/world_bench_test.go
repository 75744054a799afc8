package data

import "testing"

// BenchmarkWorldStep steps the default world (every series, all nine locations) and
// reports ticks per second and allocations per tick.
func BenchmarkWorldStep(b *testing.B) {
	w, err := New(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
}

// BenchmarkWorldStepMillion reports the wall time of 10^6 ticks (ten years at
// 5 minutes) of the default world, the acceptance figure of issue 3.
func BenchmarkWorldStepMillion(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		w, err := New(DefaultConfig(), 1)
		if err != nil {
			b.Fatal(err)
		}
		for k := 0; k < 1_000_000; k++ {
			w.Step()
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/1e6ticks")
}

func BenchmarkNextBaseFee(b *testing.B) {
	b.ReportAllocs()
	fee := uint64(15_000_000_000)
	used := []uint64{30_000_000, 0, 20_000_000, 10_000_000, 15_000_001}
	i := 0
	for b.Loop() {
		fee = NextBaseFee(fee, used[i%len(used)], 15_000_000, 8)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "blocks/s")
}

func BenchmarkForecast(b *testing.B) {
	w, err := New(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	for k := 0; k < 300; k++ {
		w.Step()
	}
	r := w.Window(colElec)
	b.Run("EWMA", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = EWMA{Alpha: 0.1}.ForecastRing(r, 12, 0.9)
		}
	})
	b.Run("AR1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = AR1{}.ForecastRing(r, 12, 0.9)
		}
	})
}
