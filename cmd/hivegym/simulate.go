package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/jsonfloat"
	"github.com/hivegym/hivegym/market"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// maxSimulateTicks bounds --ticks (ten years of 5-minute ticks).
const maxSimulateTicks = 10 * 105_120

type simulateOptions struct {
	IO       *IOStreams
	Config   string
	Seed     uint64
	SeedSet  bool
	Ticks    int
	TicksSet bool
	Scenario string
	Trace    string
	JSON     bool
}

func newSimulateCmd(ios *IOStreams) *cobra.Command {
	opts := &simulateOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "simulate [-c CONFIG] [--seed N] [--ticks N] [--scenario NAME] [--trace FILE.jsonl] [--json]",
		Short: "Run the market with scripted policies and print its statistics",
		Long: `Run one episode of the market (the config's world, scheme, market and env sections)
with the cost-aware random-legal policy, and print the market's statistics: deals and the
deal rate, the mean price per GPU-hour, utilization, timeouts, collateral_missing,
slashes, gas spent, and the mean metrics of providers and clients (wealth change,
cumulative return, Sharpe, Sortino, max drawdown). --json prints one JSON document.

--trace writes every message, state change and ledger movement as JSON Lines
(specs/cli.md); 'hivegym replay' re-runs it. The same seed and config give a
byte-identical trace. Ctrl-C stops at the end of the current tick, writes the trace's
final line and the statistics so far, and exits 130.`,
		Example: `  hivegym simulate
  hivegym simulate --ticks 288 --trace out/day.jsonl
  hivegym simulate -c my.yaml --seed 7 --scenario heatwave --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.SeedSet = cmd.Flags().Changed("seed")
			opts.TicksSet = cmd.Flags().Changed("ticks")
			return runSimulate(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Config, "config", "c", "", "config file (default: the embedded default config)")
	seedVar(f, &opts.Seed, 0, "run seed (default: the config's seed)")
	f.IntVar(&opts.Ticks, "ticks", 0, "ticks to simulate (default: the config's env.episode_ticks)")
	f.StringVar(&opts.Scenario, "scenario", "", "scenario to apply, overriding world.scenario.name: "+strings.Join(data.Scenarios(), ", "))
	f.StringVar(&opts.Trace, "trace", "", "write the trace (JSON Lines) to this file")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document on stdout")
	return cmd
}

// roleReport is one role's mean metrics in `hivegym simulate --json`.
type roleReport struct {
	Agents           int             `json:"agents"`
	MeanWealthUSD    jsonfloat.Float `json:"mean_wealth_usd"`
	MeanChangeUSD    jsonfloat.Float `json:"mean_wealth_change_usd"`
	CumulativeReturn jsonfloat.Float `json:"mean_cumulative_return"`
	Sharpe           jsonfloat.Float `json:"mean_sharpe"`
	Sortino          jsonfloat.Float `json:"mean_sortino"`
	MaxDrawdown      jsonfloat.Float `json:"mean_max_drawdown"`
}

// simulateReport is the JSON document of `hivegym simulate --json`.
type simulateReport struct {
	Seed              uint64          `json:"seed"`
	Scenario          string          `json:"scenario"`
	Scheme            string          `json:"scheme"`
	Policy            string          `json:"policy"`
	Ticks             int             `json:"ticks"`
	Interrupted       bool            `json:"interrupted"`
	Agents            int             `json:"agents"`
	JobsArrived       int64           `json:"jobs_arrived"`
	JobsRequested     int64           `json:"jobs_requested"`
	Deals             int64           `json:"deals"`
	DealRate          jsonfloat.Float `json:"deal_rate"`
	MeanGPUHourUSD    jsonfloat.Float `json:"mean_price_per_gpu_hour_usd"`
	MeanCoreHourUSD   jsonfloat.Float `json:"mean_price_per_core_hour_usd"`
	GPUUtilization    jsonfloat.Float `json:"gpu_utilization"`
	CPUUtilization    jsonfloat.Float `json:"cpu_utilization"`
	Completed         int64           `json:"completed"`
	Failed            int64           `json:"failed"`
	Rejected          int64           `json:"validation_rejected"`
	Timeouts          int64           `json:"timeouts"`
	CollateralMissing int64           `json:"collateral_missing"`
	Slashes           int64           `json:"slashes"`
	GasTransactions   int64           `json:"gas_transactions"`
	GasETH            jsonfloat.Float `json:"gas_spent_eth"`
	GasUSD            jsonfloat.Float `json:"gas_spent_usd"`
	ElectricityUSD    jsonfloat.Float `json:"electricity_usd"`
	DealVolumeUSD     jsonfloat.Float `json:"deal_volume_usd"`
	Messages          int64           `json:"messages"`
	MessagesRejected  int64           `json:"messages_rejected"`
	Decisions         int64           `json:"decisions"`
	Providers         roleReport      `json:"providers"`
	Clients           roleReport      `json:"clients"`
	Trace             string          `json:"trace,omitempty"`
}

func runSimulate(ctx context.Context, opts *simulateOptions) error {
	// 0 is the flag's unset value (the config's episode length), not a length to ask for.
	if opts.Ticks < 0 || opts.Ticks > maxSimulateTicks || (opts.TicksSet && opts.Ticks == 0) {
		return usagef("--ticks must be between 1 and %d, got %d", maxSimulateTicks, opts.Ticks)
	}
	cfg, err := loadWorldConfig(opts.Config)
	if err != nil {
		return err
	}
	if err := applyRunFlags(&cfg, opts.SeedSet, opts.Seed, opts.Scenario); err != nil {
		return err
	}
	if opts.Scenario != "" {
		if err := revalidate(opts.Config, &cfg); err != nil {
			return err
		}
	}
	simOpts := experiments.SimulateOptions{Ticks: opts.Ticks}
	var traceFile *os.File
	if opts.Trace != "" {
		if traceFile, err = os.Create(opts.Trace); err != nil {
			return outPathError(opts.Trace, err)
		}
		defer traceFile.Close()
		simOpts.Trace = traceFile
	}
	total := cfg.Env.EpisodeTicks
	if opts.Ticks > 0 {
		total = opts.Ticks
	}
	var bar *progressbar.ProgressBar
	if opts.IO.ErrTTY && !opts.JSON {
		bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(opts.IO.ErrOut),
			progressbar.OptionSetDescription("simulating"), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		simOpts.Progress = func(done, _ int) { _ = bar.Set(done) }
	}
	res, simErr := experiments.Simulate(ctx, cfg, simOpts)
	if bar != nil {
		_ = bar.Finish()
	}
	if res == nil {
		return configError(opts.Config, simErr)
	}
	if traceFile != nil {
		if err := traceFile.Close(); err != nil && simErr == nil {
			simErr = err
		}
	}
	rep := simulateReportOf(res, opts.Trace)
	var outErr error
	if opts.JSON {
		outErr = writeJSON(opts.IO.Out, rep)
	} else {
		outErr = printSimulateReport(opts.IO, &rep)
	}
	if simErr != nil {
		return simErr
	}
	return outErr
}

// revalidate validates a loaded config again after a command-line override and reports
// a problem like loading would: the file, the line of the key and its full path (the
// errors of Config.Validate have absolute paths, so configError's world prefix does not
// apply to them).
func revalidate(configFile string, cfg *experiments.Config) error {
	err := cfg.Validate()
	if err == nil {
		err = experiments.CheckCheckpoints(*cfg)
	}
	if err == nil {
		return nil
	}
	if configFile == "" {
		return experiments.Locate("<default>", experiments.DefaultYAML(), err)
	}
	src, _ := os.ReadFile(configFile) // it was read a moment ago; without it there are no lines
	return experiments.Locate(configFile, src, err)
}

// configError maps an error from building the simulation to the CLI's bad-input errors:
// a config field names its key (and the file when there is one).
func configError(configFile string, err error) error {
	if err == nil {
		return nil
	}
	var ce *experiments.Error
	if errors.As(err, &ce) {
		return err
	}
	return worldError(configFile, err)
}

func simulateReportOf(res *experiments.SimulateResult, trace string) simulateReport {
	s := &res.Stats
	role := func(r market.RoleMetrics) roleReport {
		return roleReport{Agents: r.Agents, MeanWealthUSD: jsonfloat.Float(r.MeanWealthUSD), MeanChangeUSD: jsonfloat.Float(r.MeanChangeUSD),
			CumulativeReturn: jsonfloat.Float(r.CumulativeReturn), Sharpe: jsonfloat.Float(r.Sharpe),
			Sortino: jsonfloat.Float(r.Sortino), MaxDrawdown: jsonfloat.Float(r.MaxDrawdown)}
	}
	return simulateReport{
		Seed: res.Seed, Scenario: res.Scenario, Scheme: res.Scheme, Policy: res.Policy, Ticks: res.Ticks,
		Interrupted: res.Interrupted, Agents: res.Agents,
		JobsArrived: s.JobsArrived, JobsRequested: s.JobsRequested, Deals: s.Deals, DealRate: jsonfloat.Float(s.DealRate()),
		MeanGPUHourUSD: jsonfloat.Float(s.MeanGPUHourUSD()), MeanCoreHourUSD: jsonfloat.Float(s.MeanCoreHourUSD()),
		GPUUtilization: jsonfloat.Float(s.GPUUtilization()), CPUUtilization: jsonfloat.Float(s.CPUUtilization()),
		Completed: s.Completed, Failed: s.Failed, Rejected: s.ValidationRejected, Timeouts: s.Timeouts,
		CollateralMissing: s.CollateralMissing, Slashes: s.Slashes, GasTransactions: s.GasTxs,
		GasETH: jsonfloat.Float(float64(s.GasGwei) / 1e9), GasUSD: jsonfloat.Float(s.GasUSD),
		ElectricityUSD: jsonfloat.Float(s.ElecUSD), DealVolumeUSD: jsonfloat.Float(s.DealUSD),
		Messages: s.Messages, MessagesRejected: s.Rejected, Decisions: s.Decisions,
		Providers: role(res.Providers), Clients: role(res.Clients), Trace: trace,
	}
}

func printSimulateReport(ios *IOStreams, r *simulateReport) error {
	out := ios.Out
	status := ""
	if r.Interrupted {
		status = " (interrupted)"
	}
	fmt.Fprintf(out, "%d ticks%s, seed %d, scenario %s, scheme %s, policy %s, %d agents\n\n",
		r.Ticks, status, r.Seed, r.Scenario, r.Scheme, r.Policy, r.Agents)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	rows := []struct{ name, v string }{
		{"jobs arrived", fmt.Sprint(r.JobsArrived)},
		{"jobs requested", fmt.Sprint(r.JobsRequested)},
		{"deals", fmt.Sprint(r.Deals)},
		{"deal rate", pct(float64(r.DealRate))},
		{"mean price per GPU-hour", usd(float64(r.MeanGPUHourUSD))},
		{"mean price per core-hour", usd(float64(r.MeanCoreHourUSD))},
		{"GPU utilization", pct(float64(r.GPUUtilization))},
		{"CPU utilization", pct(float64(r.CPUUtilization))},
		{"jobs completed", fmt.Sprint(r.Completed)},
		{"jobs failed", fmt.Sprint(r.Failed)},
		{"results rejected", fmt.Sprint(r.Rejected)},
		{"timeouts", fmt.Sprint(r.Timeouts)},
		{"collateral_missing", fmt.Sprint(r.CollateralMissing)},
		{"slashes", fmt.Sprint(r.Slashes)},
		{"gas transactions", fmt.Sprint(r.GasTransactions)},
		{"gas spent", fmt.Sprintf("%.6f ETH (%s)", float64(r.GasETH), usd(float64(r.GasUSD)))},
		{"electricity", usd(float64(r.ElectricityUSD))},
		{"deal volume", usd(float64(r.DealVolumeUSD))},
		{"messages (rejected)", fmt.Sprintf("%d (%d)", r.Messages, r.MessagesRejected)},
		{"decisions", fmt.Sprint(r.Decisions)},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\t\n", row.name, row.v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "role\tagents\tmean wealth\tmean change\tcum. return\tSharpe\tSortino\tmax drawdown\t")
	for _, x := range []struct {
		name string
		r    roleReport
	}{{"providers", r.Providers}, {"clients", r.Clients}} {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", x.name, x.r.Agents, usd(float64(x.r.MeanWealthUSD)),
			usd(float64(x.r.MeanChangeUSD)), pct(float64(x.r.CumulativeReturn)), formatMetric(float64(x.r.Sharpe), false),
			formatMetric(float64(x.r.Sortino), false), pct(float64(x.r.MaxDrawdown)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Trace != "" {
		fmt.Fprintf(out, "\ntrace: %s\n", r.Trace)
	}
	return nil
}

func pct(x float64) string { return formatMetric(x, true) }

func usd(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return formatMetric(x, false)
	}
	return fmt.Sprintf("%.2f USD", x)
}
