package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/plots"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/jsonfloat"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// maxSeriesTicks bounds --ticks: the series are kept in memory for the summary and the
// plots (16 columns x 8 bytes x 2,000,000 ticks is 256 MB).
const maxSeriesTicks = 2_000_000

type seriesOptions struct {
	IO       *IOStreams
	Config   string
	Scenario string
	Seed     uint64
	SeedSet  bool
	Ticks    int
	Out      string
	Plots    bool
	JSON     bool
}

func newSeriesCmd(ios *IOStreams) *cobra.Command {
	opts := &seriesOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "series [-c CONFIG] [--scenario NAME] [--seed N] [--ticks N] [--out DIR]",
		Short: "Generate the exogenous series (prices, gas, electricity) as CSV and plots",
		Long: `Generate the world's series from a seed, tick by tick, as a run would see them, and
write them to DIR: series.csv (an RFC 3339 time column and one column per series, the
unit in each header), the plots tokens.png, l1_gas.png, l2_cost.png, electricity.png and
one elec_<location>.png per location, and config.yaml (the config with its seed and
scenario). A summary table (mean, sd, min, max, and the annualized volatility of log
returns for prices) goes to stdout, or one JSON document with --json.

Scenarios: ` + strings.Join(data.Scenarios(), ", ") + `. The same seed and config give a
byte-identical series.csv.`,
		Example: `  hivegym series
  hivegym series --scenario gas-spike --seed 7 --out out/gas-spike
  hivegym series -c my.yaml --ticks 105120 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.SeedSet = cmd.Flags().Changed("seed")
			return runSeries(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Config, "config", "c", "", "config file (default: the embedded default config)")
	f.StringVar(&opts.Scenario, "scenario", "", "scenario to apply, overriding world.scenario.name: "+strings.Join(data.Scenarios(), ", "))
	seedVar(f, &opts.Seed, 0, "run seed (default: the config's seed)")
	f.IntVar(&opts.Ticks, "ticks", 2016, "number of ticks to write, tick 0 included (2016 = a week of 5-minute ticks)")
	f.StringVar(&opts.Out, "out", "out/series", "output directory")
	f.BoolVar(&opts.Plots, "plots", true, "write the PNG plots (--plots=false writes only series.csv and config.yaml)")
	f.BoolVar(&opts.JSON, "json", false, "print the summary as one JSON document on stdout")
	return cmd
}

// seriesStats is one row of the summary.
type seriesStats struct {
	Name   string           `json:"name"`
	Unit   string           `json:"unit"`
	Mean   jsonfloat.Float  `json:"mean"`
	SD     jsonfloat.Float  `json:"sd"`
	Min    jsonfloat.Float  `json:"min"`
	Max    jsonfloat.Float  `json:"max"`
	AnnVol *jsonfloat.Float `json:"annual_volatility,omitempty"`
}

// seriesReport is the JSON document of `hivegym series --json`.
type seriesReport struct {
	Seed     uint64        `json:"seed"`
	Scenario string        `json:"scenario"`
	Start    string        `json:"start"`
	Tick     string        `json:"tick"`
	Ticks    int           `json:"ticks"`
	Out      string        `json:"out"`
	Files    []string      `json:"files"`
	Series   []seriesStats `json:"series"`
}

func runSeries(opts *seriesOptions) error {
	if opts.Ticks < 2 || opts.Ticks > maxSeriesTicks {
		return usagef("--ticks must be between 2 and %d, got %d", maxSeriesTicks, opts.Ticks)
	}
	if opts.Out == "" {
		return usagef("--out must name a directory")
	}
	cfg, err := loadWorldConfig(opts.Config)
	if err != nil {
		return err
	}
	if err := applyRunFlags(&cfg, opts.SeedSet, opts.Seed, opts.Scenario); err != nil {
		return err
	}
	w, err := data.New(cfg.World, cfg.Seed)
	if err != nil {
		return worldError(opts.Config, err)
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return outPathError(opts.Out, err)
	}
	// Logs carry no wall-clock time: stderr is as reproducible as the files.
	log := slog.New(slog.NewTextHandler(opts.IO.ErrOut, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	log.Info("generating series", "ticks", opts.Ticks, "seed", cfg.Seed, "scenario", cfg.World.Scenario.Name)

	cols := w.Columns()
	vals := make([][]float64, len(cols))
	for i := range vals {
		vals[i] = make([]float64, opts.Ticks)
	}
	times := make([]time.Time, opts.Ticks)
	var row []float64
	for k := 0; k < opts.Ticks; k++ {
		if k > 0 {
			w.Step()
		}
		times[k] = w.Time()
		row = w.Values(row)
		for i, x := range row {
			vals[i][k] = x
		}
	}

	var files []string
	csvPath := filepath.Join(opts.Out, "series.csv")
	if err := writeSeriesCSV(csvPath, cols, times, vals); err != nil {
		return err
	}
	files = append(files, csvPath)
	cfgPath := filepath.Join(opts.Out, "config.yaml")
	if err := writeResolvedConfig(cfgPath, cfg); err != nil {
		return err
	}
	files = append(files, cfgPath)
	if opts.Plots {
		pngs, err := writeSeriesPlots(opts.Out, w, times, vals)
		if err != nil {
			return err
		}
		files = append(files, pngs...)
	}
	for _, f := range files {
		log.Info("wrote", "file", f)
	}

	rep := seriesReport{
		Seed: cfg.Seed, Scenario: cfg.World.Scenario.Name, Start: times[0].Format(time.RFC3339),
		Tick: cfg.World.Tick.String(), Ticks: opts.Ticks, Out: opts.Out, Files: files,
	}
	for i, c := range cols {
		s := data.Summarize(vals[i], c.Price, w.TicksPerYear())
		st := seriesStats{Name: c.Name, Unit: c.Unit, Mean: jsonfloat.Float(s.Mean), SD: jsonfloat.Float(s.SD),
			Min: jsonfloat.Float(s.Min), Max: jsonfloat.Float(s.Max)}
		if c.Price {
			v := jsonfloat.Float(s.AnnVol)
			st.AnnVol = &v
		}
		rep.Series = append(rep.Series, st)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, rep)
	}
	return printSeriesSummary(opts.IO, rep)
}

// loadWorldConfig returns the config at path, or the embedded default when path is
// empty.
func loadWorldConfig(path string) (experiments.Config, error) {
	if path == "" {
		return experiments.DefaultConfig(), nil
	}
	return experiments.LoadFile(path)
}

// worldError maps a world construction error to the CLI's bad-input errors: a CSV
// problem names its file and line, a config problem its world.* key.
func worldError(configFile string, err error) error {
	var ce *data.CSVError
	if errors.As(err, &ce) {
		return &experiments.Error{File: ce.File, Line: ce.Line, Msg: ce.Msg}
	}
	var fe *fieldpath.Error
	if errors.As(err, &fe) {
		under := fieldpath.Under("world", err)
		if configFile == "" {
			return under
		}
		return fmt.Errorf("%s: %w", configFile, under)
	}
	return err
}

// outPathError reports an output path (--out, --trace) that cannot be created as bad
// input (exit 2) naming the path, like an unreadable input file.
func outPathError(path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &experiments.Error{File: path, Msg: "cannot create: " + err.Error()}
}

func writeSeriesCSV(path string, cols []data.Column, times []time.Time, vals [][]float64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	bw.WriteString("time")
	for _, c := range cols {
		bw.WriteByte(',')
		bw.WriteString(c.Name)
	}
	bw.WriteByte('\n')
	var buf []byte
	for k, t := range times {
		buf = t.UTC().AppendFormat(buf[:0], time.RFC3339)
		for i := range cols {
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, vals[i][k], 'g', -1, 64)
		}
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeResolvedConfig(path string, cfg experiments.Config) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	head := "# The config of this `hivegym series` run, with its seed and scenario.\n"
	return os.WriteFile(path, append([]byte(head), b...), 0o644)
}

func writeSeriesPlots(dir string, w *data.World, times []time.Time, vals [][]float64) ([]string, error) {
	cols := w.Columns()
	panel := func(i int, title, ylabel string) *plots.TimeSeries {
		return &plots.TimeSeries{Title: title, YLabel: ylabel, Times: times, Series: []plots.Series{{Y: vals[i]}}}
	}
	ref := w.Config().Gas.L2.ReferenceTx
	type fig struct {
		name   string
		panels []plots.Figure
	}
	figs := []fig{
		{"tokens.png", []plots.Figure{
			panel(data.ColETH, "ETH price", "ETH price (USD)"),
			panel(data.ColHIVE, "HIVE price", "HIVE price (USD)"),
			panel(data.ColUSDC, "USDC price", "USDC price (USD)"),
		}},
		{"l1_gas.png", []plots.Figure{
			panel(data.ColL1BaseFee, "L1 base fee (mean of the tick's 12-second blocks)", "base fee (gwei per gas)"),
			panel(data.ColBlobBaseFee, "L1 blob base fee (after the tick's last block)", "blob base fee (wei per blob gas)"),
		}},
		{"l2_cost.png", []plots.Figure{
			panel(data.ColL2Tx, "L2 transaction cost ("+ref+", L2 execution + L1 data fee)", "cost (USD per transaction)"),
			panel(data.ColL2BaseFee, "L2 base fee (mean of the tick's 2-second blocks)", "base fee (gwei per gas)"),
		}},
	}
	var files []string
	for _, f := range figs {
		p := filepath.Join(dir, f.name)
		if err := plots.SaveStack(p, f.panels...); err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	all := &plots.TimeSeries{Title: "Electricity price by location", YLabel: "price (USD per kWh)", Times: times, ZeroLine: true}
	for i := 0; i < w.NumLocations(); i++ {
		col := len(cols) - w.NumLocations() + i
		all.Series = append(all.Series, plots.Series{Name: w.LocationName(i), Y: vals[col]})
	}
	p := filepath.Join(dir, "electricity.png")
	if err := all.Save(p); err != nil {
		return nil, err
	}
	files = append(files, p)
	for i, s := range all.Series {
		one := &plots.TimeSeries{Title: "Electricity price, " + s.Name, YLabel: "price (USD per kWh)", Times: times,
			ZeroLine: true, Series: []plots.Series{{Y: s.Y}}}
		p := filepath.Join(dir, "elec_"+w.LocationName(i)+".png")
		if err := one.Save(p); err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	return files, nil
}

func printSeriesSummary(ios *IOStreams, rep seriesReport) error {
	out := ios.Out
	fmt.Fprintf(out, "%d ticks of %s from %s, seed %d, scenario %s; files in %s\n\n",
		rep.Ticks, rep.Tick, rep.Start, rep.Seed, rep.Scenario, rep.Out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "series\tmean\tsd\tmin\tmax\tann. vol\t")
	for _, s := range rep.Series {
		vol := "-"
		if s.AnnVol != nil {
			vol = formatMetric(float64(*s.AnnVol), true)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Name, num4(float64(s.Mean)), num4(float64(s.SD)),
			num4(float64(s.Min)), num4(float64(s.Max)), vol)
	}
	return tw.Flush()
}

// num4 prints a number with 4 significant digits, or NaN/+Inf/-Inf.
func num4(x float64) string {
	if s, ok := jsonfloat.NonFinite(x); ok {
		return s
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}
