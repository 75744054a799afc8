package tournament

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/experiments/sweep"
	"github.com/hivegym/hivegym/internal/jsonfloat"
	"github.com/hivegym/hivegym/internal/rng"
)

// Payoff metrics of the head-to-head matrices, in table order: each side's per-agent
// metrics, then the market's outcomes.
var (
	PayoffSideMetrics   = []string{experiments.MetricCumulativeReturn, experiments.MetricSharpe}
	PayoffMarketMetrics = experiments.MarketMetrics
)

// Results are a tournament's payoff matrices, ratings and paired comparisons.
type Results struct {
	Name     string `json:"name"`
	Episodes int    `json:"episodes"`
	// Units is the number of paired samples behind every head-to-head cell: episodes x
	// schemes x scenarios; MixedUnits behind every mixed cell (x the rotations).
	Units      int      `json:"units"`
	MixedUnits [2]int   `json:"mixed_units"`
	Scenarios  []string `json:"scenarios"`
	Schemes    []string `json:"schemes"`
	Providers  []string `json:"providers"`
	Clients    []string `json:"clients"`
	// HeadToHead holds one cell per provider entrant, client entrant and metric.
	HeadToHead []Cell `json:"head_to_head"`
	// Mixed holds, per role, one cell per entrant, opponent and metric: the entrant's
	// agents' metric in the mixed population of its role against the opponent.
	Mixed []Cell `json:"mixed"`
	// Ratings per role, from the mixed matchups (empty for a role with one entrant).
	Ratings      []RatingRow `json:"ratings"`
	RatingMetric string      `json:"rating_metric"`
	// Compare holds the paired differences A - B when asked for.
	Compare []Cell `json:"compare,omitempty"`
}

// Cell is one entry of a matrix: a mean with its Student-t 95% interval.
type Cell struct {
	Kind     string               `json:"kind"`           // head-to-head, mixed, or for comparisons the matchup kind
	Role     string               `json:"role,omitempty"` // the role of Entrant
	Entrant  string               `json:"entrant"`        // head-to-head: the provider
	Opponent string               `json:"opponent"`       // head-to-head: the client
	Side     string               `json:"side,omitempty"` // head-to-head: whose metric (provider, client, market)
	Metric   string               `json:"metric"`         //
	Value    experiments.Interval `json:"value"`
}

// RatingRow is one entrant's rating.
type RatingRow struct {
	Role    string             `json:"role"`
	Entrant string             `json:"entrant"`
	Rating  jsonfloat.Float    `json:"rating"`
	CI95    [2]jsonfloat.Float `json:"ci95"`
	Games   float64            `json:"comparisons"`
}

// runData is one finished run's per-episode curves: group -> metric -> episode values.
type runData map[string]map[string][]float64

// ErrIncomplete is returned by Results when runs of the tournament are not finished in
// the store.
type ErrIncomplete struct {
	Missing, Failed, Total int
}

func (e *ErrIncomplete) Error() string {
	return fmt.Sprintf("%d of the tournament's %d runs are not done (%d failed, %d missing or unfinished); finish them (--resume) or merge the shards' stores", e.Missing+e.Failed, e.Total, e.Failed, e.Missing)
}

// CheckCompare checks that a and b name two entrants of one role.
func (t *Tournament) CheckCompare(a, b string) error {
	ea, eb := t.entrant(a), t.entrant(b)
	switch {
	case ea == nil:
		return fmt.Errorf("no entrant %q", a)
	case eb == nil:
		return fmt.Errorf("no entrant %q", b)
	case ea.Role != eb.Role:
		return fmt.Errorf("%s is a %s and %s a %s: compare two entrants of one role", a, ea.Role, b, eb.Role)
	case a == b:
		return fmt.Errorf("compare two different entrants, got %s twice", a)
	}
	return nil
}

// Results reads the tournament's runs from st and computes its results. Every run must
// be done; compare, when it names two entrants of one role (CheckCompare), adds their
// paired differences.
func (t *Tournament) Results(ctx context.Context, sw *sweep.Sweep, st *store.Store, compare [2]string) (*Results, error) {
	if compare[0] != "" {
		if err := t.CheckCompare(compare[0], compare[1]); err != nil {
			return nil, err
		}
	}
	cells, err := t.cells(sw)
	if err != nil {
		return nil, err
	}
	runs, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	status := map[string]store.Status{}
	for _, r := range runs {
		status[r.ID] = r.Status
	}
	inc := &ErrIncomplete{Total: len(cells)}
	ids := make([]string, 0, len(cells))
	for id := range cells {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	data := map[cell]runData{}
	for _, id := range ids {
		switch status[id] {
		case store.StatusDone:
		case store.StatusFailed:
			inc.Failed++
			continue
		default:
			inc.Missing++
			continue
		}
		pts, err := st.Curves(ctx, id)
		if err != nil {
			return nil, err
		}
		d := runData{}
		for _, p := range pts {
			g := d[p.Group]
			if g == nil {
				g = map[string][]float64{}
				d[p.Group] = g
			}
			xs := g[p.Metric]
			for len(xs) <= p.Iteration {
				xs = append(xs, math.NaN())
			}
			xs[p.Iteration] = p.Value
			g[p.Metric] = xs
		}
		data[cells[id]] = d
	}
	if inc.Missing+inc.Failed > 0 {
		return nil, inc
	}
	return t.compute(data, compare), nil
}

// units returns, for matchups mis, group g (market: "") and metric m, the values of
// every (matchup, scheme, scenario, episode) in a fixed order, so that two calls over
// the same matchups are paired.
func (t *Tournament) units(data map[cell]runData, mis []int, g, m string) []float64 {
	var out []float64
	for _, mi := range mis {
		for _, sc := range t.schemesRun {
			for _, sn := range t.scenariosRun {
				xs := data[cell{matchup: mi, scheme: sc, scenario: sn}][g][m]
				for ep := 0; ep < t.Episodes; ep++ {
					x := math.NaN()
					if ep < len(xs) {
						x = xs[ep]
					}
					out = append(out, x)
				}
			}
		}
	}
	return out
}

// matchupsOf returns the matchups of kind (for mixed, of role's population, every
// rotation) in which all of entrants play.
func (t *Tournament) matchupsOf(kind, role string, entrants ...string) []int {
	var out []int
	for i, m := range t.Matchups {
		if m.Kind != kind || (kind == Mixed && m.Role != role) {
			continue
		}
		ok := true
		for _, e := range entrants {
			if !slices.Contains(m.Entrants, e) {
				ok = false
			}
		}
		if ok {
			out = append(out, i)
		}
	}
	return out
}

func (t *Tournament) compute(data map[cell]runData, compare [2]string) *Results {
	res := &Results{Name: t.Name, Episodes: t.Episodes, Units: t.Episodes * len(t.schemesRun) * len(t.scenariosRun),
		Scenarios: t.scenariosRun, Schemes: t.schemesRun, RatingMetric: t.Rating.Metric}
	for _, e := range t.Entrants[0] {
		res.Providers = append(res.Providers, e.Name)
	}
	for _, e := range t.Entrants[1] {
		res.Clients = append(res.Clients, e.Name)
	}
	// Head-to-head.
	for _, p := range t.Entrants[0] {
		for _, c := range t.Entrants[1] {
			mi := t.matchupsOf(HeadToHead, "", p.Name, c.Name)
			if len(mi) == 0 {
				continue
			}
			for _, side := range []*Resolved{p, c} {
				for _, m := range PayoffSideMetrics {
					res.HeadToHead = append(res.HeadToHead, Cell{Kind: HeadToHead, Role: agents.RoleProvider, Entrant: p.Name, Opponent: c.Name,
						Side: side.Role, Metric: m, Value: experiments.IntervalOf(t.units(data, mi, side.Name, m))})
				}
			}
			for _, m := range PayoffMarketMetrics {
				res.HeadToHead = append(res.HeadToHead, Cell{Kind: HeadToHead, Role: agents.RoleProvider, Entrant: p.Name, Opponent: c.Name,
					Side: "market", Metric: m, Value: experiments.IntervalOf(t.units(data, mi, "", marketPrefix+m))})
			}
		}
	}
	// Mixed and ratings.
	for r, role := range []string{agents.RoleProvider, agents.RoleClient} {
		mine, theirs := t.Entrants[r], t.Entrants[1-r]
		if len(mine) < 2 || len(t.matchupsOf(Mixed, role, mine[0].Name)) == 0 {
			continue
		}
		var units []Unit
		for _, o := range theirs {
			mi := t.matchupsOf(Mixed, role, o.Name)
			if len(mi) == 0 {
				continue
			}
			vals := make([][]float64, len(mine))
			for i, e := range mine {
				for _, m := range PayoffSideMetrics {
					xs := t.units(data, mi, e.Name, m)
					res.Mixed = append(res.Mixed, Cell{Kind: Mixed, Role: role, Entrant: e.Name, Opponent: o.Name, Metric: m, Value: experiments.IntervalOf(xs)})
				}
				vals[i] = t.units(data, mi, e.Name, t.Rating.Metric)
			}
			res.MixedUnits[r] = len(vals[0])
			for k := range vals[0] {
				u := make(Unit, len(mine))
				for i := range mine {
					u[i] = vals[i][k]
				}
				units = append(units, u)
			}
		}
		rs := RateUnits(len(mine), units, t.Rating.Prior, t.Rating.Bootstrap, rng.New(t.Seed, "tournament.bootstrap."+role))
		for i, e := range mine {
			res.Ratings = append(res.Ratings, RatingRow{Role: role, Entrant: e.Name, Rating: jsonfloat.Float(rs[i].Rating),
				CI95: [2]jsonfloat.Float{jsonfloat.Float(rs[i].CI95[0]), jsonfloat.Float(rs[i].CI95[1])}, Games: rs[i].Games})
		}
	}
	if compare[0] != "" {
		res.Compare = t.comparePaired(data, compare[0], compare[1])
	}
	return res
}

// comparePaired returns the paired differences a - b (same scheme, scenario and episode
// seed): head-to-head against every opponent, and in the mixed matchups of their role
// against every opponent (there both share the episode's market).
func (t *Tournament) comparePaired(data map[cell]runData, a, b string) []Cell {
	ea := t.entrant(a)
	var out []Cell
	theirs := t.Entrants[1]
	if ea.Role == agents.RoleClient {
		theirs = t.Entrants[0]
	}
	diff := func(x, y []float64) experiments.Interval {
		p := experiments.Paired(x, y)
		f := func(x float64) jsonfloat.Float { return jsonfloat.Float(x) }
		return experiments.Interval{Mean: f(p.Mean), CI95: [2]jsonfloat.Float{f(p.Lo), f(p.Hi)}, N: p.N}
	}
	for _, o := range theirs {
		ma, mb := t.matchupsOf(HeadToHead, "", a, o.Name), t.matchupsOf(HeadToHead, "", b, o.Name)
		if len(ma) > 0 && len(mb) > 0 {
			for _, m := range PayoffSideMetrics {
				out = append(out, Cell{Kind: HeadToHead, Role: ea.Role, Entrant: a + " - " + b, Opponent: o.Name, Metric: m,
					Value: (diff(t.units(data, ma, a, m), t.units(data, mb, b, m)))})
			}
		}
	}
	for _, o := range theirs {
		mi := t.matchupsOf(Mixed, ea.Role, o.Name)
		if len(mi) == 0 {
			continue
		}
		for _, m := range PayoffSideMetrics {
			out = append(out, Cell{Kind: Mixed, Role: ea.Role, Entrant: a + " - " + b, Opponent: o.Name, Metric: m,
				Value: (diff(t.units(data, mi, a, m), t.units(data, mi, b, m)))})
		}
	}
	return out
}
