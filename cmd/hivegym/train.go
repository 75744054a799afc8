package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/sweep"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// noTorchMsg is what an untagged build says to --backend torch.
const noTorchMsg = "this hivegym was built without libtorch: build with -tags torch (make torch-setup)"

// checkDevice checks a --device value for the torch backend. Builds with -tags torch
// replace it (torch.go) with libtorch's own check.
var checkDevice = func(device string) error {
	if device == "cuda" {
		return errors.New("--device cuda: " + noTorchMsg + ", with a libtorch that has CUDA")
	}
	return nil
}

// applyBackend sets the config's backend and device from the flags (empty: keep the
// config's) and checks that this build can run them.
func applyBackend(cfg *experiments.Config, backend, device string) error {
	if backend != "" {
		if backend != "go" && backend != "torch" {
			return usagef("--backend must be go or torch, got %q", backend)
		}
		cfg.Training.PPO.Backend = backend
	}
	if device != "" {
		if device != "cpu" && device != "cuda" {
			return usagef("--device must be cpu or cuda, got %q", device)
		}
		cfg.Training.Device = device
	}
	if _, err := nn.Lookup(cfg.Training.PPO.Backend); err != nil {
		if cfg.Training.PPO.Backend == "torch" {
			return usagef("--backend torch: %s", noTorchMsg)
		}
		return usagef("backend %q: %v", cfg.Training.PPO.Backend, err)
	}
	if cfg.Training.Device == "cuda" {
		if cfg.Training.PPO.Backend != "torch" {
			return usagef("--device cuda needs --backend torch: the go backend runs on the CPU only")
		}
		if err := checkDevice("cuda"); err != nil {
			return usagef("%v", err)
		}
	}
	return nil
}

type trainOptions struct {
	IO         *IOStreams
	Config     string
	Seed       uint64
	SeedSet    bool
	Scenario   string
	Out        string
	Iterations int
	Workers    int
	Resume     bool
	Backend    string
	Device     string
	JSON       bool
}

func newTrainCmd(ios *IOStreams) *cobra.Command {
	opts := &trainOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "train [-c CONFIG] [--seed N] [--scenario NAME] [--out DIR] [--iterations N] [--workers N] [--resume]",
		Short: "Train the population's learning groups and write a run directory",
		Long: `Train the learning groups of the config's population (ppo and dsr groups) against
the scripted ones (docs/training.md). With no config, the embedded default trains every
provider with PPO against budget-aware scripted clients.

Each iteration runs one episode in each of training.num_envs markets side by side, then
updates every PPO group once. The run directory (default runs/train-<seed>) gets
config.yaml, run.json, curves.csv (iteration,group,metric,value) and
checkpoints/<group>-<iteration>.safetensors with <group>-latest.safetensors, every
training.checkpoint_every iterations and at the end. The same seed and config give
byte-identical checkpoints.

Ctrl-C stops at the end of the current iteration's rollout: the learners of the last
completed iteration are checkpointed and the exit code is 130. --resume continues the
run in --out from its latest checkpoint to the same result as an uninterrupted run.
Then evaluate it: hivegym eval DIR.`,
		Example: `  hivegym train --out runs/default
  hivegym train -c my.yaml --seed 7 --iterations 50 --out runs/mine
  hivegym train --scenario gas-spike --out runs/gas-spike
  hivegym train --out runs/default --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.SeedSet = cmd.Flags().Changed("seed")
			for _, name := range []string{"iterations", "workers"} {
				if v, _ := cmd.Flags().GetInt(name); cmd.Flags().Changed(name) && v < 1 {
					return usagef("--%s must be at least 1, got %d", name, v)
				}
			}
			return runTrain(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Config, "config", "c", "", "config file (default: the embedded default; with --resume, the run's config.yaml)")
	seedVar(f, &opts.Seed, 0, "run seed (default: the config's seed)")
	f.StringVar(&opts.Scenario, "scenario", "", "scenario to train under, overriding world.scenario.name: "+strings.Join(data.Scenarios(), ", "))
	f.StringVar(&opts.Out, "out", "", "run directory (default runs/train-<seed>)")
	f.IntVar(&opts.Iterations, "iterations", 0, "training iterations (default: training.iterations)")
	f.IntVar(&opts.Workers, "workers", 0, "goroutines stepping the environments (default: training.workers)")
	f.BoolVar(&opts.Resume, "resume", false, "continue the run in --out from its latest checkpoint")
	f.StringVar(&opts.Backend, "backend", "", "network backend: go or torch (default: training.ppo.backend)")
	f.StringVar(&opts.Device, "device", "", "device: cpu or cuda (default: training.device)")
	f.BoolVar(&opts.JSON, "json", false, "print a JSON summary on stdout")
	return cmd
}

// trainReport is the JSON summary of `hivegym train --json`.
type trainReport struct {
	Dir         string   `json:"dir"`
	Seed        uint64   `json:"seed"`
	Iterations  int      `json:"iterations"`
	Decisions   int64    `json:"decisions"`
	Interrupted bool     `json:"interrupted"`
	Checkpoints []string `json:"checkpoints"`
}

func runTrain(ctx context.Context, opts *trainOptions) error {
	if opts.Iterations < 0 || opts.Workers < 0 {
		return usagef("--iterations and --workers must be positive")
	}
	if opts.Resume && opts.Out == "" {
		return usagef("--resume needs --out, the run directory to continue")
	}
	var cfg experiments.Config
	var err error
	switch {
	case opts.Config != "":
		cfg, err = experiments.LoadFile(opts.Config)
	case opts.Resume:
		cfg, err = experiments.LoadRunConfig(filepath.Join(opts.Out, "config.yaml"))
	default:
		cfg = experiments.DefaultConfig()
	}
	if err != nil {
		return err
	}
	if err := applyRunFlags(&cfg, opts.SeedSet, opts.Seed, opts.Scenario); err != nil {
		return err
	}
	if opts.Iterations > 0 {
		cfg.Training.Iterations = opts.Iterations
	}
	if opts.Workers > 0 {
		cfg.Training.Workers = opts.Workers
	}
	if err := applyBackend(&cfg, opts.Backend, opts.Device); err != nil {
		return err
	}
	if err := revalidate(opts.Config, &cfg); err != nil {
		return err
	}
	if opts.Out == "" {
		opts.Out = filepath.Join("runs", "train-"+strconv.FormatUint(cfg.Seed, 10))
	}
	log := newLogger(opts.IO)
	prog := newIterProgress(opts.IO, opts.JSON, log, cfg.Training.Iterations, names(&cfg))
	log.Info("training", "dir", opts.Out, "seed", cfg.Seed, "iterations", cfg.Training.Iterations,
		"envs", cfg.Training.NumEnvs, "backend", cfg.Training.PPO.Backend, "resume", opts.Resume)
	res, trainErr := experiments.Train(ctx, cfg, experiments.TrainOptions{Out: opts.Out, Resume: opts.Resume, Progress: prog.report})
	prog.finish()
	if res == nil {
		return configError(opts.Config, trainErr)
	}
	if res.Interrupted {
		log.Info("interrupted: checkpointed; continue with --resume", "dir", opts.Out, "iterations", res.Iterations)
	}
	rep := trainReport{Dir: opts.Out, Seed: cfg.Seed, Iterations: res.Iterations, Decisions: res.Decisions,
		Interrupted: res.Interrupted, Checkpoints: res.Checkpoints}
	if rep.Checkpoints == nil {
		rep.Checkpoints = []string{}
	}
	var outErr error
	if opts.JSON {
		outErr = writeJSON(opts.IO.Out, rep)
	} else {
		_, outErr = fmt.Fprintf(opts.IO.Out, "%s: %d iterations, %d decisions; evaluate with: hivegym eval %s\n",
			opts.Out, res.Iterations, res.Decisions, opts.Out)
	}
	if trainErr != nil {
		return trainErr
	}
	return outErr
}

func names(cfg *experiments.Config) []string {
	var out []string
	for _, g := range cfg.Population {
		out = append(out, g.Name)
	}
	return out
}

// newLogger returns a text logger on stderr without wall-clock times.
func newLogger(ios *IOStreams) *slog.Logger {
	return slog.New(slog.NewTextHandler(ios.ErrOut, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// iterProgress shows training progress: a bar on a terminal (iteration, env decisions
// per second, mean reward, ETA), else a log line every few iterations.
type iterProgress struct {
	bar   *progressbar.ProgressBar
	log   *slog.Logger
	names []string
	every int
	last  time.Time
	start time.Time
}

func newIterProgress(ios *IOStreams, jsonOut bool, log *slog.Logger, total int, groups []string) *iterProgress {
	p := &iterProgress{log: log, names: groups, every: max(1, total/20), last: time.Now(), start: time.Now()}
	if ios.ErrTTY && !jsonOut {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(ios.ErrOut),
			progressbar.OptionSetDescription("training"), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *iterProgress) report(r experiments.IterationReport) {
	now := time.Now()
	sps := float64(r.Decisions) / math.Max(now.Sub(p.last).Seconds(), 1e-9)
	p.last = now
	var rets []string
	for i, x := range r.Returns {
		if i < len(p.names) {
			rets = append(rets, fmt.Sprintf("%s %.4g", p.names[i], x))
		}
	}
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("iter %d/%d · %.0f decisions/s · return %s", r.Iteration, r.Iterations, sps, strings.Join(rets, ", ")))
		_ = p.bar.Set(r.Iteration)
		return
	}
	if r.Iteration%p.every == 0 || r.Iteration == r.Iterations {
		args := []any{"iteration", r.Iteration, "of", r.Iterations, "decisions_per_s", int64(sps)}
		for i, x := range r.Returns {
			if i < len(p.names) {
				args = append(args, "return_"+p.names[i], fmt.Sprintf("%.4g", x))
			}
		}
		p.log.Info("iteration", args...)
	}
}

func (p *iterProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// fileExists reports whether path names an existing file (not a directory).
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// trainRun is a sweep.RunFunc that trains run.Config in memory and evaluates it: it
// records every training curve point (rec.Curve, iteration, group, metric), then the
// mean over evalEpisodes held-out episodes (seed run.Seed) of every eval metric of every
// group (rec.Group). It is what `hivegym sweep` should run once sweeps train (see
// sweepRunFunc); an interrupted run returns ctx's error and stays pending.
func trainRun(ctx context.Context, run sweep.Run, rec sweep.Recorder) error {
	const evalEpisodes = 4
	res, err := experiments.Train(ctx, run.Config, experiments.TrainOptions{
		Curve: func(p experiments.CurvePoint) error { return rec.Curve(p.Iteration, p.Group, p.Metric, p.Value) },
	})
	if err != nil {
		return err
	}
	ev, err := experiments.Eval(ctx, run.Config, experiments.EvalOptions{Episodes: evalEpisodes, Seed: run.Seed,
		Trained: res.Trained, Workers: run.Config.Training.Workers})
	if err != nil {
		return err
	}
	for _, g := range ev.Doc.Groups {
		for _, m := range experiments.EvalMetrics {
			if err := rec.Group(g.Name, g.Role, m, float64(g.Metrics[m].Mean)); err != nil {
				return err
			}
		}
	}
	return nil
}
