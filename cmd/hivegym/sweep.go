package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/experiments/sweep"
	"github.com/hivegym/hivegym/market"
	"github.com/spf13/cobra"
)

// sweepRunFunc is what `hivegym sweep` runs for each run of a sweep: trainRun trains
// run.Config in memory, records its learning curves with rec.Curve and evaluates it on
// held-out episodes, recording each group's final metrics with rec.Group. Tests of the
// sweep machinery swap in simulateRun (one scripted episode) to stay fast.
var sweepRunFunc sweep.RunFunc = trainRun

type sweepOptions struct {
	IO          *IOStreams
	File        string
	Workers     int
	Shard       string
	Out         string
	Resume      bool
	RetryFailed bool
	JSON        bool
	// Getenv reads the shard from a cluster's environment; os.Getenv outside tests.
	Getenv func(string) string
	// RunFunc runs one run; sweepRunFunc outside tests.
	RunFunc sweep.RunFunc
}

func newSweepCmd(ios *IOStreams) *cobra.Command {
	opts := &sweepOptions{IO: ios, Getenv: os.Getenv, RunFunc: sweepRunFunc}
	cmd := &cobra.Command{
		Use:   "sweep -c SWEEP.yaml [--workers N] [--shard I/N] [--out DIR] [--resume]",
		Short: "Run a sweep: a base config times a grid of values times seeds, into a run store",
		Long: `Run every run of a sweep file (docs/sweeps.md): a base config, a grid (and random
samples) over any config keys, times seeds. Results go to the run store DIR/runs.db
(default DIR: runs/<sweep name>); read it with 'hivegym runs'.

A run whose values make an invalid config, or that fails, is recorded as failed with its
error and the others go on; the exit code is then 1. Ctrl-C stops starting runs, lets the
running ones finish their current unit, records what finished and exits 130; --resume
continues from there, running only the runs that are not finished.

Sharding: --shard I/N runs the runs whose index mod N is I, so N machines can share a
sweep, each with its own store; 'hivegym runs merge' joins the stores. Without --shard,
the shard comes from the environment of a cluster job, in this order:
  JOB_COMPLETION_INDEX (Kubernetes Indexed Job) with HIVEGYM_SHARD_COUNT (the Job's
    completions), then
  SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN) with SLURM_ARRAY_TASK_COUNT (Slurm
    array job);
and with none of them set, the whole sweep runs here.`,
		Example: `  hivegym sweep -c examples/sweeps/scenarios.yaml --workers 2
  hivegym sweep -c examples/sweeps/scenarios.yaml --shard 0/2 --out runs/shard-0
  hivegym sweep -c examples/sweeps/scenarios.yaml --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSweep(cmd.Context(), opts) },
	}
	f := cmd.Flags()
	f.StringVarP(&opts.File, "config", "c", "", "sweep file (required)")
	f.IntVar(&opts.Workers, "workers", 1, "runs executed at once")
	f.StringVar(&opts.Shard, "shard", "", "run only shard I of N (I/N, 0 <= I < N); default: from the environment, else all")
	f.StringVar(&opts.Out, "out", "", "output directory; the store is DIR/runs.db (default runs/<sweep name>)")
	f.BoolVar(&opts.Resume, "resume", false, "continue a sweep whose store exists: skip the finished runs")
	f.BoolVar(&opts.RetryFailed, "retry-failed", false, "with --resume, run the failed runs again too")
	f.BoolVar(&opts.JSON, "json", false, "print the summary as one JSON document on stdout")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// sweepReport is the JSON document of `hivegym sweep --json`.
type sweepReport struct {
	Sweep   string `json:"sweep"`
	Store   string `json:"store"`
	Shard   string `json:"shard"`
	Runs    int    `json:"runs"`
	Done    int    `json:"done"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
	Pending int    `json:"pending"`
}

func runSweep(ctx context.Context, opts *sweepOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.Workers < 1 {
		return usagef("--workers must be at least 1, got %d", opts.Workers)
	}
	if opts.RetryFailed && !opts.Resume {
		return usagef("--retry-failed needs --resume")
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	shard, from, err := resolveShard(opts.Shard, getenv)
	if err != nil {
		return err
	}
	sw, err := sweep.LoadFile(opts.File)
	if err != nil {
		return err
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join("runs", sw.Name)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return outPathError(out, err)
	}
	path := filepath.Join(out, "runs.db")
	newStore := !fileExists(path)
	st, err := store.Open(path)
	if err != nil {
		return storeError(path, err)
	}
	defer st.Close()

	fn := opts.RunFunc
	if fn == nil {
		fn = sweepRunFunc
	}
	w := opts.IO.ErrOut
	sum, err := execSweep(ctx, w, sw, st, fn, shard, from, sweep.Options{Workers: opts.Workers, Resume: opts.Resume, RetryFailed: opts.RetryFailed}, nil)
	if errors.Is(err, sweep.ErrInvalidCell) {
		if newStore {
			st.Close()
			removeStore(path)
		}
		return &experiments.Error{File: opts.File, Path: "grid", Msg: err.Error()}
	}
	if errors.Is(err, sweep.ErrStoreHasRuns) || errors.Is(err, sweep.ErrStoreMismatch) {
		return &usageError{msg: err.Error()}
	}
	interrupted := err != nil && ctx.Err() != nil
	if err != nil && !interrupted {
		return err
	}
	rep := sweepReport{Sweep: sw.Name, Store: path, Shard: shard.String(), Runs: sum.Runs,
		Done: sum.Done, Failed: sum.Failed, Skipped: sum.Skipped, Pending: sum.Pending}
	if opts.JSON {
		if err := writeJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.Out, "sweep %s: %d runs: %d done, %d failed, %d skipped (finished before), %d not run; store %s\n",
			sw.Name, sum.Runs, sum.Done, sum.Failed, sum.Skipped, sum.Pending, path)
	}
	switch {
	case interrupted:
		fmt.Fprintf(w, "interrupted: %d runs not run; continue with --resume\n", sum.Pending)
		return err
	case sum.Failed > 0:
		return fmt.Errorf("%d of %d runs failed (hivegym runs list --store %s)", sum.Failed, sum.Runs, path)
	}
	return nil
}

// execSweep executes shard of sw into st with fn, printing a line on w when it starts
// and one per recorded run; o gives the workers and the resume flags.
// label names a run in those lines (nil: its name).
func execSweep(ctx context.Context, w io.Writer, sw *sweep.Sweep, st *store.Store, fn sweep.RunFunc, shard sweep.Shard, from string, o sweep.Options, label func(sweep.Run) string) (sweep.Summary, error) {
	if label == nil {
		label = func(r sweep.Run) string { return r.Name }
	}
	started := func(sum sweep.Summary) {
		what := fmt.Sprintf("%d runs", sum.Runs)
		if shard.Count > 0 {
			what = fmt.Sprintf("shard %s (from %s): %d of %d runs", shard, from, sum.Runs, sw.NumRuns())
		}
		fmt.Fprintf(w, "sweep %s: %s, %d finished before, %d to run on %s; store %s\n",
			sw.Name, what, sum.Skipped, sum.Pending, nWorkers(o.Workers), st.Path())
	}
	o.Shard, o.Started = shard, started
	o.Progress = func(p sweep.Progress) {
		width := len(strconv.Itoa(p.Total))
		if p.Status == store.StatusFailed {
			msg := strings.Join(strings.Fields(p.Error), " ") // one line per run
			fmt.Fprintf(w, "[%*d/%d] failed %s %s: %s\n", width, p.Finished, p.Total, p.Run.ID, label(p.Run), msg)
			return
		}
		fmt.Fprintf(w, "[%*d/%d] done   %s %s\n", width, p.Finished, p.Total, p.Run.ID, label(p.Run))
	}
	return sweep.Execute(ctx, sw, st, fn, o)
}

// resolveShard returns the shard to run and where it came from: the --shard flag, else
// a Kubernetes Indexed Job's or a Slurm array job's environment, else the whole sweep.
func resolveShard(flag string, getenv func(string) string) (sweep.Shard, string, error) {
	if flag != "" {
		s, err := sweep.ParseShard(flag)
		if err != nil {
			return s, "", usagef("--shard: %v", err)
		}
		return s, "--shard", nil
	}
	atoi := func(name string) (int, error) {
		v := getenv(name)
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, usagef("%s=%q: want a non-negative whole number", name, v)
		}
		return n, nil
	}
	mkShard := func(i, n int, from string) (sweep.Shard, string, error) {
		if n < 1 || i >= n {
			return sweep.Shard{}, "", usagef("shard %d/%d from %s: want 0 <= index < count", i, n, from)
		}
		return sweep.Shard{Index: i, Count: n}, from, nil
	}
	if getenv("JOB_COMPLETION_INDEX") != "" {
		i, err := atoi("JOB_COMPLETION_INDEX")
		if err != nil {
			return sweep.Shard{}, "", err
		}
		if getenv("HIVEGYM_SHARD_COUNT") == "" {
			return sweep.Shard{}, "", usagef("JOB_COMPLETION_INDEX is set but HIVEGYM_SHARD_COUNT is not: set it to the Job's completions, or pass --shard I/N")
		}
		n, err := atoi("HIVEGYM_SHARD_COUNT")
		if err != nil {
			return sweep.Shard{}, "", err
		}
		return mkShard(i, n, "JOB_COMPLETION_INDEX")
	}
	if getenv("SLURM_ARRAY_TASK_ID") != "" {
		id, err := atoi("SLURM_ARRAY_TASK_ID")
		if err != nil {
			return sweep.Shard{}, "", err
		}
		if getenv("SLURM_ARRAY_TASK_COUNT") == "" {
			return sweep.Shard{}, "", usagef("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard I/N")
		}
		n, err := atoi("SLURM_ARRAY_TASK_COUNT")
		if err != nil {
			return sweep.Shard{}, "", err
		}
		lo := 0
		if getenv("SLURM_ARRAY_TASK_MIN") != "" {
			if lo, err = atoi("SLURM_ARRAY_TASK_MIN"); err != nil {
				return sweep.Shard{}, "", err
			}
		}
		if step := getenv("SLURM_ARRAY_TASK_STEP"); step != "" && step != "1" {
			return sweep.Shard{}, "", usagef("SLURM_ARRAY_TASK_STEP=%s: a sweep's array must be contiguous (--array=0-N)", step)
		}
		if id < lo {
			return sweep.Shard{}, "", usagef("SLURM_ARRAY_TASK_ID=%d is below SLURM_ARRAY_TASK_MIN=%d", id, lo)
		}
		return mkShard(id-lo, n, "SLURM_ARRAY_TASK_ID")
	}
	return sweep.Shard{}, "", nil
}

// storeError makes a store that cannot be opened (missing, not a database, written by a
// newer hivegym) bad input naming the file.
func storeError(path string, err error) error {
	msg := err.Error()
	var se *store.SchemaError
	switch {
	case errors.As(err, &se):
		msg = fmt.Sprintf("schema version %d is newer than this hivegym's (%d): use a newer hivegym", se.Version, se.Known)
	case errors.Is(err, os.ErrNotExist):
		msg = "no such store (pass --store with a runs.db file or the directory that holds it)"
	}
	return &experiments.Error{File: path, Msg: msg}
}

// simulateRun is a sweep.RunFunc without learning (the sweep tests use it): one episode of run.Config's market with the scripted policy. It records
// no curves (nothing learns) and these final metrics:
//   - groups "providers" and "clients" (role provider, client): the mean over the role's
//     agents of agents, mean_wealth_usd, mean_change_usd, cumulative_return, sharpe,
//     sortino and max_drawdown (specs/metrics.md, on each agent's wealth in USD);
//   - group "market" (role market): ticks, deals, deal_rate (deals per requested job),
//     deal_usd, gpu_hours, price_per_gpu_hour, utilization (busy GPU ticks / GPU ticks),
//     completed, failed, timeouts, slashes, gas_usd and elec_usd.
//
// An interrupted episode returns ctx's error, so the run stays pending for --resume.
func simulateRun(ctx context.Context, run sweep.Run, rec sweep.Recorder) error {
	res, err := experiments.Simulate(ctx, run.Config, experiments.SimulateOptions{})
	if err != nil {
		return err
	}
	put := func(group, role, name string, v float64) error { return rec.Group(group, role, name, v) }
	roles := []struct {
		group, role string
		m           market.RoleMetrics
	}{{"providers", "provider", res.Providers}, {"clients", "client", res.Clients}}
	for _, r := range roles {
		for _, kv := range []struct {
			name string
			v    float64
		}{
			{"agents", float64(r.m.Agents)}, {"mean_wealth_usd", r.m.MeanWealthUSD}, {"mean_change_usd", r.m.MeanChangeUSD},
			{"cumulative_return", r.m.CumulativeReturn}, {"sharpe", r.m.Sharpe}, {"sortino", r.m.Sortino},
			{"max_drawdown", r.m.MaxDrawdown},
		} {
			if err := put(r.group, r.role, kv.name, kv.v); err != nil {
				return err
			}
		}
	}
	st := res.Stats
	for _, kv := range []struct {
		name string
		v    float64
	}{
		{"ticks", float64(res.Ticks)}, {"deals", float64(st.Deals)}, {"deal_rate", ratio(float64(st.Deals), float64(st.JobsRequested))},
		{"deal_usd", st.DealUSD}, {"gpu_hours", st.GPUHoursDealt}, {"price_per_gpu_hour", ratio(st.GPUDealUSD, st.GPUHoursDealt)},
		{"utilization", ratio(st.BusyGPUTicks, st.GPUTicks)}, {"completed", float64(st.Completed)}, {"failed", float64(st.Failed)},
		{"timeouts", float64(st.Timeouts)}, {"slashes", float64(st.Slashes)}, {"gas_usd", st.GasUSD}, {"elec_usd", st.ElecUSD},
	} {
		if err := put("market", "market", kv.name, kv.v); err != nil {
			return err
		}
	}
	return nil
}

// ratio is a / b, or NaN when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// nWorkers says n workers in words: "1 worker", "2 workers".
func nWorkers(n int) string {
	if n == 1 {
		return "1 worker"
	}
	return strconv.Itoa(n) + " workers"
}
