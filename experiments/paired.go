package experiments

// Paired comparisons: a trained group against each baseline swapped in for it, on the
// same held-out episodes (Eval runs every variant on the same episode seeds, so episode
// i of the trained population and of a baseline face the same world, the same market
// draws and the same other groups' policies). Differences are taken episode by episode,
// which removes the variance the episodes share (the world's series, the demand), and
// summarized with a Student-t interval (internal/confint). Across training seeds, the
// per-seed mean differences are pooled as a two-stage (hierarchical) mean: see PoolSeeds.
//
// This is the small API that the scoreboard (hivegym scoreboard) and tournaments build on:
//
//	res, _ := experiments.Eval(ctx, cfg, experiments.EvalOptions{Baselines: experiments.BaselinesFor("provider"), ...})
//	for _, c := range experiments.Compare(res) {
//		d := c.Metric(experiments.MetricCumulativeReturn).Diff // trained minus baseline
//		fmt.Println(c.Group, c.Baseline, d.Mean, d.Lo, d.Hi, d.Wins, d.N)
//	}

import (
	"math"

	"github.com/hivegym/hivegym/internal/confint"
)

// PairedDiff summarizes the paired differences x[i] - y[i] of two policies' values on
// the same episodes.
type PairedDiff struct {
	// Interval is the mean difference with its Student-t 95% interval over the pairs
	// whose two values are both finite (N); pairs with a non-finite side are counted in
	// Dropped.
	confint.Interval
	// Wins, Losses and Ties count the finite pairs with x > y, x < y and x == y.
	Wins, Losses, Ties int
}

// Paired returns the paired differences of x and y, pair i being (x[i], y[i]); the
// longer slice's extra values are left out.
func Paired(x, y []float64) PairedDiff {
	n := min(len(x), len(y))
	d := make([]float64, 0, n)
	var p PairedDiff
	dropped := 0
	for i := range n {
		if !finite(x[i]) || !finite(y[i]) {
			dropped++
			continue
		}
		switch {
		case x[i] > y[i]:
			p.Wins++
		case x[i] < y[i]:
			p.Losses++
		default:
			p.Ties++
		}
		d = append(d, x[i]-y[i])
	}
	p.Interval = confint.Mean95(d)
	p.Dropped = dropped
	return p
}

// Above reports whether the whole interval lies above zero (false when it is NaN).
func (p PairedDiff) Above() bool { return p.Lo > 0 }

// MetricComparison is one metric of a Comparison.
type MetricComparison struct {
	Metric string
	// Trained and Baseline are each side's mean over episodes with its 95% interval.
	Trained, Baseline confint.Interval
	// Diff is trained minus baseline, episode by episode.
	Diff PairedDiff
}

// Comparison is a trained group against one baseline swapped in for it.
type Comparison struct {
	Group    string // the learning group, e.g. providers
	Role     string // provider or client
	Baseline string // the baseline, e.g. boulware or random
	// Name is the baseline's group name in the results (providers/boulware).
	Name string
	// Metrics follow EvalMetrics.
	Metrics []MetricComparison
}

// Metric returns the comparison of metric name (the zero MetricComparison when absent).
func (c *Comparison) Metric(name string) MetricComparison {
	for _, m := range c.Metrics {
		if m.Metric == name {
			return m
		}
	}
	return MetricComparison{}
}

// Compare pairs every baseline group of res with the trained group it stood in for, in
// res.Samples order (baselines in --baselines order; within one, groups in population
// order), and computes each metric's paired difference trained minus baseline. Groups
// that are not learning groups, and learning groups no baseline stood in for, give no
// comparison.
func Compare(res *EvalResult) []Comparison {
	trained := map[string]*GroupSamples{}
	for i := range res.Samples {
		s := &res.Samples[i]
		if s.Baseline == "" && s.Learning {
			trained[s.Group] = s
		}
	}
	var out []Comparison
	for i := range res.Samples {
		b := &res.Samples[i]
		t := trained[b.Group]
		if b.Baseline == "" || t == nil {
			continue
		}
		c := Comparison{Group: b.Group, Role: b.Role, Baseline: b.Baseline, Name: b.Name}
		for mi, m := range EvalMetrics {
			var x, y []float64
			if mi < len(t.Values) {
				x = t.Values[mi]
			}
			if mi < len(b.Values) {
				y = b.Values[mi]
			}
			c.Metrics = append(c.Metrics, MetricComparison{Metric: m, Trained: confint.Mean95(x),
				Baseline: confint.Mean95(y), Diff: Paired(x, y)})
		}
		out = append(out, c)
	}
	return out
}

// Strongest returns the index in cs of the comparison whose baseline has the highest
// mean of metric (ties: the first), among those of group; -1 when there is none with a
// finite mean.
func Strongest(cs []Comparison, group, metric string) int {
	best, bestMean := -1, math.Inf(-1)
	for i := range cs {
		if cs[i].Group != group {
			continue
		}
		if m := cs[i].Metric(metric).Baseline.Mean; finite(m) && m > bestMean {
			best, bestMean = i, m
		}
	}
	return best
}

// PooledDiff is a paired difference pooled over training seeds.
type PooledDiff struct {
	// Interval is the mean over seeds of each seed's mean paired difference, with the
	// Student-t 95% interval over those seed means (N seeds, N-1 degrees of freedom).
	confint.Interval
	// Wins, Losses, Ties and Episodes are summed over the seeds.
	Wins, Losses, Ties, Episodes int
	// SeedsAbove counts the seeds whose own interval lies above zero.
	SeedsAbove int
}

// PoolSeeds pools per-seed paired differences (one PairedDiff per training seed, each
// over the same held-out episodes) as a two-stage mean: the seed is the unit, because
// a claim about a learner is a claim about what training from a fresh seed gives, and
// episodes of one trained policy are not independent draws of that (Henderson et al.,
// "Deep Reinforcement Learning that Matters", AAAI 2018; Agarwal et al., "Deep RL at the
// Edge of the Statistical Precipice", NeurIPS 2021). Pooling every episode difference
// of every seed into one t-interval would count E x K samples and ignore the seed-to-
// seed variance, giving intervals that are too narrow. With few seeds (3), the
// interval is wide: t(0.975, 2) = 4.30.
func PoolSeeds(seeds []PairedDiff) PooledDiff {
	means := make([]float64, len(seeds))
	var p PooledDiff
	for i, s := range seeds {
		means[i] = s.Mean
		p.Wins += s.Wins
		p.Losses += s.Losses
		p.Ties += s.Ties
		p.Episodes += s.N
		if s.Above() {
			p.SeedsAbove++
		}
	}
	p.Interval = confint.Mean95(means)
	return p
}
