package sweep

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hivegym/hivegym/experiments/store"
)

// BenchmarkResolve measures the expansion of a 2 x 2 x 3 sweep: a strict decode and a
// validation of each run's config.
func BenchmarkResolve(b *testing.B) {
	s, err := Load("bench.yaml", []byte(grid2x2x3))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if runs := s.Runs(Shard{}); len(runs) != 12 {
			b.Fatal(len(runs))
		}
	}
	b.ReportMetric(float64(12*b.N)/b.Elapsed().Seconds(), "runs/s")
}

// BenchmarkExecuteOverhead measures what Execute adds per run (resolution, store
// writes, ordering) into a new store, with a RunFunc that records four curve points and two metrics.
func BenchmarkExecuteOverhead(b *testing.B) {
	ctx := context.Background()
	s, err := Load("bench.yaml", []byte(grid2x2x3))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := store.Open(filepath.Join(dir, fmt.Sprint(i, ".db")))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if sum, err := Execute(ctx, s, st, testRun, Options{Workers: 2}); err != nil || sum.Done != 12 {
			b.Fatal(sum, err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(12*b.N)/b.Elapsed().Seconds(), "runs/s")
}
