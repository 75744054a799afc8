package main

import (
	"context"

	"github.com/hivegym/hivegym/experiments/report"
	"github.com/spf13/cobra"
)

type reportOptions struct {
	IO      *IOStreams
	Dirs    []string
	Out     string
	Store   string
	Title   string
	Smooth  int
	Threads int
	JSON    bool
}

// reportJSON is the document of `hivegym report --json`.
type reportJSON struct {
	Report  string   `json:"report"`
	Figures []string `json:"figures"`
}

func newReportCmd(ios *IOStreams) *cobra.Command {
	opts := &reportOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "report RUN_DIR... [--out DIR] [--store runs.db]",
		Short: "Write an offline HTML report with plots of one or more run directories",
		Long: `Read one or more run directories (the files of docs/run-dir.md) and write DIR/report.html
with its figures in DIR/img/*.png: the runs and their configs, the metrics table with 95%
confidence intervals, learning curves, equity curves with drawdowns shaded, metric
distributions across seeds, market statistics, the exogenous series, sample negotiation
threads and, for a sweep, each metric against each swept parameter with error bars.
A file a run does not have leaves its section out. The report needs no network and no
script; the same inputs give byte-identical files. docs/report.md describes each section.

A sweep's results come from its run store: --store FILE (or the directory holding
runs.db), or a RUN_DIR that is a sweep's output directory (it holds runs.db). DIR
defaults to the run directory when there is one, else report/. The path of report.html
is printed on stdout (--json: {"report": ..., "figures": [...]}).`,
		Example: `  hivegym report runs/eval-7
  hivegym report runs/train-1 runs/train-2 runs/train-3 --out report/
  hivegym report runs/scenarios                  # a sweep's output directory
  hivegym report --store runs/all.db --out report/sweep`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dirs = args
			return runReport(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "output directory (default: the run directory, or report/ for several)")
	f.StringVar(&opts.Store, "store", "", "run store (runs.db, or the directory that holds it) whose sweeps to show")
	f.StringVar(&opts.Title, "title", "", "title of the report (default: hivegym report and the runs' names)")
	f.IntVar(&opts.Smooth, "smooth", 0, "moving-average window of learning curves in iterations (0: automatic, 1: none)")
	f.IntVar(&opts.Threads, "threads", 6, "number of sample negotiation threads to draw")
	f.BoolVar(&opts.JSON, "json", false, `print {"report": path, "figures": [...]} on stdout`)
	return cmd
}

func runReport(ctx context.Context, opts *reportOptions) error {
	if len(opts.Dirs) == 0 && opts.Store == "" {
		return usagef("give at least one run directory (or --store)")
	}
	if opts.Smooth < 0 {
		return usagef("--smooth must be 0 (automatic) or a positive window, got %d", opts.Smooth)
	}
	if opts.Threads < 1 {
		return usagef("--threads must be at least 1, got %d", opts.Threads)
	}
	out := opts.Out
	if out == "" {
		out = "report"
		if len(opts.Dirs) == 1 {
			out = opts.Dirs[0]
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	res, err := report.Generate(ctx, opts.Dirs, out, report.Options{Store: opts.Store, Title: opts.Title,
		Smooth: opts.Smooth, Threads: opts.Threads})
	if err != nil {
		return err
	}
	if opts.JSON {
		doc := reportJSON{Report: res.Report, Figures: res.Figures}
		if doc.Figures == nil {
			doc.Figures = []string{}
		}
		return writeJSON(opts.IO.Out, doc)
	}
	_, err = opts.IO.Out.Write([]byte(res.Report + "\n"))
	return err
}
