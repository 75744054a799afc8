package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkFinish writes one run's result: 1,000 curve points (10 metrics x 100
// iterations) and 200 final metrics, in one transaction.
func BenchmarkFinish(b *testing.B) {
	ctx := context.Background()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Add(ctx, testRun("r", 0)); err != nil {
		b.Fatal(err)
	}
	res := Result{Status: StatusDone}
	for m := 0; m < 10; m++ {
		for it := 0; it < 100; it++ {
			res.Curves = append(res.Curves, CurvePoint{Iteration: it, Group: "ppo", Metric: fmt.Sprint("m", m), Value: float64(it)})
		}
	}
	for a := 0; a < 40; a++ {
		for _, name := range []string{"cumulative_return", "sharpe", "sortino", "max_drawdown", "dsr_final"} {
			res.Metrics = append(res.Metrics, Metric{ScopeAgent, fmt.Sprint("p-", a), "provider", name, float64(a)})
		}
	}
	rows := len(res.Curves) + len(res.Metrics)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Finish(ctx, "r", res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
