package report

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/experiments/plots"
	"github.com/hivegym/hivegym/experiments/scoreboard"
	"github.com/hivegym/hivegym/experiments/tournament"
	"github.com/hivegym/hivegym/internal/confint"
	"github.com/hivegym/hivegym/internal/jsonfloat"
	"gonum.org/v1/plot"
)

// builder draws the figures of a report and assembles its page.
type builder struct {
	ctx    context.Context
	out    string
	opts   Options
	runs   []*runDir
	groups order             // policy groups, config order first
	role   map[string]string // group -> role
	kind   map[string]string // group -> policy kind
	axis   timeAxis
	figs   []string // img/... in the order drawn
	used   map[string]bool
	boards []*scoreboard.Doc
	tours  []*tournament.Results
}

func newBuilder(ctx context.Context, out string, opts Options, runs []*runDir) *builder {
	b := &builder{ctx: ctx, out: out, opts: opts, runs: runs, role: map[string]string{}, kind: map[string]string{},
		used: map[string]bool{}, axis: axisFor(runs)}
	for _, r := range runs {
		if r.Info != nil {
			for _, g := range r.Info.Groups {
				b.groups.add(g.Name)
				setIfEmpty(b.role, g.Name, g.Role)
				setIfEmpty(b.kind, g.Name, g.Kind)
			}
		}
		if r.Metrics != nil {
			for _, g := range r.Metrics.Groups {
				b.groups.add(g.Name)
				setIfEmpty(b.role, g.Name, g.Role)
				setIfEmpty(b.kind, g.Name, g.Kind)
			}
		}
	}
	for _, r := range runs {
		for _, s := range r.Curves {
			b.groups.add(s.Group)
		}
		for _, s := range r.Episodes {
			b.groups.add(s.Group)
		}
		for _, e := range r.Equity {
			b.groups.add(e.Group)
		}
	}
	return b
}

func setIfEmpty(m map[string]string, k, v string) {
	if m[k] == "" && v != "" {
		m[k] = v
	}
}

func (b *builder) build(sweeps []SweepResults) (*page, error) {
	pg := &page{Title: b.opts.Title}
	if pg.Title == "" {
		var names []string
		for _, r := range b.runs {
			names = append(names, r.Label)
		}
		pg.Title = "hivegym report"
		if len(names) > 0 && len(names) <= 4 {
			pg.Title += ": " + strings.Join(names, ", ")
		} else if len(names) > 4 {
			pg.Title += fmt.Sprintf(": %d runs", len(names))
		}
	}
	steps := []func() (*section, error){
		b.overview, b.scoreboards, b.tournaments, b.metrics, b.learning, b.equity, b.distributions, b.market, b.actions, b.series, b.threads,
		func() (*section, error) { return b.sweep(sweeps) },
	}
	for _, step := range steps {
		if err := b.ctx.Err(); err != nil {
			return nil, err
		}
		s, err := step()
		if err != nil {
			return nil, err
		}
		if s != nil {
			pg.Sections = append(pg.Sections, *s)
		}
	}
	return pg, nil
}

// figure draws one image to img/<name>.png with draw and returns its block.
func (b *builder) figure(name, alt, caption string, draw func(path string) error) (block, error) {
	if err := b.ctx.Err(); err != nil {
		return block{}, err
	}
	base := slug(name)
	for i := 2; b.used[base]; i++ {
		base = fmt.Sprintf("%s-%d", slug(name), i)
	}
	b.used[base] = true
	rel := "img/" + base + ".png"
	if err := draw(filepath.Join(b.out, filepath.FromSlash(rel))); err != nil {
		return block{}, fmt.Errorf("report: figure %s: %w", rel, err)
	}
	b.figs = append(b.figs, rel)
	return block{Figure: &figure{Src: rel, Alt: alt, Caption: caption}}, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	s = strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		s = "figure"
	}
	return s
}

// groupColor gives each policy group the same colour in every figure.
func (b *builder) groupColorIndex(g string) int {
	return b.groups.add(g) % len(plots.Palette)
}

// ---- 1. overview -------------------------------------------------------------------

func (b *builder) overview() (*section, error) {
	s := &section{ID: "overview", Title: "Runs"}
	if len(b.runs) == 0 {
		s.Intro = append(s.Intro, "No run directories: this report shows the sweeps of the run store only.")
	}
	t := &table{Caption: "The run directories of this report (run.json and config.yaml).",
		Head: []string{"run", "directory", "kind", "seed", "status", "scenario", "scheme", "ticks", "episodes", "agents"}}
	for _, r := range b.runs {
		row := []cell{{Text: r.Label}, {Text: r.Dir, Class: "path"}}
		kind, seed, status, ticks, eps := "—", "—", "—", "—", "—"
		statusClass := ""
		if r.Info != nil {
			kind = orDash(r.Info.Kind)
			seed = strconv.FormatUint(r.Info.Seed, 10)
			status = orDash(r.Info.Status)
			if r.Info.Status == "failed" || r.Info.Status == "interrupted" {
				statusClass = "bad"
			}
			if r.Info.Ticks > 0 {
				ticks = strconv.Itoa(r.Info.Ticks)
			}
			if r.Info.Episodes > 0 {
				eps = strconv.Itoa(r.Info.Episodes)
			}
		} else if r.Config != nil && r.Config.Seed != "" {
			seed = r.Config.Seed
		}
		if es := episodeSeeds(r); es != "" {
			seed += " (episodes " + es + ")"
		}
		scen, scheme := "—", "—"
		if r.Config != nil {
			scen, scheme = orDash(r.Config.Scenario), orDash(r.Config.Scheme)
		}
		row = append(row, cell{Text: kind}, cell{Text: seed}, cell{Text: status, Class: statusClass},
			cell{Text: scen}, cell{Text: scheme}, cell{Text: ticks, Num: true}, cell{Text: eps, Num: true}, cell{Text: agentCounts(r)})
		t.Rows = append(t.Rows, row)
	}
	if len(b.runs) > 0 {
		s.Blocks = append(s.Blocks, block{Table: t})
	}
	// Groups.
	gt := &table{Caption: "Policy groups (run.json): agents that share a policy.", Head: []string{"run", "group", "role", "policy", "agents"}}
	for _, r := range b.runs {
		if r.Info == nil {
			continue
		}
		for _, g := range r.Info.Groups {
			gt.Rows = append(gt.Rows, []cell{{Text: r.Label}, {Text: g.Name}, {Text: orDash(g.Role)}, {Text: orDash(g.Kind)}, {Text: strconv.Itoa(g.Agents), Num: true}})
		}
	}
	if len(gt.Rows) > 0 {
		s.Blocks = append(s.Blocks, block{Table: gt})
	}
	for _, r := range b.runs {
		if r.Info != nil && r.Info.Error != "" {
			s.Blocks = append(s.Blocks, block{Note: fmt.Sprintf("%s %s: %s", r.Label, r.Info.Status, r.Info.Error), Warn: true})
		}
		if r.Info != nil && len(r.Info.Params) > 0 {
			var ps []string
			for _, k := range sortedKeys(r.Info.Params) {
				ps = append(ps, k+"="+paramText(r.Info.Params[k]))
			}
			sw := ""
			if r.Info.Sweep != "" {
				sw = " of sweep " + r.Info.Sweep
			}
			s.Blocks = append(s.Blocks, block{Note: fmt.Sprintf("%s%s: %s", r.Label, sw, strings.Join(ps, ", "))})
		}
	}
	for _, r := range b.runs {
		if r.Config != nil {
			s.Blocks = append(s.Blocks, block{Details: &details{Summary: "config.yaml of " + r.Label, Text: r.Config.Text}})
		}
	}
	if b.opts.Store != "" {
		s.Blocks = append(s.Blocks, block{Note: "Sweep results read from the run store " + b.opts.Store + "."})
	}
	return s, nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// episodeSeeds lists the episode seeds of a run (episodes.csv, or equity.csv).
func episodeSeeds(r *runDir) string {
	seen := map[uint64]bool{}
	var seeds []uint64
	for _, e := range r.Episodes {
		if s := uint64(e.Key); !seen[s] {
			seen[s] = true
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		for _, e := range r.Equity {
			if !seen[e.Seed] {
				seen[e.Seed] = true
				seeds = append(seeds, e.Seed)
			}
		}
	}
	sort.Slice(seeds, func(i, j int) bool { return seeds[i] < seeds[j] })
	var parts []string
	for _, s := range seeds {
		parts = append(parts, strconv.FormatUint(s, 10))
	}
	if len(parts) > 8 {
		return fmt.Sprintf("%s … %s, %d seeds", parts[0], parts[len(parts)-1], len(parts))
	}
	return strings.Join(parts, ", ")
}

// agentCounts sums the agents of each role (run.json groups), or the counts found in
// config.yaml.
func agentCounts(r *runDir) string {
	if r.Info != nil && len(r.Info.Groups) > 0 {
		var roles order
		n := map[string]int{}
		for _, g := range r.Info.Groups {
			role := orDash(g.Role)
			roles.add(role)
			n[role] += g.Agents
		}
		var parts []string
		for _, role := range roles.keys {
			parts = append(parts, fmt.Sprintf("%d %s", n[role], plural(role, n[role])))
		}
		return strings.Join(parts, ", ")
	}
	if r.Config != nil && len(r.Config.Counts) > 0 {
		var parts []string
		for _, c := range r.Config.Counts {
			parts = append(parts, c.K+"="+c.V)
		}
		return strings.Join(parts, ", ")
	}
	return "—"
}

func plural(role string, n int) string {
	if n == 1 || role == "—" {
		return role
	}
	return role + "s"
}

// ---- 2. metrics --------------------------------------------------------------------

func (b *builder) metrics() (*section, error) {
	s := &section{ID: "metrics", Title: "Metrics per policy group",
		Intro: []string{"Final risk metrics of each group's agents (docs/metrics.md): the mean over evaluation episodes (seeds) " +
			"and its two-sided 95% confidence interval from Student's t distribution, mean ± t(0.975, n−1)·s/√n. " +
			"n is the number of episodes; with n = 1 there is no interval."}}
	for _, r := range b.runs {
		t := b.runMetricsTable(r)
		if t != nil {
			s.Blocks = append(s.Blocks, block{Table: t})
		}
	}
	if len(s.Blocks) == 0 {
		return nil, nil
	}
	withData := 0
	for _, r := range b.runs {
		if r.Metrics != nil || len(r.Episodes) > 0 {
			withData++
		}
	}
	if withData > 1 {
		if t := b.pooledMetricsTable(); t != nil {
			s.Blocks = append(s.Blocks, block{Table: t})
		}
	}
	return s, nil
}

func (b *builder) runMetricsTable(r *runDir) *table {
	counts := map[string]int{} // group/metric -> n episodes
	for _, e := range r.Episodes {
		counts[e.Group+"\x00"+e.Metric]++
	}
	if r.Metrics != nil && len(r.Metrics.Groups) > 0 {
		var all []string
		seen := map[string]bool{}
		for _, g := range r.Metrics.Groups {
			for _, m := range sortedKeys(g.Metrics) {
				if !seen[m] {
					seen[m] = true
					all = append(all, m)
				}
			}
		}
		ms := orderMetrics(all)
		t := &table{Caption: r.Label + ": metrics.json (mean [95% CI]); n from episodes.csv.",
			Head: append([]string{"group", "role", "n"}, titles(ms)...)}
		for _, g := range r.Metrics.Groups {
			n := 0
			for _, m := range ms {
				n = max(n, counts[g.Name+"\x00"+m])
			}
			row := []cell{{Text: g.Name}, {Text: orDash(g.Role)}, {Text: countText(n), Num: true}}
			for _, m := range ms {
				v, ok := g.Metrics[m]
				if !ok {
					row = append(row, cell{Text: "—", Num: true})
					continue
				}
				lo, hi := math.NaN(), math.NaN()
				if len(v.CI95) == 2 {
					lo, hi = float64(v.CI95[0]), float64(v.CI95[1])
				}
				row = append(row, cell{Text: meanCI(float64(v.Mean), lo, hi), Num: true})
			}
			t.Rows = append(t.Rows, row)
		}
		return t
	}
	if len(r.Episodes) == 0 {
		return nil
	}
	t := b.samplesTable(r.Label+": computed from episodes.csv (this run has no metrics.json) — mean [95% CI].", [][]sample{r.Episodes})
	return t
}

// pooledMetricsTable: the groups' metrics over the episodes of every run directory
// (episodes.csv); runs without episodes.csv count their metrics.json mean as one
// sample.
func (b *builder) pooledMetricsTable() *table {
	var sets [][]sample
	fromMeans := 0
	for _, r := range b.runs {
		if len(r.Episodes) > 0 {
			sets = append(sets, r.Episodes)
			continue
		}
		if r.Metrics == nil {
			continue
		}
		var ss []sample
		for _, g := range r.Metrics.Groups {
			for _, m := range sortedKeys(g.Metrics) {
				ss = append(ss, sample{Group: g.Name, Metric: m, Value: float64(g.Metrics[m].Mean)})
			}
		}
		sets = append(sets, ss)
		fromMeans++
	}
	caption := fmt.Sprintf("All %d runs pooled: every episode of every run (episodes.csv) as one sample — mean [95%% CI].", len(sets))
	if fromMeans > 0 {
		caption = fmt.Sprintf("All %d runs pooled: episodes.csv samples, and for %d runs without episodes.csv their metrics.json mean as one sample — mean [95%% CI].", len(sets), fromMeans)
	}
	return b.samplesTable(caption, sets)
}

// samplesTable is a metrics table computed from samples with confint.Mean95.
func (b *builder) samplesTable(caption string, sets [][]sample) *table {
	vals := map[string][]float64{}
	var ms []string
	seenM := map[string]bool{}
	var groups order
	for _, g := range b.groups.keys {
		for _, set := range sets {
			for _, e := range set {
				if e.Group == g {
					groups.add(g)
				}
			}
		}
	}
	for _, set := range sets {
		for _, e := range set {
			groups.add(e.Group)
			vals[e.Group+"\x00"+e.Metric] = append(vals[e.Group+"\x00"+e.Metric], e.Value)
			if !seenM[e.Metric] {
				seenM[e.Metric] = true
				ms = append(ms, e.Metric)
			}
		}
	}
	sort.Strings(ms)
	ms = orderMetrics(ms)
	if len(ms) == 0 {
		return nil
	}
	t := &table{Caption: caption, Head: append([]string{"group", "role", "n"}, titles(ms)...)}
	for _, g := range groups.keys {
		n := 0
		var cells []cell
		for _, m := range ms {
			xs := vals[g+"\x00"+m]
			if len(xs) == 0 {
				cells = append(cells, cell{Text: "—", Num: true})
				continue
			}
			iv := confint.Mean95(xs)
			n = max(n, iv.N)
			cells = append(cells, cell{Text: meanCI(iv.Mean, iv.Lo, iv.Hi), Num: true})
		}
		row := append([]cell{{Text: g}, {Text: orDash(b.role[g])}, {Text: countText(n), Num: true}}, cells...)
		t.Rows = append(t.Rows, row)
	}
	return t
}

func titles(ms []string) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = metricTitle(m)
	}
	return out
}

func countText(n int) string {
	if n == 0 {
		return "—"
	}
	return strconv.Itoa(n)
}

// ---- 3. learning curves --------------------------------------------------------------

func (b *builder) learning() (*section, error) {
	type key struct{ metric, group string }
	vals := map[key]map[int64][]float64{}
	var metrics []string
	seenM := map[string]bool{}
	nRuns := 0
	for _, r := range b.runs {
		if len(r.Curves) == 0 {
			continue
		}
		nRuns++
		for _, c := range r.Curves {
			k := key{c.Metric, c.Group}
			if vals[k] == nil {
				vals[k] = map[int64][]float64{}
			}
			vals[k][c.Key] = append(vals[k][c.Key], c.Value)
			if !seenM[c.Metric] {
				seenM[c.Metric] = true
				metrics = append(metrics, c.Metric)
			}
		}
	}
	if nRuns == 0 {
		return nil, nil
	}
	metrics = orderCurveMetrics(metrics)
	s := &section{ID: "learning", Title: "Learning curves"}
	smooth := b.opts.Smooth
	curveFor := func(m string) (*plots.Curves, int) {
		c := &plots.Curves{Title: curveTitle(m), YLabel: curveUnit(m)}
		maxIters := 0
		for _, g := range b.groups.keys {
			per := vals[key{m, g}]
			if len(per) == 0 {
				continue
			}
			its := make([]int64, 0, len(per))
			for it := range per {
				its = append(its, it)
			}
			sort.Slice(its, func(i, j int) bool { return its[i] < its[j] })
			maxIters = max(maxIters, len(its))
			ln := plots.Line{Name: g, Color: plots.Palette[b.groupColorIndex(g)]}
			band := false
			for _, it := range its {
				iv := confint.Mean95(per[it])
				ln.X = append(ln.X, float64(it))
				ln.Y = append(ln.Y, iv.Mean)
				ln.Lo = append(ln.Lo, iv.Lo)
				ln.Hi = append(ln.Hi, iv.Hi)
				band = band || iv.N > 1
			}
			if !band {
				ln.Lo, ln.Hi = nil, nil
			}
			c.Groups = append(c.Groups, ln)
		}
		w := smooth
		if w == 0 {
			w = 1
			if maxIters >= 30 {
				w = (maxIters + 5) / 10
			}
		}
		c.Smooth = w
		return c, w
	}
	runsText := "one run"
	if nRuns > 1 {
		runsText = fmt.Sprintf("the mean over %d runs (seeds), with its 95%% confidence interval shaded", nRuns)
	}
	var rest []plots.Figure
	var restNames []string
	for _, m := range metrics {
		c, w := curveFor(m)
		if len(c.Groups) == 0 {
			continue
		}
		if m == "charts/episodic_return" {
			caption := fmt.Sprintf("Episodic return per policy group against the training iteration (curves.csv, charts/episodic_return): %s.", runsText)
			if w > 1 {
				caption += fmt.Sprintf(" Bold: centred moving average over %d iterations (the band is smoothed alike); faint: the raw curve.", w)
			}
			blk, err := b.figure("learning-episodic-return", "episodic return per group against iteration", caption, c.Save)
			if err != nil {
				return nil, err
			}
			s.Blocks = append(s.Blocks, blk)
			continue
		}
		rest = append(rest, c)
		restNames = append(restNames, m)
	}
	if len(rest) > 0 {
		caption := fmt.Sprintf("Training diagnostics per group against the training iteration (curves.csv: %s): %s", strings.Join(restNames, ", "), runsText)
		if w := rest[0].(*plots.Curves).Smooth; w > 1 {
			caption += fmt.Sprintf(". Bold: centred moving average over %d iterations; faint: the raw curve", w)
		}
		blk, err := b.figure("learning-diagnostics", "training losses and diagnostics per group", caption+".", func(p string) error {
			return plots.SaveGrid(p, 2, rest...)
		})
		if err != nil {
			return nil, err
		}
		s.Blocks = append(s.Blocks, blk)
	}
	return s, nil
}

func curveTitle(m string) string {
	switch m {
	case "charts/episodic_return":
		return "Episodic return"
	}
	return m
}

func curveUnit(m string) string {
	i := strings.LastIndex(m, "/")
	return strings.ReplaceAll(m[i+1:], "_", " ")
}

// ---- 4. equity ----------------------------------------------------------------------

// seedSeries is one (run, seed) series of values by tick.
type seedSeries struct {
	name string
	vals map[int64]float64
}

// aligned puts several series on the union of their ticks: the sorted ticks, and per
// series its values (NaN where it has none).
func aligned(ss []seedSeries) ([]int64, [][]float64) {
	seen := map[int64]bool{}
	var ticks []int64
	for _, s := range ss {
		for t := range s.vals {
			if !seen[t] {
				seen[t] = true
				ticks = append(ticks, t)
			}
		}
	}
	sort.Slice(ticks, func(i, j int) bool { return ticks[i] < ticks[j] })
	out := make([][]float64, len(ss))
	for i, s := range ss {
		out[i] = make([]float64, len(ticks))
		for k, t := range ticks {
			v, ok := s.vals[t]
			if !ok {
				v = math.NaN()
			}
			out[i][k] = v
		}
	}
	return ticks, out
}

// meanAcross returns the per-point mean and 95% interval across the series.
func meanAcross(per [][]float64, n int) (mean, lo, hi []float64) {
	mean, lo, hi = make([]float64, n), make([]float64, n), make([]float64, n)
	xs := make([]float64, 0, len(per))
	for k := 0; k < n; k++ {
		xs = xs[:0]
		for _, s := range per {
			xs = append(xs, s[k])
		}
		iv := confint.Mean95(xs)
		mean[k], lo[k], hi[k] = iv.Mean, iv.Lo, iv.Hi
	}
	return
}

// maxFaint is the number of per-seed lines drawn before a figure switches to a band.
const maxFaint = 12

func (b *builder) equity() (*section, error) {
	byGroup := map[string][]seedSeries{}
	idx := map[string]int{}
	for _, r := range b.runs {
		for _, e := range r.Equity {
			name := fmt.Sprintf("%s/seed %d", r.Label, e.Seed)
			k := e.Group + "\x00" + name
			i, ok := idx[k]
			if !ok {
				i = len(byGroup[e.Group])
				idx[k] = i
				byGroup[e.Group] = append(byGroup[e.Group], seedSeries{name: name, vals: map[int64]float64{}})
			}
			byGroup[e.Group][i].vals[e.Tick] = e.Wealth
		}
	}
	if len(byGroup) == 0 {
		return nil, nil
	}
	s := &section{ID: "equity", Title: "Equity curves"}
	t := &table{Caption: "Final wealth relative to the start over the episodes (mean [95% CI]), and the drawdowns of the mean curve drawn above (depth below its running peak).",
		Head: []string{"group", "role", "episodes", "final W/W₀", "max drawdown of the mean", "drawdown periods shaded"}}
	var panels []plots.Figure
	for _, g := range b.groups.keys {
		ss := byGroup[g]
		if len(ss) == 0 {
			continue
		}
		ticks, per := aligned(ss)
		if len(ticks) < 2 {
			continue
		}
		x := make([]float64, len(ticks))
		for i, tk := range ticks {
			x[i] = b.axis.x(tk)
		}
		mean, _, _ := meanAcross(per, len(ticks))
		worst := 0.0
		for _, d := range plots.Drawdowns(x, mean) {
			worst = math.Max(worst, d.Depth)
		}
		// Shade the five deepest periods (pyfolio's convention) of at least 0.01%.
		const minDepth, top = 1e-4, 5
		shaded := len(plots.DeepestDrawdowns(x, mean, minDepth, top))
		fig := &plots.Equity{Title: fmt.Sprintf("%s: wealth relative to start", g), X: x, Wealth: mean,
			Name: fmt.Sprintf("mean of %d episodes", len(ss)), Color: plots.Palette[b.groupColorIndex(g)],
			Time: b.axis.ok, XLabel: b.axis.label(), MinDepth: minDepth, Top: top}
		if len(ss) == 1 {
			fig.Name = ss[0].name
		}
		if len(ss) > 1 && len(ss) <= maxFaint {
			for i, p := range per {
				fig.Seeds = append(fig.Seeds, plots.Series{Name: ss[i].name, Y: p})
			}
		}
		panels = append(panels, fig)
		var finals []float64
		for _, p := range per {
			for k := len(p) - 1; k >= 0; k-- {
				if !math.IsNaN(p[k]) {
					finals = append(finals, p[k])
					break
				}
			}
		}
		iv := confint.Mean95(finals)
		t.Rows = append(t.Rows, []cell{{Text: g}, {Text: orDash(b.role[g])}, {Text: strconv.Itoa(len(ss)), Num: true},
			{Text: meanCI(iv.Mean, iv.Lo, iv.Hi), Num: true}, {Text: pct(-worst), Num: true}, {Text: strconv.Itoa(shaded), Num: true}})
	}
	if len(panels) == 0 {
		return nil, nil
	}
	caption := "Mean normalized wealth W_t/W₀ of each group's agents (equity.csv), one panel per group. " +
		"Bold: the mean over the episodes (seeds); faint: each episode (up to 12). " +
		"Red: the five deepest drawdown periods of the mean curve, each from a peak until the curve is back at it (or the end). " +
		"Dashed: W/W₀ = 1 (break-even). " + b.axis.describe() + "."
	blk, err := b.figure("equity", "equity curves per group with drawdowns shaded", caption, func(p string) error {
		return plots.SaveStack(p, panels...)
	})
	if err != nil {
		return nil, err
	}
	s.Blocks = append(s.Blocks, blk, block{Table: t})
	return s, nil
}

// ---- 5. distributions -----------------------------------------------------------------

func (b *builder) distributions() (*section, error) {
	vals := map[string]map[string][]float64{} // metric -> group -> samples
	var ms []string
	runs := 0
	for _, r := range b.runs {
		if len(r.Episodes) > 0 {
			runs++
		}
		for _, e := range r.Episodes {
			if vals[e.Metric] == nil {
				vals[e.Metric] = map[string][]float64{}
				ms = append(ms, e.Metric)
			}
			vals[e.Metric][e.Group] = append(vals[e.Metric][e.Group], e.Value)
		}
	}
	if len(ms) == 0 {
		return nil, nil
	}
	sort.Strings(ms)
	ms = orderMetrics(ms)
	var panels []plots.Figure
	var shown []string
	for _, m := range ms {
		f := &plots.Boxes{Title: metricTitle(m), YLabel: metricUnit(m), ZeroLine: true}
		for _, g := range b.groups.keys {
			if xs, ok := vals[m][g]; ok {
				f.Boxes = append(f.Boxes, plots.Box{Name: g, Values: xs})
			}
		}
		finite := false
		for _, bx := range f.Boxes {
			for _, v := range bx.Values {
				finite = finite || !math.IsNaN(v) && !math.IsInf(v, 0)
			}
		}
		if !finite {
			continue
		}
		panels = append(panels, f)
		shown = append(shown, m)
	}
	if len(panels) == 0 {
		return nil, nil
	}
	s := &section{ID: "distributions", Title: "Metric distributions across seeds"}
	from := "episodes.csv"
	if runs > 1 {
		from = fmt.Sprintf("episodes.csv of %d runs", runs)
	}
	caption := fmt.Sprintf("Distribution over evaluation episodes (seeds) of each group's %s (%s). "+
		"Box: quartiles with the median bold; whiskers: the furthest samples within 1.5 IQR; dots beside each box: every sample. "+
		"Non-finite samples (e.g. a Sharpe ratio of a flat wealth) are left out.", strings.Join(shown, ", "), from)
	blk, err := b.figure("distributions", "box plots of metrics across seeds per group", caption, func(p string) error {
		return plots.SaveGrid(p, 2, panels...)
	})
	if err != nil {
		return nil, err
	}
	s.Blocks = append(s.Blocks, blk)
	return s, nil
}

// ---- 6. market ----------------------------------------------------------------------

func (b *builder) market() (*section, error) {
	// One series per (run, seed) and column.
	type src struct {
		name string
		rows []marketRow
	}
	var srcs []src
	idx := map[string]int{}
	for _, r := range b.runs {
		for _, m := range r.Market {
			name := fmt.Sprintf("%s/seed %d", r.Label, m.Seed)
			i, ok := idx[name]
			if !ok {
				i = len(srcs)
				idx[name] = i
				srcs = append(srcs, src{name: name})
			}
			srcs[i].rows = append(srcs[i].rows, m)
		}
	}
	if len(srcs) == 0 {
		return nil, nil
	}
	col := func(name string) int {
		for i, c := range marketColumns {
			if c == name {
				return i
			}
		}
		panic("report: unknown market column " + name)
	}
	// The distinct ticks, and a bucket width that leaves at most about 60 points per
	// line: per-tick market statistics of a few agents are too noisy to read.
	var allTicks []int64
	seen := map[int64]bool{}
	for _, s := range srcs {
		for _, r := range s.rows {
			if !seen[r.Tick] {
				seen[r.Tick] = true
				allTicks = append(allTicks, r.Tick)
			}
		}
	}
	sort.Slice(allTicks, func(i, j int) bool { return allTicks[i] < allTicks[j] })
	lo, hi := allTicks[0], allTicks[len(allTicks)-1]
	spacing := int64(0)
	for i := 1; i < len(allTicks); i++ {
		if d := allTicks[i] - allTicks[i-1]; spacing == 0 || d < spacing {
			spacing = d
		}
	}
	spacing = max(spacing, 1)
	width := spacing
	if len(allTicks) > 120 {
		width = max(spacing, (hi-lo+60)/60)
	}
	bucket := func(tick int64) int64 { return lo + (tick-lo)/width*width }
	cDeals, cReq := col("deals"), col("requests")
	// agg returns the per-bucket series of one statistic for every source: the deal
	// rate as deals / requests over the bucket when market.csv has both counts (else
	// the mean of deal_rate), gas as the sum, the others as the mean.
	agg := func(name string) []seedSeries {
		c := col(name)
		out := make([]seedSeries, len(srcs))
		for i, s := range srcs {
			out[i] = seedSeries{name: s.name, vals: map[int64]float64{}}
			sum, n := map[int64]float64{}, map[int64]int{}
			deals, reqs := map[int64]float64{}, map[int64]float64{}
			var keys []int64
			for _, r := range s.rows {
				k := bucket(r.Tick)
				if _, ok := n[k]; !ok {
					keys = append(keys, k)
					n[k] = 0
				}
				if name == "deal_rate" && !math.IsNaN(r.Values[cDeals]) && !math.IsNaN(r.Values[cReq]) {
					deals[k] += r.Values[cDeals]
					reqs[k] += r.Values[cReq]
					continue
				}
				if v := r.Values[c]; !math.IsNaN(v) {
					sum[k] += v
					n[k]++
				}
			}
			for _, k := range keys {
				switch {
				case reqs[k] > 0:
					out[i].vals[k] = deals[k] / reqs[k]
				case n[k] == 0:
					// nothing to show in this bucket (a deal rate without requests)
				case name == "gas_usd":
					out[i].vals[k] = sum[k]
				default:
					out[i].vals[k] = sum[k] / float64(n[k])
				}
			}
		}
		return out
	}
	s := &section{ID: "market", Title: "Market statistics over time"}
	gasUnit := "USD per tick"
	if width > 1 {
		gasUnit = fmt.Sprintf("USD per %d ticks", width)
	}
	lines := []struct{ col, title, unit string }{
		{"deal_rate", "Deal rate", "deals / requests"},
		{"price_per_gpu_hour", "Price per GPU-hour", "USD per GPU-hour"},
		{"utilization", "Utilization", "fraction of capacity in use"},
		{"gas_usd", "Gas spent", gasUnit},
	}
	var panels []plots.Figure
	var shown []string
	for _, l := range lines {
		ss := agg(l.col)
		ticks, per := aligned(ss)
		if len(ticks) < 2 {
			continue
		}
		x := make([]float64, len(ticks))
		for i, tk := range ticks {
			x[i] = (b.axis.x(tk) + b.axis.x(tk+width)) / 2
		}
		mean, mlo, mhi := meanAcross(per, len(ticks))
		if !anyFinite(mean) {
			continue
		}
		f := &plots.Lines{Title: l.title, YLabel: l.unit, XLabel: b.axis.label(), Time: b.axis.ok}
		c := plots.Palette[0]
		switch {
		case len(per) > 1 && len(per) <= maxFaint:
			for _, p := range per {
				f.Lines = append(f.Lines, plots.Line{X: x, Y: p, Color: c, Faint: true})
			}
			f.Lines = append(f.Lines, plots.Line{Name: fmt.Sprintf("mean of %d episodes", len(per)), X: x, Y: mean, Color: c})
		case len(per) > maxFaint:
			f.Lines = append(f.Lines, plots.Line{Name: fmt.Sprintf("mean of %d episodes, 95%% CI", len(per)), X: x, Y: mean, Lo: mlo, Hi: mhi, Color: c})
		default:
			f.Lines = append(f.Lines, plots.Line{X: x, Y: mean, Color: c})
		}
		panels = append(panels, f)
		shown = append(shown, l.col)
	}
	if len(panels) > 0 {
		what := "one episode"
		if len(srcs) > 1 && len(srcs) <= maxFaint {
			what = fmt.Sprintf("bold: the mean over %d episodes (seeds); faint: each episode", len(srcs))
		} else if len(srcs) > maxFaint {
			what = fmt.Sprintf("the mean over %d episodes (seeds) with its 95%% confidence interval shaded", len(srcs))
		}
		per := "per row of market.csv"
		if width > spacing {
			per = fmt.Sprintf("over buckets of %d ticks (deal rate: deals / requests in the bucket; price and utilization: mean; gas: sum)", width)
		}
		caption := fmt.Sprintf("Market statistics %s (market.csv: %s): %s. %s.", per, strings.Join(shown, ", "), what, b.axis.describe())
		blk, err := b.figure("market", "market statistics over time", caption, func(p string) error { return plots.SaveStack(p, panels...) })
		if err != nil {
			return nil, err
		}
		s.Blocks = append(s.Blocks, blk)
	}
	// Event counts as bars over buckets of ticks, averaged over the sources.
	events := []struct{ col, name string }{{"requests", "requests"}, {"deals", "deals"}, {"timeouts", "timeouts"}, {"slashes", "slashes"}}
	if len(allTicks) >= 2 {
		nb := int64(40)
		width := max(spacing, (hi-lo+nb)/nb)
		nBuckets := int((hi-lo)/width) + 1
		bars := &plots.Bars{Title: "Market events", YLabel: fmt.Sprintf("count per %d ticks (mean over episodes)", width),
			XLabel: b.axis.label(), Time: b.axis.ok}
		for i := 0; i < nBuckets; i++ {
			t0 := lo + int64(i)*width
			bars.X = append(bars.X, (b.axis.x(t0)+b.axis.x(t0+width))/2)
		}
		bars.Width = b.axis.x(lo+width) - b.axis.x(lo)
		var names []string
		for _, ev := range events {
			c := col(ev.col)
			sum := make([]float64, nBuckets)
			has := false
			for _, s := range srcs {
				for _, r := range s.rows {
					if v := r.Values[c]; !math.IsNaN(v) {
						sum[int((r.Tick-lo)/width)] += v / float64(len(srcs))
						has = true
					}
				}
			}
			if !has {
				continue
			}
			zero := true
			for _, v := range sum {
				zero = zero && v == 0
			}
			if zero && ev.col != "deals" {
				continue
			}
			bars.Series = append(bars.Series, plots.Series{Name: ev.name, Y: sum})
			names = append(names, ev.name)
		}
		if len(bars.Series) > 0 {
			caption := fmt.Sprintf("Counts of market events (market.csv: %s) summed over buckets of %d ticks (the last one may be shorter) and averaged over %d episodes; series that are zero throughout are left out. %s.",
				strings.Join(names, ", "), width, len(srcs), b.axis.describe())
			blk, err := b.figure("market-events", "bar chart of market events over time", caption, bars.Save)
			if err != nil {
				return nil, err
			}
			s.Blocks = append(s.Blocks, blk)
		}
	}
	// Totals per episode.
	t := &table{Caption: "Per episode (market.csv, summed or averaged over its ticks), mean [95% CI] over episodes.",
		Head: []string{"statistic", "episodes", "value"}}
	stats := []struct {
		col, label string
		sum        bool
	}{
		{"requests", "requests (total)", true}, {"deals", "deals (total)", true}, {"deal_rate", "deal rate (mean per tick)", false},
		{"price_per_gpu_hour", "price per GPU-hour, USD (mean per tick)", false}, {"utilization", "utilization (mean per tick)", false},
		{"gas_usd", "gas spent, USD (total)", true}, {"timeouts", "timeouts (total)", true}, {"slashes", "slashes (total)", true},
	}
	for _, st := range stats {
		c := col(st.col)
		var xs []float64
		for _, s := range srcs {
			var sum float64
			n := 0
			for _, r := range s.rows {
				if v := r.Values[c]; !math.IsNaN(v) {
					sum += v
					n++
				}
			}
			if n == 0 {
				continue
			}
			if !st.sum {
				sum /= float64(n)
			}
			xs = append(xs, sum)
		}
		if len(xs) == 0 {
			continue
		}
		iv := confint.Mean95(xs)
		t.Rows = append(t.Rows, []cell{{Text: st.label}, {Text: strconv.Itoa(iv.N), Num: true}, {Text: meanCI(iv.Mean, iv.Lo, iv.Hi), Num: true}})
	}
	if len(t.Rows) > 0 {
		s.Blocks = append(s.Blocks, block{Table: t})
	}
	if len(s.Blocks) == 0 {
		return nil, nil
	}
	return s, nil
}

func anyFinite(xs []float64) bool {
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return true
		}
	}
	return false
}

// ---- 7. exogenous series ------------------------------------------------------------

func (b *builder) series() (*section, error) {
	var src *runDir
	for _, r := range b.runs {
		if r.Series != nil && len(r.Series.Times) >= 2 {
			src = r
			break
		}
	}
	if src == nil {
		return nil, nil
	}
	st := src.Series
	s := &section{ID: "series", Title: "Exogenous series"}
	others := 0
	for _, r := range b.runs {
		if r != src && r.Series != nil {
			others++
		}
	}
	from := fmt.Sprintf("series.csv of %s", src.Label)
	if others > 0 {
		from += fmt.Sprintf(" (the first of %d runs with one)", others+1)
	}
	var tokens, gas, elec, rest []int
	for i, c := range st.Columns {
		switch {
		case strings.HasPrefix(c, "elec_"):
			elec = append(elec, i)
		case strings.HasPrefix(c, "l1_") || strings.HasPrefix(c, "l2_") || strings.HasPrefix(c, "blob_") || strings.Contains(c, "gas") || strings.Contains(c, "fee"):
			gas = append(gas, i)
		case strings.HasSuffix(c, "_usd"):
			tokens = append(tokens, i)
		default:
			rest = append(rest, i)
		}
	}
	panel := func(i int) plots.Figure {
		title, unit := seriesLabel(st.Columns[i])
		return &plots.TimeSeries{Title: title, YLabel: unit, Times: st.Times, Series: []plots.Series{{Y: st.Values[i]}}}
	}
	stack := func(name, alt, what string, cols []int) error {
		if len(cols) == 0 {
			return nil
		}
		var ps []plots.Figure
		var names []string
		for _, i := range cols {
			if !anyFinite(st.Values[i]) {
				continue
			}
			ps = append(ps, panel(i))
			names = append(names, st.Columns[i])
		}
		if len(ps) == 0 {
			return nil
		}
		caption := fmt.Sprintf("%s (%s: %s), the world the agents traded in.", what, from, strings.Join(names, ", "))
		blk, err := b.figure(name, alt, caption, func(p string) error { return plots.SaveStack(p, ps...) })
		if err != nil {
			return err
		}
		s.Blocks = append(s.Blocks, blk)
		return nil
	}
	if err := stack("series-tokens", "token prices over time", "Token prices in USD", tokens); err != nil {
		return nil, err
	}
	if err := stack("series-gas", "gas fees over time", "Gas: L1 and L2 fees and the cost of an L2 transaction", gas); err != nil {
		return nil, err
	}
	if len(elec) > 0 {
		f := &plots.TimeSeries{Title: "Electricity price by location", YLabel: "price (USD per kWh)", Times: st.Times, ZeroLine: true}
		var names []string
		for _, i := range elec {
			if !anyFinite(st.Values[i]) {
				continue
			}
			loc := strings.TrimSuffix(strings.TrimPrefix(st.Columns[i], "elec_"), "_usd_per_kwh")
			f.Series = append(f.Series, plots.Series{Name: loc, Y: st.Values[i]})
			names = append(names, st.Columns[i])
		}
		if len(f.Series) > 0 {
			caption := fmt.Sprintf("Electricity price at each provider location (%s: %s).", from, strings.Join(names, ", "))
			blk, err := b.figure("series-electricity", "electricity prices by location", caption, f.Save)
			if err != nil {
				return nil, err
			}
			s.Blocks = append(s.Blocks, blk)
		}
	}
	if err := stack("series-other", "other exogenous series", "Other series", rest); err != nil {
		return nil, err
	}
	if len(s.Blocks) == 0 {
		return nil, nil
	}
	return s, nil
}

// seriesNames are the titles of the series that `hivegym series` writes.
var seriesNames = map[string]string{
	"eth_usd":           "ETH price",
	"hive_usd":          "HIVE price",
	"usdc_usd":          "USDC price",
	"l1_base_fee_gwei":  "L1 base fee",
	"blob_base_fee_wei": "L1 blob base fee",
	"l2_base_fee_gwei":  "L2 base fee",
	"l2_tx_usd":         "L2 transaction cost",
}

// seriesLabel returns a title and an axis label with the unit from a column name.
func seriesLabel(col string) (title, unit string) {
	units := []struct{ suffix, unit string }{
		{"_usd_per_kwh", "USD per kWh"}, {"_usd", "USD"}, {"blob_base_fee_wei", "wei per blob gas"}, {"_gwei", "gwei per gas"}, {"_wei", "wei per gas"},
	}
	base, u := col, ""
	for _, x := range units {
		if strings.HasSuffix(col, x.suffix) {
			base, u = strings.TrimSuffix(col, x.suffix), x.unit
			if base == "" {
				base = col
			}
			break
		}
	}
	title = seriesNames[col]
	if title == "" {
		title = strings.ReplaceAll(base, "_", " ")
	}
	if u == "" {
		return title, col
	}
	return title, title + " (" + u + ")"
}

// ---- 8. threads ----------------------------------------------------------------------

func (b *builder) threads() (*section, error) {
	type item struct {
		run string
		th  thread
	}
	var all []item
	for _, r := range b.runs {
		for _, th := range r.Threads {
			all = append(all, item{r.Label, th})
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	limit := b.opts.Threads
	if limit <= 0 {
		limit = 6
	}
	// Outcomes in order of first appearance, with counts.
	var outcomes order
	count := map[string]int{}
	for _, it := range all {
		o := orDash(it.th.Outcome)
		outcomes.add(o)
		count[o]++
	}
	// Pick the longest negotiation (most offers; the first in file order among equals) of
	// each outcome, then fill up with the longest of the rest: a deterministic sample that
	// shows every outcome and the threads where both sides actually moved.
	byLength := make([]int, len(all))
	for i := range byLength {
		byLength[i] = i
	}
	sort.SliceStable(byLength, func(a, c int) bool {
		return len(all[byLength[a]].th.Offers) > len(all[byLength[c]].th.Offers)
	})
	picked := map[int]bool{}
	var pick []int
	for _, o := range outcomes.keys {
		for _, i := range byLength {
			if len(pick) < limit && orDash(all[i].th.Outcome) == o && len(all[i].th.Offers) >= 2 && !picked[i] {
				picked[i] = true
				pick = append(pick, i)
				break
			}
		}
	}
	for _, i := range byLength {
		if len(pick) >= limit {
			break
		}
		if !picked[i] && len(all[i].th.Offers) > 0 {
			picked[i] = true
			pick = append(pick, i)
		}
	}
	sort.Ints(pick)
	s := &section{ID: "threads", Title: "Negotiation threads"}
	ot := &table{Caption: fmt.Sprintf("Outcomes of the %d sample threads in threads.jsonl.", len(all)), Head: []string{"outcome", "threads", "share"}}
	for _, o := range outcomes.keys {
		ot.Rows = append(ot.Rows, []cell{{Text: o}, {Text: strconv.Itoa(count[o]), Num: true}, {Text: pct(float64(count[o]) / float64(len(all))), Num: true}})
	}
	if len(pick) > 0 {
		var panels []plots.Figure
		tt := &table{Caption: "The threads drawn above.", Head: []string{"run", "thread", "provider", "client", "outcome", "offers", "first price", "last price"}}
		for _, i := range pick {
			th := all[i].th
			f := &plots.Offers{Title: fmt.Sprintf("%s: %s / %s, %s", th.Thread, orDash(th.Provider), orDash(th.Client), orDash(th.Outcome)),
				YLabel: "price (USD per GPU-hour)"}
			for _, o := range th.Offers {
				p := float64(o.Price)
				if math.IsNaN(p) || math.IsInf(p, 0) {
					continue
				}
				if o.From == "client" {
					f.ClientRound, f.ClientPrice = append(f.ClientRound, float64(o.Round)), append(f.ClientPrice, p)
				} else {
					f.ProviderRound, f.ProviderPrice = append(f.ProviderRound, float64(o.Round)), append(f.ProviderPrice, p)
				}
			}
			if len(f.ClientRound)+len(f.ProviderRound) == 0 {
				continue
			}
			panels = append(panels, f)
			first, last := float64(th.Offers[0].Price), float64(th.Offers[len(th.Offers)-1].Price)
			tt.Rows = append(tt.Rows, []cell{{Text: all[i].run}, {Text: th.Thread}, {Text: orDash(th.Provider)}, {Text: orDash(th.Client)},
				{Text: orDash(th.Outcome)}, {Text: strconv.Itoa(len(th.Offers)), Num: true}, {Text: num(first), Num: true}, {Text: num(last), Num: true}})
		}
		if len(panels) > 0 {
			caption := fmt.Sprintf("Offer trajectories of %d sample threads (threads.jsonl): the price per GPU-hour each side offered against the negotiation round; "+
				"client offers are circles on a dashed line, provider offers triangles on a solid line. "+
				"The sample takes the first thread of each outcome that has two or more offers, then fills up in file order.", len(panels))
			blk, err := b.figure("threads", "offer trajectories of sample negotiation threads", caption, func(p string) error {
				return plots.SaveGrid(p, 2, panels...)
			})
			if err != nil {
				return nil, err
			}
			s.Blocks = append(s.Blocks, blk, block{Table: tt})
		}
	}
	s.Blocks = append(s.Blocks, block{Table: ot})
	return s, nil
}

// ---- 9. sweeps -----------------------------------------------------------------------

func (b *builder) sweep(sweeps []SweepResults) (*section, error) {
	var s *section
	for si := range sweeps {
		sw := &sweeps[si]
		if len(sw.Rows) == 0 {
			continue
		}
		if s == nil {
			s = &section{ID: "sweep", Title: "Sweeps",
				Intro: []string{"Final metrics of each policy group against each swept parameter: at each value, the mean over the done runs " +
					"(seeds, and the values of the other swept parameters) with its 95% confidence interval as an error bar."}}
		}
		name := sw.Name
		if name == "" {
			name = "sweep"
		}
		groups, roles, metrics := sweepGroups(sw)
		b.orderGroups(groups, roles)
		done, failed, other := 0, 0, 0
		for _, r := range sw.Rows {
			switch r.Status {
			case "done":
				done++
			case "failed":
				failed++
			default:
				other++
			}
		}
		s.Blocks = append(s.Blocks, block{Note: fmt.Sprintf("Sweep %s: %d runs (%d done, %d failed, %d not finished); swept: %s.",
			name, len(sw.Rows), done, failed, other, orDash(strings.Join(sw.Params, ", ")))})
		// Metrics with one value across the whole sweep (a count of agents, of ticks)
		// say nothing against a parameter: the table shows them, the figures do not.
		constant := map[string]bool{}
		var constNames []string
		for _, m := range metrics {
			if sweepConstant(sw, m) {
				constant[m] = true
				constNames = append(constNames, m)
			}
		}
		if len(groups) > 0 && len(metrics) > 0 {
			for p, param := range sw.Params {
				ax := axisOf(sw, p)
				if len(ax.Values) == 0 {
					continue
				}
				var panels []plots.Figure
				for _, m := range metrics {
					if constant[m] {
						continue
					}
					f := &plots.ErrorBars{Title: metricTitle(m), XLabel: param, YLabel: metricUnit(m), LogX: ax.LogX}
					if ax.Numeric {
						f.X = ax.Nums
					} else {
						for i, v := range ax.Values {
							f.X = append(f.X, float64(i))
							f.XTicks = append(f.XTicks, plot.Tick{Value: float64(i), Label: v})
						}
					}
					for _, g := range groups {
						es := plots.ErrSeries{Name: g}
						for _, v := range ax.Values {
							iv := confint.Mean95(sweepSamples(sw, p, v, g, m, nil))
							es.Y, es.Lo, es.Hi = append(es.Y, iv.Mean), append(es.Lo, iv.Lo), append(es.Hi, iv.Hi)
						}
						f.Series = append(f.Series, es)
					}
					if _, err := f.Plot(); err != nil { // nothing finite: leave the panel out
						continue
					}
					panels = append(panels, f)
				}
				if len(panels) == 0 {
					continue
				}
				caption := fmt.Sprintf("Sweep %s: each final metric (metrics per group%s) against %s; points: mean over the done runs at that value, bars: 95%% confidence interval (none with a single run).",
					name, sweepSourceText(b.opts.Store), param)
				if len(sw.Params) > 1 {
					caption += " The other swept parameters are averaged over."
				}
				if len(constNames) > 0 {
					caption += " Left out, as they have one value across the sweep: " + strings.Join(constNames, ", ") + "."
				}
				blk, err := b.figure("sweep-"+name+"-"+param, "metrics against "+param, caption, func(path string) error {
					return plots.SaveGrid(path, 2, panels...)
				})
				if err != nil {
					return nil, err
				}
				s.Blocks = append(s.Blocks, blk)
			}
			for gi, g := range groups {
				if t := sweepTable(sw, g, roles[gi], metrics); t != nil {
					s.Blocks = append(s.Blocks, block{Table: t})
				}
			}
		}
		if failed > 0 {
			ft := &table{Caption: "Failed runs of sweep " + name + ".", Head: append(append([]string{"run", "seed"}, sw.Params...), "error")}
			for _, r := range sw.Rows {
				if r.Status != "failed" {
					continue
				}
				row := []cell{{Text: r.Run}, {Text: strconv.FormatUint(r.Seed, 10), Num: true}}
				for _, v := range r.Values {
					row = append(row, cell{Text: orDash(v)})
				}
				row = append(row, cell{Text: orDash(r.Error), Class: "bad"})
				ft.Rows = append(ft.Rows, row)
			}
			s.Blocks = append(s.Blocks, block{Table: ft})
		}
	}
	return s, nil
}

// orderGroups sorts groups (and roles alike) into the report's group order (config
// order of the run directories); groups the runs do not have keep their order, after.
func (b *builder) orderGroups(groups, roles []string) {
	rank := func(g string) int {
		if i, ok := b.groups.idx[g]; ok {
			return i
		}
		return len(b.groups.keys)
	}
	idx := make([]int, len(groups))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return rank(groups[idx[i]]) < rank(groups[idx[j]]) })
	g2, r2 := make([]string, len(groups)), make([]string, len(roles))
	for i, k := range idx {
		g2[i], r2[i] = groups[k], roles[k]
	}
	copy(groups, g2)
	copy(roles, r2)
}

func sweepSourceText(store string) string {
	if store != "" {
		return " from the run store"
	}
	return " from each run's metrics.json"
}

// sweepConstant reports whether metric m has, for each group, a single value over
// every done run of the sweep (and some group has it in two runs or more): a count of
// agents or of ticks.
func sweepConstant(sw *SweepResults, m string) bool {
	first := map[string]float64{}
	n := 0
	for _, r := range sw.Rows {
		if r.Status != "done" {
			continue
		}
		for _, x := range r.Metrics {
			if x.Metric != m {
				continue
			}
			v, ok := first[x.Group]
			if ok && v != x.Value {
				return false
			}
			if ok {
				n++
			}
			first[x.Group] = x.Value
		}
	}
	return n > 0
}

// sweepTable has one row per combination of swept values (in sweep order) for one
// group, and a column for each metric the group has; nil when it has none.
func sweepTable(sw *SweepResults, group, role string, metrics []string) *table {
	var ms []string
	for _, m := range metrics {
		if len(sweepSamples(sw, -1, "", group, m, nil)) > 0 {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return nil
	}
	t := &table{Caption: fmt.Sprintf("Sweep %s, group %s (%s): mean [95%% CI] over the done runs (seeds) of each combination.", orDash(sw.Name), group, orDash(role)),
		Head: append(append(append([]string{}, sw.Params...), "runs"), titles(ms)...)}
	var combos order
	for _, r := range sw.Rows {
		combos.add(strings.Join(r.Values, "\x00"))
	}
	for _, c := range combos.keys {
		match := func(r SweepRow) bool { return strings.Join(r.Values, "\x00") == c }
		var row []cell
		if len(sw.Params) > 0 {
			for _, v := range strings.Split(c, "\x00") {
				row = append(row, cell{Text: orDash(v)})
			}
		}
		n := 0
		var cells []cell
		for _, m := range ms {
			iv := confint.Mean95(sweepSamples(sw, -1, "", group, m, match))
			n = max(n, iv.N+iv.Dropped)
			if iv.N+iv.Dropped == 0 {
				cells = append(cells, cell{Text: "—", Num: true})
				continue
			}
			cells = append(cells, cell{Text: meanCI(iv.Mean, iv.Lo, iv.Hi), Num: true})
		}
		row = append(row, cell{Text: strconv.Itoa(n), Num: true})
		t.Rows = append(t.Rows, append(row, cells...))
	}
	return t
}

// ---- number formatting ---------------------------------------------------------------

// num prints x with 4 significant digits (NaN, +Inf, -Inf as such).
func num(x float64) string {
	if s, ok := jsonfloat.NonFinite(x); ok {
		return s
	}
	switch {
	case x == 0:
		return "0"
	}
	a := math.Abs(x)
	if a >= 1e-3 && a < 1e6 {
		s := strconv.FormatFloat(x, 'f', max(0, 3-int(math.Floor(math.Log10(a)))), 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return s
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// meanCI prints "mean [lo, hi]", or the mean alone when the interval is unknown.
func meanCI(mean, lo, hi float64) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return num(mean)
	}
	return num(mean) + " [" + num(lo) + ", " + num(hi) + "]"
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	return strconv.FormatFloat(100*x, 'f', 1, 64) + "%"
}
