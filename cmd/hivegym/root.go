package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/spf13/cobra"
)

// Exit codes, as specs/cli.md says.
const (
	exitOK          = 0
	exitFailed      = 1 // the run failed
	exitBadInput    = 2 // bad flags, config or data file
	exitInterrupted = 130
)

// IOStreams are where a command reads and writes. Machine-readable output goes to Out;
// logs, progress and errors go to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// ErrTTY is true when ErrOut is a terminal and CI is not set: only then are progress
	// bars drawn.
	ErrTTY bool
}

// usageError marks bad input that is not tied to a file: a bad flag value, a wrong
// number of arguments.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Main runs the CLI with args and returns the process exit code.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ios := &IOStreams{In: in, Out: out, ErrOut: errOut, ErrTTY: isTerminal(errOut) && os.Getenv("CI") == ""}
	return run(ctx, ios, args)
}

func run(ctx context.Context, ios *IOStreams, args []string) int {
	root := newRootCmd(ios)
	// Anything cobra rejects before a command's RunE starts (an unknown command or flag,
	// a missing required flag, a wrong number of arguments) is bad input.
	started := false
	markStart(root, &started)
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if !started {
		var ue *usageError
		if !errors.As(err, &ue) {
			err = &usageError{msg: err.Error()}
		}
	}
	code := exitCode(ctx, err)
	msg := err.Error()
	if code == exitInterrupted {
		msg = "interrupted"
	}
	var ue *usageError
	if errors.As(err, &ue) && cmd != nil {
		msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
	}
	// One line per problem; a joined error already has one problem per line.
	for _, line := range strings.Split(strings.TrimSpace(msg), "\n") {
		fmt.Fprintf(ios.ErrOut, "hivegym: %s\n", line)
	}
	return code
}

// exitCode maps an error to the exit code of specs/cli.md.
func exitCode(ctx context.Context, err error) int {
	var (
		ue *usageError
		ce *experiments.Error
		fe *fieldpath.Error
	)
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &fe):
		return exitBadInput
	}
	return exitFailed
}

func newRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "hivegym <command> [flags]",
		Short: "A multi-agent RL simulator of a decentralized compute marketplace",
		Long: `hivegym simulates a decentralized compute marketplace: providers sell GPU time, clients
buy it, and they negotiate through a signed message protocol that settles on a simulated
L2 chain. Agents are scored like portfolio managers on their wealth in USD.`,
		Example: `  hivegym metrics --returns examples/returns/eth-daily.csv --periods-per-year 365
  hivegym config default > my.yaml
  hivegym config validate my.yaml`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	// Flag errors are bad input (exit 2), not failures.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })

	root.AddCommand(
		newVersionCmd(ios),
		newConfigCmd(ios),
		newMetricsCmd(ios),
		newSeriesCmd(ios),
		newProfileCmd(ios),
		newSimulateCmd(ios),
		newTrainCmd(ios),
		newEvalCmd(ios),
		newReplayCmd(ios),
		newSweepCmd(ios),
		newTournamentCmd(ios),
		newScoreboardCmd(ios),
		newRunsCmd(ios),
		newReportCmd(ios),
	)
	// Unknown commands and wrong argument counts are bad input too.
	wrapArgs(root)
	return root
}

// markStart wraps every command's RunE so that *started records whether one began.
func markStart(c *cobra.Command, started *bool) {
	if runE := c.RunE; runE != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			*started = true
			return runE(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		markStart(sub, started)
	}
}

// wrapArgs makes a command's positional-argument check return a usageError, recursively.
func wrapArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return &usageError{msg: err.Error()}
			}
			return nil
		}
	} else if c.HasSubCommands() && c.RunE == nil && c.Run == nil {
		// A command group: with no subcommand it prints its help; with an unknown one it
		// is bad input (cobra would otherwise print help and exit 0).
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
