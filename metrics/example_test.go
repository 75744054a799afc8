package metrics_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/hivegym/hivegym/metrics"
)

// A year of daily returns drawn from a seeded stream: 0.1% a day on average with 1%
// daily volatility, and one missing day.
func ExampleSummarize() {
	rng := rand.New(rand.NewPCG(2024, 1))
	r := make([]float64, 252)
	for i := range r {
		r[i] = 0.001 + 0.01*rng.NormFloat64()
	}
	r[100] = nan // a missing value: dropped by Sharpe and Sortino, counted by N

	s := metrics.Summarize(r, metrics.Options{PeriodsPerYear: 252, RiskFree: 0, MAR: 0, Eta: 0.01})
	fmt.Printf("N                 %d\n", s.N)
	fmt.Printf("cumulative return %.4f\n", s.CumulativeReturn)
	fmt.Printf("annual return     %.4f\n", s.AnnualReturn)
	fmt.Printf("annual volatility %.4f\n", s.AnnualVolatility)
	fmt.Printf("Sharpe            %.4f\n", s.Sharpe)
	fmt.Printf("Sortino           %.4f\n", s.Sortino)
	fmt.Printf("downside risk     %.4f\n", s.DownsideRisk)
	fmt.Printf("max drawdown      %.4f\n", s.MaxDrawdown)
	fmt.Printf("Calmar            %.4f\n", s.Calmar)
	fmt.Printf("moving Sharpe S_T %.4f\n", s.DSRFinal)
	// Output:
	// N                 252
	// cumulative return 0.1182
	// annual return     0.1182
	// annual volatility 0.1598
	// Sharpe            0.7819
	// Sortino           1.1410
	// downside risk     0.1095
	// max drawdown      -0.0796
	// Calmar            1.4852
	// moving Sharpe S_T 0.0328
}

// The differential Sharpe ratio as a per-step reward: warm-started from a burn-in
// sample so the first rewards do not spike, and clipped.
func ExampleDifferentialSharpe() {
	rng := rand.New(rand.NewPCG(2024, 2))
	draw := func() float64 { return 0.001 + 0.01*rng.NormFloat64() }

	burnIn := make([]float64, 100)
	for i := range burnIn {
		burnIn[i] = draw()
	}
	d := metrics.NewDifferentialSharpe(0.01)
	d.Clip = 5
	d.WarmStart(burnIn)
	fmt.Printf("after warm start: A=%.5f B=%.6f S=%.4f\n", d.A(), d.B(), d.Sharpe())

	for t := 1; t <= 5; t++ {
		r := draw()
		reward := d.Update(r)
		fmt.Printf("t=%d R=%+.4f D=%+.4f S=%.4f\n", t, r, reward, d.Sharpe())
	}
	// Output:
	// after warm start: A=0.00101 B=0.000092 S=0.1057
	// t=1 R=+0.0072 D=+0.6822 S=0.1125
	// t=2 R=-0.0084 D=-1.0011 S=0.1025
	// t=3 R=-0.0011 D=-0.1745 S=0.1008
	// t=4 R=+0.0182 D=+1.7091 S=0.1176
	// t=5 R=+0.0032 D=+0.2749 S=0.1204
}
