package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/agents/dsr"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/experiments"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

type evalOptions struct {
	IO        *IOStreams
	Target    string
	Config    string
	Episodes  int
	Seed      uint64
	Scenario  string
	Baselines string
	Out       string
	Workers   int
	Backend   string
	Device    string
	JSON      bool
}

func newEvalCmd(ios *IOStreams) *cobra.Command {
	opts := &evalOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "eval RUN_DIR|CHECKPOINT [-c CONFIG] [--episodes N] [--seed N] [--scenario NAME] [--baselines A,B] [--json]",
		Short: "Score trained policies on fresh seeds against baselines",
		Long: `Evaluate a training run: its trained policy groups (the latest checkpoints, or the
CHECKPOINT file given for its group) and each named baseline swapped in for the same
agents, on the same --episodes fresh episodes. Episode seeds derive from --seed and are
never the training episodes' seeds. The config is the run's config.yaml unless -c is
given; --scenario evaluates under another scenario (a policy trained in the baseline
world, scored under gas-spike). The run's checkpoints play the config's learning groups
of the same name and need only fit its environment and their group's role, as a
tournament's entrants do, so -c CONFIG scores the same policies against other opponents
or in another market.

Baselines: random (the cost-aware random-legal policy) or any scripted strategy name
(cost-plus fits providers, budget clients). A plain name stands in for every learning
group it fits at once; GROUP=NAME stands in for that learning group only, the other
learning groups keep their trained policies (with two learning groups:
--baselines providers=boulware,clients=budget). For each policy group the output gives the
mean over episodes, with its Student-t 95% confidence interval, of the group's mean
cumulative return, Sharpe ratio, Sortino ratio, maximum drawdown and final moving Sharpe
ratio (dsr_final). --json prints metrics.json:
{"groups":[{"name","role","kind","metrics":{"sharpe":{"mean":x,"ci95":[lo,hi]},...}}]}

Files go to --out (default RUN_DIR/eval): run.json, metrics.json, episodes.csv,
equity.csv, market.csv, series.csv, threads.jsonl, actions.csv (each learning group's
action histogram) and, per baseline, baselines/<baseline>/market.csv and threads.jsonl
(docs/run-dir.md); 'hivegym report' reads them. Progress goes to stderr: a bar on a
terminal, else a log line every 10% of the episodes.`,
		Example: `  hivegym eval runs/default
  hivegym eval runs/default --episodes 10 --seed 100 --baselines random,cost-plus --json
  hivegym eval runs/default --scenario gas-spike --baselines boulware
  hivegym eval runs/default/checkpoints/providers-20.safetensors --episodes 3
  hivegym eval runs/both --baselines providers=boulware,clients=budget
  hivegym eval runs/default -c tit-for-tat-clients.yaml --baselines boulware`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Target = args[0]
			return runEval(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Config, "config", "c", "", "config file (default: the run's config.yaml)")
	f.IntVar(&opts.Episodes, "episodes", 10, "held-out episodes per policy")
	seedVar(f, &opts.Seed, 100, "seed of the held-out episodes")
	f.StringVar(&opts.Scenario, "scenario", "", "scenario to evaluate under, overriding world.scenario.name: "+strings.Join(data.Scenarios(), ", "))
	f.StringVar(&opts.Baselines, "baselines", "random,cost-plus", "baselines swapped in for the trained groups, comma-separated NAME or GROUP=NAME (\"\" for none)")
	f.StringVar(&opts.Out, "out", "", "output directory (default RUN_DIR/eval)")
	f.IntVar(&opts.Workers, "workers", 0, "goroutines stepping the environments (default: training.workers)")
	f.StringVar(&opts.Backend, "backend", "", "network backend: go or torch (default: the config's)")
	f.StringVar(&opts.Device, "device", "", "device: cpu or cuda (default: the config's)")
	f.BoolVar(&opts.JSON, "json", false, "print metrics.json on stdout")
	return cmd
}

func runEval(ctx context.Context, opts *evalOptions) error {
	if opts.Episodes < 2 || opts.Episodes > 100000 {
		return usagef("--episodes must be between 2 and 100000 (a confidence interval needs two), got %d", opts.Episodes)
	}
	var baselines []string
	if strings.TrimSpace(opts.Baselines) != "" {
		for _, b := range strings.Split(opts.Baselines, ",") {
			if b = strings.TrimSpace(b); b == "" {
				return usagef("--baselines %q has an empty name (use \"\" for no baselines)", opts.Baselines)
			}
			baselines = append(baselines, b)
		}
	}
	dir, ckpt := opts.Target, ""
	if strings.HasSuffix(opts.Target, ".safetensors") {
		ckpt = opts.Target
		dir = filepath.Dir(filepath.Dir(ckpt))
		if !fileExists(ckpt) {
			return &experiments.Error{File: ckpt, Msg: "no such checkpoint file"}
		}
	} else if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return &experiments.Error{File: dir, Msg: "not a run directory (train one with hivegym train --out DIR)"}
	}
	cfgPath := opts.Config
	if cfgPath == "" {
		cfgPath = filepath.Join(dir, "config.yaml")
		if ckpt != "" && !fileExists(cfgPath) {
			if abs, err := filepath.Abs(cfgPath); err == nil {
				cfgPath = abs
			}
			return &experiments.Error{File: ckpt, Msg: fmt.Sprintf("no run config found for this checkpoint (looked for %s, the config.yaml of the run directory above checkpoints/); give the config it was trained with: -c CONFIG", cfgPath)}
		}
	}
	load := experiments.LoadFile
	if opts.Config == "" {
		load = experiments.LoadRunConfig // the run's own config.yaml
	}
	cfg, err := load(cfgPath)
	if err != nil {
		return err
	}
	if opts.Workers > 0 {
		cfg.Training.Workers = opts.Workers
	}
	if err := applyBackend(&cfg, opts.Backend, opts.Device); err != nil {
		return err
	}
	// The policies are checked to fit cfg (spaces, network, the group's role), whether
	// cfg is the run's own config or another one given with -c (other opponents, another
	// market): the same policy can be scored anywhere it can act.
	var tr *experiments.Trained
	if ckpt != "" && !fileExists(filepath.Join(dir, "checkpoints", "")) {
		// A checkpoint on its own (with -c): it must be the config's only learning group.
		tr = &experiments.Trained{PPO: map[string]*ppo.Learner{}, DSR: map[string]*dsr.Learner{}}
		if err := bareGroup(tr, ckpt, cfg); err != nil {
			return err
		}
	} else if tr, err = experiments.LoadTrained(dir, cfg); err != nil {
		return err
	}
	if ckpt != "" {
		// The checkpoint's own iteration, not the run's latest.
		if tr.Iteration, err = loadOne(tr, ckpt, &cfg); err != nil {
			return err
		}
	}
	// The checkpoints were checked against the run's own config; the scenario is the
	// world they are scored in, not part of what they learned from.
	if err := applyRunFlags(&cfg, false, 0, opts.Scenario); err != nil {
		return err
	}
	if err := experiments.CheckBaselines(cfg.Population, baselines); err != nil {
		return err
	}
	if opts.Out == "" {
		opts.Out = filepath.Join(dir, "eval")
	}
	log := newLogger(opts.IO)
	log.Info("evaluating", "run", dir, "iteration", tr.Iteration, "episodes", opts.Episodes, "seed", opts.Seed,
		"baselines", strings.Join(baselines, ","), "out", opts.Out)
	var bar *progressbar.ProgressBar
	eo := experiments.EvalOptions{Episodes: opts.Episodes, Seed: opts.Seed, Baselines: baselines, Trained: tr,
		Out: opts.Out, Workers: cfg.Training.Workers}
	total := opts.Episodes * (1 + len(baselines))
	if opts.IO.ErrTTY && !opts.JSON {
		bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(opts.IO.ErrOut),
			progressbar.OptionSetDescription("evaluating"), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		eo.Progress = func(done, _ int) { _ = bar.Set(done) }
	} else {
		every := max(1, total/10)
		eo.Progress = func(done, total int) {
			if done%every == 0 || done == total {
				log.Info("evaluated", "episodes", done, "of", total)
			}
		}
	}
	res, evalErr := experiments.Eval(ctx, cfg, eo)
	if bar != nil {
		_ = bar.Finish()
	}
	if res == nil {
		return configError(cfgPath, evalErr)
	}
	evalCfg := cfg
	evalCfg.Seed = opts.Seed
	if err := experiments.WriteConfigYAML(opts.Out, cfg, fmt.Sprintf("The config of this `hivegym eval` run of %s (episodes from seed %d).", dir, opts.Seed)); err != nil {
		return err
	}
	if err := experiments.WriteEvalRun(opts.Out, &evalCfg, res, evalErr); err != nil {
		return err
	}
	var outErr error
	if opts.JSON {
		outErr = writeJSON(opts.IO.Out, res.Doc)
	} else {
		outErr = printEval(opts.IO, res, opts.Out)
	}
	if evalErr != nil {
		return evalErr
	}
	return outErr
}

// readMeta reads the checkpoint at path and its metadata; problems name the file.
func readMeta(path string) ([]byte, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &experiments.Error{File: path, Msg: err.Error()}
	}
	_, meta, err := checkpoint.Load(bytes.NewReader(b))
	if err != nil {
		return nil, nil, &experiments.Error{File: path, Msg: err.Error()}
	}
	return b, meta, nil
}

// loadOne replaces the learner of the checkpoint's group with the checkpoint's.
// bareGroup prepares tr for a checkpoint outside a run directory: the config given
// with -c must have exactly one learning group, the checkpoint's.
func bareGroup(tr *experiments.Trained, path string, cfg experiments.Config) error {
	_, meta, err := readMeta(path)
	if err != nil {
		return err
	}
	group := meta[checkpoint.MetaPolicy]
	for _, g := range cfg.Population {
		if g.Learning() && g.Name != group {
			return &experiments.Error{File: path, Msg: fmt.Sprintf("a checkpoint outside a run directory plays one group (%q), but the config also has learning group %q; evaluate the run directory instead", group, g.Name)}
		}
	}
	tr.PPO[group] = nil // filled by loadOne
	return nil
}

func loadOne(tr *experiments.Trained, path string, cfg *experiments.Config) (int, error) {
	_, meta, err := readMeta(path)
	if err != nil {
		return 0, err
	}
	group := meta[checkpoint.MetaPolicy]
	if _, ok := tr.PPO[group]; !ok {
		return 0, &experiments.Error{File: path, Msg: fmt.Sprintf("group %q is not a ppo group of the run's population", group)}
	}
	role := ""
	for _, g := range cfg.Population {
		if g.Name == group {
			role = g.Role
		}
	}
	// Checked to fit the config (spaces, role) as the run's latest checkpoints are.
	l, err := experiments.LoadPPOCheckpoint(path, group, role, *cfg)
	if err != nil {
		return 0, err
	}
	tr.PPO[group] = l
	n, _ := strconv.Atoi(meta[experiments.MetaIteration])
	return n, nil
}

// printEval prints the readable table: one row per policy group, "mean [lo, hi]" per
// metric.
func printEval(ios *IOStreams, res *experiments.EvalResult, out string) error {
	w := ios.Out
	fmt.Fprintf(w, "%d held-out episodes per policy; mean over episodes [95%% CI]\n\n", len(res.Seeds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "group\trole\tkind\tcum. return\tSharpe\tSortino\tmax drawdown\tdsr_final\t")
	for _, g := range res.Doc.Groups {
		fmt.Fprintf(tw, "%s\t%s\t%s", g.Name, g.Role, g.Kind)
		for _, m := range experiments.EvalMetrics {
			iv := g.Metrics[m]
			pctFmt := m == experiments.MetricCumulativeReturn || m == experiments.MetricMaxDrawdown
			fmt.Fprintf(tw, "\t%s [%s, %s]", evalNum(float64(iv.Mean), pctFmt), evalNum(float64(iv.CI95[0]), pctFmt), evalNum(float64(iv.CI95[1]), pctFmt))
		}
		fmt.Fprintln(tw, "\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, h := range res.Actions {
		fmt.Fprintf(w, "\nactions of %s (%d decisions):", h.Group, h.Total)
		top := slices.Clone(h.Actions)
		slices.SortStableFunc(top, func(a, b experiments.ActionCount) int { return cmp.Compare(b.Count, a.Count) })
		for _, a := range top[:min(6, len(top))] {
			if a.Count > 0 {
				fmt.Fprintf(w, " %s %.1f%%", a.Name, 100*a.Share)
			}
		}
		fmt.Fprintln(w)
	}
	for _, p := range res.Pricing {
		fmt.Fprintf(w, "\npricing of %s (%d decisions): reservation x %.3f mean, %.3f / %.3f / %.3f at 10%% / 50%% / 90%%\n",
			p.Group, p.Decisions, p.Mean, p.P10, p.P50, p.P90)
	}
	status := ""
	if res.Interrupted {
		status = " (interrupted: partial)"
	}
	_, err := fmt.Fprintf(w, "\nwrote %s%s\n", out, status)
	return err
}

func evalNum(x float64, pct bool) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 0):
		return fmt.Sprint(x)
	case pct:
		return fmt.Sprintf("%.3f%%", 100*x)
	}
	return fmt.Sprintf("%.3g", x)
}
