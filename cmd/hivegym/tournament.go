package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/experiments/sweep"
	"github.com/hivegym/hivegym/experiments/tournament"
	"github.com/spf13/cobra"
)

type tournamentOptions struct {
	IO          *IOStreams
	File        string
	Workers     int
	Shard       string
	Out         string
	Resume      bool
	RetryFailed bool
	Compare     string
	JSON        bool
	Getenv      func(string) string
}

func newTournamentCmd(ios *IOStreams) *cobra.Command {
	opts := &tournamentOptions{IO: ios, Getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "tournament -c TOURNAMENT.yaml [--workers N] [--shard I/N] [--out DIR] [--resume] [--compare A,B]",
		Short: "Cross-play trained and scripted entrants; payoff matrices and Bradley-Terry ratings",
		Long: `Play every matchup of a tournament file (docs/tournaments.md): head-to-head (each
provider entrant against each client entrant) and mixed populations (a role's entrants
sharing one market against each entrant of the other role), under every scenario and
scheme the file names, all on the same held-out episode seeds. Entrants are trained
groups (run directories or checkpoints) and scripted strategies.

The matchups run through the sweep machinery: the per-episode results go to the run store
DIR/runs.db (default DIR: runs/<tournament name>), --workers runs matchups at once,
--shard I/N (or a cluster's environment, as for 'hivegym sweep') runs a share of them,
--resume skips finished ones. When every run is done, the results are printed (ratings,
payoff matrices with 95% intervals) and written to DIR: payoff.csv, ratings.csv,
tournament.json (and compare.csv with --compare). After sharding, merge the stores with
'hivegym runs merge --out DIR/runs.db SHARD...' and run the same command with --out DIR
--resume to compute the results.`,
		Example: `  hivegym tournament -c examples/tournaments/tournament.yaml --workers 2
  hivegym tournament -c examples/tournaments/tournament.yaml --shard 0/2 --out runs/t-0
  hivegym runs merge --out runs/t/runs.db runs/t-0 runs/t-1
  hivegym tournament -c examples/tournaments/tournament.yaml --out runs/t --resume --compare league,default`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTournament(cmd.Context(), opts) },
	}
	f := cmd.Flags()
	f.StringVarP(&opts.File, "config", "c", "", "tournament file (required)")
	f.IntVar(&opts.Workers, "workers", 1, "matchup runs executed at once")
	f.StringVar(&opts.Shard, "shard", "", "run only shard I of N (I/N, 0 <= I < N); default: from the environment, else all")
	f.StringVar(&opts.Out, "out", "", "output directory; the store is DIR/runs.db (default runs/<tournament name>)")
	f.BoolVar(&opts.Resume, "resume", false, "continue a tournament whose store exists: skip the finished runs")
	f.BoolVar(&opts.RetryFailed, "retry-failed", false, "with --resume, run the failed runs again too")
	f.StringVar(&opts.Compare, "compare", "", "A,B: add the paired differences A - B of two entrants of one role")
	f.BoolVar(&opts.JSON, "json", false, "print the results as one JSON document on stdout")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func runTournament(ctx context.Context, opts *tournamentOptions) error {
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
	t, err := tournament.Load(opts.File)
	if err != nil {
		return err
	}
	var compare [2]string
	if opts.Compare != "" {
		a, b, ok := strings.Cut(opts.Compare, ",")
		if !ok {
			return usagef("--compare: want two entrants A,B, got %q", opts.Compare)
		}
		compare = [2]string{strings.TrimSpace(a), strings.TrimSpace(b)}
		if err := t.CheckCompare(compare[0], compare[1]); err != nil {
			return usagef("--compare: %v", err)
		}
	}
	sw, err := t.Sweep()
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
	st, err := store.Open(path)
	if err != nil {
		return storeError(path, err)
	}
	defer st.Close()
	w := opts.IO.ErrOut
	sum, err := sweep.Execute(ctx, sw, st, t.RunFunc(), sweep.Options{
		Workers: opts.Workers, Shard: shard, Resume: opts.Resume, RetryFailed: opts.RetryFailed,
		Started: func(sum sweep.Summary) {
			what := fmt.Sprintf("%d runs", sum.Runs)
			if shard.Count > 0 {
				what = fmt.Sprintf("shard %s (from %s): %d of %d runs", shard, from, sum.Runs, sw.NumRuns())
			}
			fmt.Fprintf(w, "tournament %s: %d matchups, %s, %d finished before, %d to run on %s; store %s\n",
				t.Name, len(t.Matchups), what, sum.Skipped, sum.Pending, nWorkers(opts.Workers), path)
		},
		Progress: func(p sweep.Progress) {
			width := len(strconv.Itoa(p.Total))
			if p.Status == store.StatusFailed {
				fmt.Fprintf(w, "[%*d/%d] failed %s %s: %s\n", width, p.Finished, p.Total, p.Run.ID, p.Run.Name, strings.Join(strings.Fields(p.Error), " "))
				return
			}
			fmt.Fprintf(w, "[%*d/%d] done   %s %s\n", width, p.Finished, p.Total, p.Run.ID, p.Run.Name)
		},
	})
	if errors.Is(err, sweep.ErrStoreHasRuns) || errors.Is(err, sweep.ErrStoreMismatch) {
		return &usageError{msg: err.Error()}
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(w, "interrupted: %d runs not run; continue with --resume\n", sum.Pending)
		}
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d runs failed (hivegym runs list --store %s)", sum.Failed, sum.Runs, path)
	}
	res, err := t.Results(ctx, sw, st, compare)
	var inc *tournament.ErrIncomplete
	if errors.As(err, &inc) && shard.Count > 1 {
		fmt.Fprintf(w, "shard %s done; the results need every shard: merge the stores (hivegym runs merge --out DIR/runs.db STORE...) and run this command with --out DIR --resume\n", shard)
		return nil
	}
	if err != nil {
		return err
	}
	doc, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	doc = append(doc, '\n')
	if err := res.WriteFiles(out, doc); err != nil {
		return err
	}
	if opts.JSON {
		_, err = opts.IO.Out.Write(doc)
		return err
	}
	if err := res.WriteTable(opts.IO.Out); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "\nwrote %s, %s, %s in %s\n", tournament.PayoffCSV, tournament.RatingsCSV, tournament.ResultJSON, out)
	return nil
}
