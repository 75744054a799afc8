package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/scoreboard"
	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/experiments/sweep"
	"github.com/spf13/cobra"
)

type scoreboardOptions struct {
	IO          *IOStreams
	File        string
	Workers     int
	Shard       string
	Out         string
	Resume      bool
	RetryFailed bool
	NoRun       bool
	JSON        bool
	Markdown    bool
	Splice      string
	// Getenv reads the shard from a cluster's environment; os.Getenv outside tests.
	Getenv func(string) string
}

func newScoreboardCmd(ios *IOStreams) *cobra.Command {
	opts := &scoreboardOptions{IO: ios, Getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "scoreboard -c SCOREBOARD.yaml [--workers N] [--shard I/N] [--out DIR] [--resume] [--json|--markdown]",
		Short: "Train K seeds per cell and score each trained group against the strongest scripted baseline",
		Long: `Run a learning scoreboard (docs/training.md): for every cell of the file (scenario x
scheme x role setup: providers learning, clients learning, both learning) and every
seed, train the cell's config, then evaluate each learning group against every
baseline that fits its role (random-legal and every scripted strategy), each aimed at
that group alone, on the same held-out episodes. Per cell and group it prints the
strongest baseline (highest mean cumulative return), the paired difference trained
minus that baseline in cumulative return (percentage points) and in Sharpe with 95%
intervals, and the wins out of episodes, per seed and pooled over seeds (the mean of the
seeds' mean differences with a t interval over seeds).

A scoreboard is a sweep: it runs on --workers runs at once, shards with --shard I/N
(or a cluster job's environment, as 'hivegym sweep'), resumes with --resume, and keeps
its runs in DIR/runs.db (default DIR: runs/scoreboard-<name>). It writes
DIR/scoreboard.json, DIR/scoreboard.csv (every baseline, per seed and pooled) and
DIR/cells.csv (each group's strongest baseline), and prints the table on stdout
(--json: scoreboard.json; --markdown: the Markdown table between its markers).
Sharded stores merge with 'hivegym runs merge' into DIR/runs.db; then --no-run
writes the files and prints the table of the merged store without running anything.
--splice FILE replaces the table between this scoreboard's markers in FILE
(docs/training.md), "<!-- scoreboard:begin NAME -->" and "<!-- scoreboard:end NAME -->"
with NAME the scoreboard's name, with the Markdown table; other scoreboards' tables in
the file stay.

Exit code 1 when a run failed (the table shows the others), 130 when interrupted
(what finished is kept; continue with --resume).`,
		Example: `  hivegym scoreboard -c experiments/scoreboards/default.yaml
  hivegym scoreboard -c experiments/scoreboards/default.yaml --shard 0/4 --out runs/sb-0
  hivegym scoreboard -c experiments/scoreboards/default.yaml --no-run --splice docs/training.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runScoreboard(cmd.Context(), opts) },
	}
	f := cmd.Flags()
	f.StringVarP(&opts.File, "config", "c", "", "scoreboard file (required)")
	f.IntVar(&opts.Workers, "workers", 1, "runs executed at once")
	f.StringVar(&opts.Shard, "shard", "", "run only shard I of N (I/N); default: from the environment, else all")
	f.StringVar(&opts.Out, "out", "", "output directory; the store is DIR/runs.db (default runs/scoreboard-<name>)")
	f.BoolVar(&opts.Resume, "resume", false, "continue a scoreboard whose store exists: skip the finished runs")
	f.BoolVar(&opts.RetryFailed, "retry-failed", false, "with --resume, run the failed runs again too")
	f.BoolVar(&opts.NoRun, "no-run", false, "run nothing: write the files and print the table of the runs the store holds")
	f.BoolVar(&opts.JSON, "json", false, "print scoreboard.json on stdout")
	f.BoolVar(&opts.Markdown, "markdown", false, "print the Markdown table (between its markers) on stdout")
	f.StringVar(&opts.Splice, "splice", "", "replace the table between this scoreboard's markers in this file")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func runScoreboard(ctx context.Context, opts *scoreboardOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	switch {
	case opts.Workers < 1:
		return usagef("--workers must be at least 1, got %d", opts.Workers)
	case opts.RetryFailed && !opts.Resume:
		return usagef("--retry-failed needs --resume")
	case opts.JSON && opts.Markdown:
		return usagef("--json and --markdown both print on stdout: give one")
	case opts.NoRun && (opts.Resume || opts.Shard != ""):
		return usagef("--no-run runs nothing: it takes no --resume or --shard")
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	shard, from, err := resolveShard(opts.Shard, getenv)
	if err != nil {
		return err
	}
	b, err := scoreboard.LoadFile(opts.File)
	if err != nil {
		return err
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join("runs", "scoreboard-"+b.Name)
	}
	path := filepath.Join(out, "runs.db")
	var st *store.Store
	if opts.NoRun {
		if st, err = store.OpenExisting(path); err != nil {
			return storeError(path, err)
		}
	} else {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return outPathError(out, err)
		}
		if st, err = store.Open(path); err != nil {
			return storeError(path, err)
		}
	}
	defer st.Close()

	var runErr error
	interrupted := false
	if !opts.NoRun {
		cells := b.Cells()
		k := len(b.Seeds)
		label := func(r sweep.Run) string {
			c := cells[r.Index/k]
			return fmt.Sprintf("%s/%s/%s seed=%s", c.Scenario, c.Scheme, c.Setup, strconv.FormatUint(r.Seed, 10))
		}
		_, err := execSweep(ctx, opts.IO.ErrOut, b.Sweep, st, b.RunFunc(), shard, from,
			sweep.Options{Workers: opts.Workers, Resume: opts.Resume, RetryFailed: opts.RetryFailed}, label)
		if errors.Is(err, sweep.ErrStoreHasRuns) || errors.Is(err, sweep.ErrStoreMismatch) {
			return &usageError{msg: err.Error()}
		}
		interrupted = err != nil && ctx.Err() != nil
		if err != nil && !interrupted {
			return err
		}
		runErr = err
	}
	// The table is read back with a context an interruption does not cancel.
	doc, err := b.Results(context.WithoutCancel(ctx), st)
	if err != nil {
		return err
	}
	if err := doc.WriteFiles(out); err != nil {
		return outPathError(out, err)
	}
	if opts.Splice != "" {
		if err := spliceTable(opts.Splice, doc); err != nil {
			return err
		}
	}
	switch {
	case opts.JSON:
		err = writeJSON(opts.IO.Out, doc)
	case opts.Markdown:
		err = doc.WriteMarkdown(opts.IO.Out)
	default:
		err = doc.WriteText(opts.IO.Out)
	}
	if err != nil {
		return err
	}
	switch {
	case interrupted:
		fmt.Fprintf(opts.IO.ErrOut, "interrupted: %d runs not run; continue with --resume\n", doc.Pending)
		return runErr
	case doc.Failed > 0:
		return fmt.Errorf("%d of %d runs failed (hivegym runs list --store %s)", doc.Failed, doc.Runs, path)
	}
	return nil
}

// spliceTable replaces the table between the scoreboard's markers in file.
func spliceTable(file string, doc *scoreboard.Doc) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return &experiments.Error{File: file, Msg: err.Error()}
	}
	var tb strings.Builder
	if err := doc.WriteMarkdown(&tb); err != nil {
		return err
	}
	out, err := scoreboard.Splice(string(src), doc.Scoreboard, tb.String())
	if err != nil {
		return &experiments.Error{File: file, Msg: err.Error()}
	}
	return os.WriteFile(file, []byte(out), 0o644)
}
