package scoreboard

import (
	"context"
	"fmt"
	"math"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/internal/confint"
	"github.com/hivegym/hivegym/internal/jsonfloat"
)

// Doc is a scoreboard's results: `hivegym scoreboard --json` and scoreboard.json.
type Doc struct {
	Scoreboard string   `json:"scoreboard"`
	Seeds      []uint64 `json:"seeds"`
	Episodes   int      `json:"episodes"`
	EvalSeed   uint64   `json:"eval_seed"`
	// Runs counts the runs (cells x seeds); Done, Failed and Pending their states in
	// the store (Pending: not in it, or not finished).
	Runs    int   `json:"runs"`
	Done    int   `json:"done"`
	Failed  int   `json:"failed"`
	Pending int   `json:"pending"`
	Rows    []Row `json:"rows"`
}

// Row is one learning group of one cell.
type Row struct {
	Scenario string `json:"scenario"`
	Scheme   string `json:"scheme"`
	Setup    string `json:"setup"`
	Group    string `json:"group"`
	Role     string `json:"role"`
	// SeedsDone counts the seeds whose run is done.
	SeedsDone int `json:"seeds_done"`
	// Trained is the group's mean over seeds of its mean over episodes, per score metric.
	Trained map[string]jsonfloat.Float `json:"trained"`
	// Strongest is the baseline with the highest mean cumulative return over the seeds
	// ("" when no seed is done).
	Strongest string `json:"strongest"`
	// Meets says the group beats Strongest: every seed done, the pooled interval above
	// zero on every score metric, and at least ceil(2K/3) of the K seeds with their own
	// intervals above zero on every score metric.
	Meets bool `json:"meets_target"`
	// SeedsAbove counts the seeds whose intervals against Strongest lie above zero on
	// every score metric.
	SeedsAbove int `json:"seeds_above"`
	// Baselines are every baseline evaluated against the group, in evaluation order.
	Baselines []BaselineRow `json:"baselines"`
}

// BaselineRow is one baseline against one group: per seed and pooled.
type BaselineRow struct {
	Baseline string `json:"baseline"`
	// Mean is the baseline's mean over seeds of its mean over episodes.
	Mean   map[string]jsonfloat.Float `json:"mean"`
	Pooled map[string]Pooled          `json:"pooled"`
	Seeds  []SeedRow                  `json:"seeds"`
}

// SeedRow is one training seed's comparison.
type SeedRow struct {
	Seed     uint64                     `json:"seed"`
	Status   string                     `json:"status"`
	Trained  map[string]jsonfloat.Float `json:"trained,omitempty"`
	Baseline map[string]jsonfloat.Float `json:"baseline,omitempty"`
	Diff     map[string]Diff            `json:"diff,omitempty"`
}

// Diff is a paired difference over episodes.
type Diff struct {
	Mean   jsonfloat.Float    `json:"mean"`
	CI95   [2]jsonfloat.Float `json:"ci95"`
	Wins   int                `json:"wins"`
	Losses int                `json:"losses"`
	Ties   int                `json:"ties"`
	N      int                `json:"n"`
}

// Pooled is a paired difference pooled over seeds (experiments.PoolSeeds).
type Pooled struct {
	Mean jsonfloat.Float    `json:"mean"`
	CI95 [2]jsonfloat.Float `json:"ci95"`
	// Seeds is the number of seed means pooled; SeedsAbove those above zero alone.
	Seeds      int `json:"seeds"`
	SeedsAbove int `json:"seeds_above"`
	Wins       int `json:"wins"`
	Losses     int `json:"losses"`
	Ties       int `json:"ties"`
	Episodes   int `json:"episodes"`
}

// Results reads the board's runs from st into a Doc. Runs missing from the store or not
// finished count as pending; a cell with no done seed has empty results.
func (b *Board) Results(ctx context.Context, st *store.Store) (*Doc, error) {
	runs, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	byIndex := map[int]store.Run{}
	for _, r := range runs {
		if r.Sweep == b.Name {
			byIndex[r.Index] = r
		}
	}
	doc := &Doc{Scoreboard: b.Name, Seeds: b.Seeds, Episodes: b.Episodes, EvalSeed: b.EvalSeed}
	k := len(b.Seeds)
	for ci, c := range b.Cells() {
		si := indexOf(b.Setups, c.Setup)
		pop := b.pops[si]
		// metrics[s] are seed s's group metrics, key -> name -> value; nil unless done.
		metrics := make([]map[string]map[string]float64, k)
		status := make([]string, k)
		for s := range k {
			doc.Runs++
			r, ok := byIndex[ci*k+s]
			status[s] = string(store.StatusPending)
			if ok {
				status[s] = string(r.Status)
			}
			switch {
			case ok && r.Status == store.StatusDone:
				doc.Done++
				ms, err := st.Metrics(ctx, r.ID)
				if err != nil {
					return nil, err
				}
				metrics[s] = map[string]map[string]float64{}
				for _, m := range ms {
					if m.Scope != store.ScopeGroup {
						continue
					}
					if metrics[s][m.Key] == nil {
						metrics[s][m.Key] = map[string]float64{}
					}
					metrics[s][m.Key][m.Name] = m.Value
				}
			case ok && r.Status == store.StatusFailed:
				doc.Failed++
			default:
				doc.Pending++
			}
		}
		for _, g := range pop {
			if !g.Learning() {
				continue
			}
			doc.Rows = append(doc.Rows, b.row(c, g, metrics, status))
		}
	}
	return doc, nil
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

func (b *Board) row(c Cell, g agents.GroupConfig, metrics []map[string]map[string]float64, status []string) Row {
	row := Row{Scenario: c.Scenario, Scheme: c.Scheme, Setup: c.Setup, Group: g.Name, Role: g.Role,
		Trained: map[string]jsonfloat.Float{}}
	for s := range metrics {
		if metrics[s] != nil {
			row.SeedsDone++
		}
	}
	get := func(s int, key, name string) float64 {
		if metrics[s] == nil || metrics[s][key] == nil {
			return math.NaN()
		}
		v, ok := metrics[s][key][name]
		if !ok {
			return math.NaN()
		}
		return v
	}
	meanOver := func(key, name string) float64 {
		var xs []float64
		for s := range metrics {
			if metrics[s] != nil {
				xs = append(xs, get(s, key, name))
			}
		}
		return confint.Mean95(xs).Mean
	}
	for _, m := range ScoreMetrics {
		row.Trained[m] = jsonfloat.Float(meanOver(g.Name, m))
	}
	names := b.Baselines
	if names == nil {
		names = experiments.BaselinesFor(g.Role)
	}
	best, bestMean := -1, math.Inf(-1)
	// above[i][s]: baseline i's seed s has its interval above zero on every score metric.
	var above [][]bool
	for _, bl := range names {
		if !experiments.BaselineFits(bl, g.Role) {
			continue
		}
		key := g.Name + "/" + bl
		br := BaselineRow{Baseline: bl, Mean: map[string]jsonfloat.Float{}, Pooled: map[string]Pooled{}}
		diffs := map[string][]experiments.PairedDiff{} // over the done seeds
		ab := make([]bool, len(b.Seeds))
		for s, seed := range b.Seeds {
			sr := SeedRow{Seed: seed, Status: status[s]}
			if metrics[s] != nil {
				sr.Trained, sr.Baseline, sr.Diff = map[string]jsonfloat.Float{}, map[string]jsonfloat.Float{}, map[string]Diff{}
				ab[s] = true
				for _, m := range ScoreMetrics {
					sr.Trained[m] = jsonfloat.Float(get(s, g.Name, m))
					sr.Baseline[m] = jsonfloat.Float(get(s, key, m))
					d := recorded(func(f string) float64 { return get(s, key, diffPrefix+m+"."+f) })
					diffs[m] = append(diffs[m], d)
					ab[s] = ab[s] && d.Above()
					sr.Diff[m] = Diff{Mean: jsonfloat.Float(d.Mean), CI95: [2]jsonfloat.Float{jsonfloat.Float(d.Lo), jsonfloat.Float(d.Hi)},
						Wins: d.Wins, Losses: d.Losses, Ties: d.Ties, N: d.N}
				}
			}
			br.Seeds = append(br.Seeds, sr)
		}
		for _, m := range ScoreMetrics {
			br.Mean[m] = jsonfloat.Float(meanOver(key, m))
			p := experiments.PoolSeeds(diffs[m])
			br.Pooled[m] = Pooled{Mean: jsonfloat.Float(p.Mean), CI95: [2]jsonfloat.Float{jsonfloat.Float(p.Lo), jsonfloat.Float(p.Hi)},
				Seeds: p.N, SeedsAbove: p.SeedsAbove, Wins: p.Wins, Losses: p.Losses, Ties: p.Ties, Episodes: p.Episodes}
		}
		if m := float64(br.Mean[experiments.MetricCumulativeReturn]); !math.IsNaN(m) && m > bestMean {
			best, bestMean = len(row.Baselines), m
		}
		row.Baselines = append(row.Baselines, br)
		above = append(above, ab)
	}
	if best < 0 {
		return row
	}
	row.Strongest = row.Baselines[best].Baseline
	for _, a := range above[best] {
		if a {
			row.SeedsAbove++
		}
	}
	k := len(b.Seeds)
	row.Meets = row.SeedsDone == k && row.SeedsAbove*3 >= 2*k
	for _, m := range ScoreMetrics {
		if !(float64(row.Baselines[best].Pooled[m].CI95[0]) > 0) {
			row.Meets = false
		}
	}
	return row
}

// recorded rebuilds a PairedDiff from the fields a run recorded.
func recorded(get func(field string) float64) experiments.PairedDiff {
	var d experiments.PairedDiff
	d.Mean, d.Lo, d.Hi, d.SD = get("mean"), get("lo"), get("hi"), get("sd")
	d.Level = 0.95
	toInt := func(x float64) int {
		if math.IsNaN(x) {
			return 0
		}
		return int(x)
	}
	d.N, d.Wins, d.Losses, d.Ties = toInt(get("n")), toInt(get("wins")), toInt(get("losses")), toInt(get("ties"))
	return d
}

// StrongestRow returns row's comparison against its strongest baseline (nil when none).
func (r *Row) StrongestRow() *BaselineRow {
	for i := range r.Baselines {
		if r.Baselines[i].Baseline == r.Strongest {
			return &r.Baselines[i]
		}
	}
	return nil
}

// String names a row for messages.
func (r *Row) String() string {
	return fmt.Sprintf("%s/%s/%s %s", r.Scenario, r.Scheme, r.Setup, r.Group)
}
