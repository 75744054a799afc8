package main

import (
	"fmt"
	"math"
	"text/tabwriter"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/jsonfloat"
	"github.com/hivegym/hivegym/metrics"
	"github.com/spf13/cobra"
)

type metricsOptions struct {
	IO             *IOStreams
	Returns        string
	PeriodsPerYear float64
	RiskFree       float64
	MAR            float64
	Eta            float64
	JSON           bool
}

func newMetricsCmd(ios *IOStreams) *cobra.Command {
	opts := &metricsOptions{IO: ios}
	def := experiments.DefaultConfig().Metrics
	cmd := &cobra.Command{
		Use:   "metrics --returns FILE.csv",
		Short: "Risk metrics of a returns series: Sharpe, Sortino, drawdown, DSR",
		Long: `Compute the risk metrics of specs/metrics.md for one column of per-period simple
returns: cumulative and annual return, annual volatility, Sharpe, Sortino, downside risk,
max drawdown, Calmar and the final moving Sharpe ratio of the online differential Sharpe
estimator.

The CSV has one column, an optional header line, and an empty cell or NaN for a missing
value. Sharpe and Sortino drop missing values; the annual return counts every row.`,
		Example: `  hivegym metrics --returns examples/returns/eth-daily.csv --periods-per-year 365
  hivegym metrics --returns r.csv --periods-per-year 252 --risk-free 0.0001 --json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runMetrics(opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Returns, "returns", "", "CSV file with one column of per-period simple returns (required)")
	f.Float64Var(&opts.PeriodsPerYear, "periods-per-year", 252, "periods in a year: 252 daily (trading), 365 daily (crypto), 52 weekly, 12 monthly, 105120 for 5-minute ticks")
	f.Float64Var(&opts.RiskFree, "risk-free", def.RiskFree, "risk-free return per period")
	f.Float64Var(&opts.MAR, "mar", def.MAR, "minimum acceptable return per period (Sortino, downside risk)")
	f.Float64Var(&opts.Eta, "eta", def.Eta, "adaptation rate of the online differential Sharpe estimator, in (0, 1)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document on stdout")
	_ = cmd.MarkFlagRequired("returns")
	return cmd
}

// metricsReport is the JSON document of `hivegym metrics --json`; key order follows
// specs/cli.md.
type metricsReport struct {
	N                int             `json:"n"`
	CumulativeReturn jsonfloat.Float `json:"cumulative_return"`
	AnnualReturn     jsonfloat.Float `json:"annual_return"`
	AnnualVolatility jsonfloat.Float `json:"annual_volatility"`
	Sharpe           jsonfloat.Float `json:"sharpe"`
	Sortino          jsonfloat.Float `json:"sortino"`
	DownsideRisk     jsonfloat.Float `json:"downside_risk"`
	MaxDrawdown      jsonfloat.Float `json:"max_drawdown"`
	Calmar           jsonfloat.Float `json:"calmar"`
	DSRFinal         jsonfloat.Float `json:"dsr_final"`
}

func runMetrics(opts *metricsOptions) error {
	if !(opts.PeriodsPerYear > 0) || math.IsInf(opts.PeriodsPerYear, 0) {
		return usagef("--periods-per-year must be a positive number, got %g", opts.PeriodsPerYear)
	}
	if !(opts.Eta > 0 && opts.Eta < 1) {
		return usagef("--eta must be in (0, 1), got %g", opts.Eta)
	}
	if math.IsNaN(opts.RiskFree) || math.IsInf(opts.RiskFree, 0) {
		return usagef("--risk-free must be a finite number, got %g", opts.RiskFree)
	}
	if math.IsNaN(opts.MAR) || math.IsInf(opts.MAR, 0) {
		return usagef("--mar must be a finite number, got %g", opts.MAR)
	}
	r, err := experiments.ReadReturnsFile(opts.Returns)
	if err != nil {
		return err
	}
	s := metrics.Summarize(r, metrics.Options{
		PeriodsPerYear: opts.PeriodsPerYear,
		RiskFree:       opts.RiskFree,
		MAR:            opts.MAR,
		Eta:            opts.Eta,
	})
	rep := metricsReport{
		N:                s.N,
		CumulativeReturn: jsonfloat.Float(s.CumulativeReturn),
		AnnualReturn:     jsonfloat.Float(s.AnnualReturn),
		AnnualVolatility: jsonfloat.Float(s.AnnualVolatility),
		Sharpe:           jsonfloat.Float(s.Sharpe),
		Sortino:          jsonfloat.Float(s.Sortino),
		DownsideRisk:     jsonfloat.Float(s.DownsideRisk),
		MaxDrawdown:      jsonfloat.Float(s.MaxDrawdown),
		Calmar:           jsonfloat.Float(s.Calmar),
		DSRFinal:         jsonfloat.Float(s.DSRFinal),
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, rep)
	}
	missing := 0
	for _, x := range r {
		if math.IsNaN(x) {
			missing++
		}
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "%s: %d rows, %d missing; %g periods per year, risk-free %g, MAR %g, eta %g\n\n",
		opts.Returns, len(r), missing, opts.PeriodsPerYear, opts.RiskFree, opts.MAR, opts.Eta)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	rows := []struct {
		name string
		v    float64
		pct  bool
	}{
		{"cumulative return", s.CumulativeReturn, true},
		{"annual return (CAGR)", s.AnnualReturn, true},
		{"annual volatility", s.AnnualVolatility, true},
		{"Sharpe ratio", s.Sharpe, false},
		{"Sortino ratio", s.Sortino, false},
		{"downside risk", s.DownsideRisk, true},
		{"max drawdown", s.MaxDrawdown, true},
		{"Calmar ratio", s.Calmar, false},
		{"moving Sharpe S_T (DSR)", s.DSRFinal, false},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\t\n", row.name, formatMetric(row.v, row.pct))
	}
	return tw.Flush()
}

func formatMetric(v float64, pct bool) string {
	if s, ok := jsonfloat.NonFinite(v); ok {
		return s
	}
	// Beyond a million the fixed form grows to hundreds of digits and breaks the table.
	if pct {
		if math.Abs(100*v) >= 1e6 {
			return fmt.Sprintf("%.3e%%", 100*v)
		}
		return fmt.Sprintf("%.2f%%", 100*v)
	}
	if math.Abs(v) >= 1e6 {
		return fmt.Sprintf("%.3e", v)
	}
	return fmt.Sprintf("%.4f", v)
}
