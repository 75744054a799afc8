package dsr_test

import (
	"fmt"

	"github.com/hivegym/hivegym/agents/dsr"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/metrics"
)

// Train the trader online on returns with momentum (AR(1), φ = 0.3), then trade a fresh
// series with the weights frozen: its Sharpe ratio is positive.
func Example() {
	l, err := dsr.New(dsr.DefaultConfig(), 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	series := func(name string, n int) []float64 {
		r, out, prev := rng.New(1, name), make([]float64, n), 0.0
		for i := range out {
			prev = 0.3*prev + 0.01*r.NormFloat64()
			out[i] = prev
		}
		return out
	}
	for _, r := range series("train", 10000) {
		if _, err := l.Step(0, r, nil); err != nil {
			fmt.Println(err)
			return
		}
	}
	var rets []float64
	for _, r := range series("test", 2000) {
		o, _ := l.Trade(0, r, nil)
		rets = append(rets, o.Return)
	}
	fmt.Println("out-of-sample Sharpe > 0.1 per period:", metrics.Sharpe(rets, 0, 1) > 0.1)
	// Output:
	// out-of-sample Sharpe > 0.1 per period: true
}
