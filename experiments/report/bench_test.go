package report

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkGenerate writes the full report of one fixture run directory (every
// section but the sweep: 10 figures).
func BenchmarkGenerate(b *testing.B) {
	dir := b.TempDir()
	run := writeFixture(b, dir, defaultFixture("eval", 1))
	out := filepath.Join(dir, "out")
	b.ReportAllocs()
	figs := 0
	for b.Loop() {
		res, err := Generate(context.Background(), []string{run}, out, Options{})
		if err != nil {
			b.Fatal(err)
		}
		figs += len(res.Figures)
	}
	b.ReportMetric(float64(figs)/b.Elapsed().Seconds(), "figures/s")
}

// BenchmarkParseEquity reads the fixture's equity.csv (3 seeds x 300 ticks x 2 groups).
func BenchmarkParseEquity(b *testing.B) {
	dir := b.TempDir()
	run := writeFixture(b, dir, defaultFixture("eval", 1))
	p := filepath.Join(run, fileEquity)
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		eq, err := parseEquity(p, data)
		if err != nil {
			b.Fatal(err)
		}
		rows += len(eq)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
