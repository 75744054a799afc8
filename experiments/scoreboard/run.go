package scoreboard

import (
	"context"
	"fmt"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/sweep"
)

// ScoreMetrics are the metrics the scoreboard compares on, in order.
var ScoreMetrics = []string{experiments.MetricCumulativeReturn, experiments.MetricSharpe}

// Metric names a run records (sweep.Recorder.Group), per learning group G (key G) and
// per baseline B aimed at it (key G/B): every eval metric's mean over episodes under
// its own name, and for B, per score metric M, the paired difference trained minus
// baseline as diff.M.mean, .lo, .hi, .sd, .n, .wins, .losses and .ties.
const diffPrefix = "diff."

var diffFields = []string{"mean", "lo", "hi", "sd", "n", "wins", "losses", "ties"}

// Baselines returns the --baselines entries a run of cfg is evaluated with: every
// baseline of the board (all that fit, when the board names none) aimed at each
// learning group it fits (group=baseline), groups in population order.
func (b *Board) baselinesFor(cfg *experiments.Config) []string {
	var out []string
	for _, g := range cfg.Population {
		if !g.Learning() {
			continue
		}
		names := b.Baselines
		if names == nil {
			names = experiments.BaselinesFor(g.Role)
		}
		for _, bl := range names {
			if experiments.BaselineFits(bl, g.Role) {
				out = append(out, g.Name+"="+bl)
			}
		}
	}
	return out
}

// EvalOptions returns the evaluation a run of cfg gets (Trained unset).
func (b *Board) EvalOptions(cfg *experiments.Config) experiments.EvalOptions {
	return experiments.EvalOptions{Episodes: b.Episodes, Seed: b.EvalSeed, Baselines: b.baselinesFor(cfg),
		Workers: cfg.Training.Workers}
}

// RunFunc returns the sweep.RunFunc of the board: train run.Config in memory (its
// curves recorded), evaluate every learning group against every baseline aimed at it,
// and record the means and the paired differences. An interrupted run returns ctx's
// error and stays pending.
func (b *Board) RunFunc() sweep.RunFunc {
	return func(ctx context.Context, run sweep.Run, rec sweep.Recorder) error {
		res, err := experiments.Train(ctx, run.Config, experiments.TrainOptions{
			Curve: func(p experiments.CurvePoint) error { return rec.Curve(p.Iteration, p.Group, p.Metric, p.Value) },
		})
		if err != nil {
			return err
		}
		if res.Interrupted {
			return ctx.Err()
		}
		eo := b.EvalOptions(&run.Config)
		eo.Trained = res.Trained
		ev, err := experiments.Eval(ctx, run.Config, eo)
		if err != nil {
			return err
		}
		return Record(ev, rec)
	}
}

// Record records an evaluation's learning groups and comparisons (see the metric names
// above).
func Record(ev *experiments.EvalResult, rec sweep.Recorder) error {
	for i, s := range ev.Samples {
		if !s.Learning {
			continue
		}
		g := ev.Doc.Groups[i]
		for _, m := range experiments.EvalMetrics {
			if err := rec.Group(s.Name, s.Role, m, float64(g.Metrics[m].Mean)); err != nil {
				return err
			}
		}
	}
	for _, c := range experiments.Compare(ev) {
		for _, mc := range c.Metrics {
			if err := rec.Group(c.Name, c.Role, mc.Metric, mc.Baseline.Mean); err != nil {
				return err
			}
		}
		for _, m := range ScoreMetrics {
			d := c.Metric(m).Diff
			vals := []float64{d.Mean, d.Lo, d.Hi, d.SD, float64(d.N), float64(d.Wins), float64(d.Losses), float64(d.Ties)}
			for i, f := range diffFields {
				if err := rec.Group(c.Name, c.Role, diffPrefix+m+"."+f, vals[i]); err != nil {
					return fmt.Errorf("recording %s: %w", c.Name, err)
				}
			}
		}
	}
	return nil
}
