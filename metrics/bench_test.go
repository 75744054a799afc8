package metrics_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/metrics"
)

const benchN = 100_000

var benchSink float64

func benchSeries() []float64 {
	return randomSeries(rand.New(rand.NewPCG(11, 1111)), benchN, 0.0002, 0.01, 0.001)
}

// reportPerElem reports the time per return processed.
func reportPerElem(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/elem")
}

func BenchmarkSharpe(b *testing.B) {
	r := benchSeries()
	b.ReportAllocs()
	for b.Loop() {
		benchSink += metrics.Sharpe(r, 0.0001, 105120)
	}
	reportPerElem(b)
}

func BenchmarkSortino(b *testing.B) {
	r := benchSeries()
	b.ReportAllocs()
	for b.Loop() {
		benchSink += metrics.Sortino(r, 0, 105120)
	}
	reportPerElem(b)
}

func BenchmarkMaxDrawdown(b *testing.B) {
	r := benchSeries()
	b.ReportAllocs()
	for b.Loop() {
		benchSink += metrics.MaxDrawdown(r)
	}
	reportPerElem(b)
}

func BenchmarkSummarize(b *testing.B) {
	r := benchSeries()
	o := metrics.Options{PeriodsPerYear: 105120, RiskFree: 0.0001, Eta: 0.01}
	b.ReportAllocs()
	for b.Loop() {
		benchSink += metrics.Summarize(r, o).Sharpe
	}
	reportPerElem(b)
}

func BenchmarkDifferentialSharpeUpdate(b *testing.B) {
	r := benchSeries()
	b.ReportAllocs()
	for b.Loop() {
		d := metrics.NewDifferentialSharpe(0.01)
		for _, x := range r {
			benchSink += d.Update(x)
		}
	}
	reportPerElem(b)
}
