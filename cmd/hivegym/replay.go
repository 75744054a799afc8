package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/tracecheck"
	"github.com/spf13/cobra"
)

type replayOptions struct {
	IO    *IOStreams
	Trace string
}

func newReplayCmd(ios *IOStreams) *cobra.Command {
	opts := &replayOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "replay TRACE.jsonl",
		Short: "Re-run a simulation from its trace and fail at the first difference",
		Long: `Re-run the simulation a trace records (the seed, tick count, policy and config of its
genesis line) and compare the re-run's trace with the file line by line. At the first
line that differs it prints one line naming the line number and what differs, and exits
1. When the whole trace matches, it also verifies the trace on its own (per-asset
conservation, no negative balance, legal message order per thread, escrow released
only by threads that locked it) and exits 0. A file that is not a trace exits 2.`,
		Example: `  hivegym simulate --ticks 288 --trace day.jsonl
  hivegym replay day.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Trace = args[0]
			return runReplay(cmd.Context(), opts)
		},
	}
	return cmd
}

func runReplay(ctx context.Context, opts *replayOptions) error {
	res, err := experiments.Replay(ctx, opts.Trace)
	if err != nil {
		return err
	}
	f, err := os.Open(opts.Trace)
	if err != nil {
		return &experiments.Error{File: opts.Trace, Msg: err.Error()}
	}
	defer f.Close()
	rep, err := tracecheck.Check(f)
	if err != nil {
		if te, ok := err.(*tracecheck.Error); ok {
			p := te.First()
			return fmt.Errorf("%s:%d: the trace replays but fails its checks: %s", opts.Trace, p.Line, p.Msg)
		}
		return err
	}
	fmt.Fprintf(opts.IO.Out, "%s: %d lines, %d ticks, seed %d: the replay matches; %d threads, %d messages, %d ledger lines check out\n",
		opts.Trace, res.Lines, res.Ticks, res.Seed, rep.Threads, rep.Messages, rep.Ledger)
	return nil
}
