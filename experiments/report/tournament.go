package report

import (
	"fmt"
	"math"
	"strconv"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/plots"
	"github.com/hivegym/hivegym/experiments/tournament"
	"gonum.org/v1/plot"
)

// fileTournament is the results document of a tournament's output directory.
const fileTournament = tournament.ResultJSON

// eloCell prints a rating on the Elo scale.
func eloCell(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return num(x)
	}
	return fmt.Sprintf("%+.0f", x)
}

// payoffOf returns the mean of the cell of cs with these fields, NaN when absent.
func payoffOf(cs []tournament.Cell, entrant, opponent, side, metric string) float64 {
	for _, c := range cs {
		if c.Entrant == entrant && c.Opponent == opponent && c.Side == side && c.Metric == metric {
			return float64(c.Value.Mean)
		}
	}
	return math.NaN()
}

// tournaments shows each tournament of the report (a tournament output directory
// given as an argument): the ratings with their bootstrap intervals, as a table and a
// figure per role, and the payoff matrices as heatmaps (head-to-head: the provider's
// and the client's cumulative return; mixed: the rating metric), then the paired
// comparison when the tournament was run with --compare.
func (b *builder) tournaments() (*section, error) {
	if len(b.tours) == 0 {
		return nil, nil
	}
	s := &section{ID: "tournament", Title: "Tournaments",
		Intro: []string{"Trained groups and scripted strategies cross-played on the same held-out episodes " +
			"(docs/tournaments.md). Ratings: Bradley-Terry fitted by maximum likelihood on the mixed-population " +
			"matchups, where the entrants of a role share one market, on the Elo scale (400 points: 10:1 odds), " +
			"with 95% percentile-bootstrap intervals over episodes. Payoff cells are means over the paired episodes " +
			"of every scheme and scenario; cumulative return in percent."}}
	pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) }
	for _, r := range b.tours {
		cr := experiments.MetricCumulativeReturn
		rt := &table{Caption: fmt.Sprintf("Tournament %s: ratings on %s (%d paired episodes per cell: %d episodes x %d schemes x %d scenarios).",
			r.Name, r.RatingMetric, r.Units, r.Episodes, len(r.Schemes), len(r.Scenarios)),
			Head: []string{"role", "entrant", "rating", "95% CI", "comparisons"}}
		for _, x := range r.Ratings {
			rt.Rows = append(rt.Rows, []cell{{Text: x.Role}, {Text: x.Entrant}, {Text: eloCell(float64(x.Rating)), Num: true},
				{Text: fmt.Sprintf("[%s, %s]", eloCell(float64(x.CI95[0])), eloCell(float64(x.CI95[1]))), Num: true},
				{Text: strconv.FormatFloat(x.Games, 'g', -1, 64), Num: true}})
		}
		if len(rt.Rows) > 0 {
			s.Blocks = append(s.Blocks, block{Table: rt})
		}
		for _, role := range []string{agents.RoleProvider, agents.RoleClient} {
			eb := &plots.ErrorBars{Title: fmt.Sprintf("%s: %s ratings", r.Name, role), YLabel: "rating (Elo scale)", Points: true}
			se := plots.ErrSeries{Name: ""}
			for _, x := range r.Ratings {
				if x.Role != role {
					continue
				}
				i := float64(len(eb.X))
				eb.X = append(eb.X, i)
				eb.XTicks = append(eb.XTicks, plot.Tick{Value: i, Label: x.Entrant})
				se.Y = append(se.Y, float64(x.Rating))
				se.Lo = append(se.Lo, float64(x.CI95[0]))
				se.Hi = append(se.Hi, float64(x.CI95[1]))
			}
			if len(eb.X) == 0 {
				continue
			}
			eb.Series = []plots.ErrSeries{se}
			fig, err := b.figure("tournament-"+r.Name+"-ratings-"+role, role+" ratings",
				fmt.Sprintf("The %s entrants' ratings with their 95%% bootstrap intervals.", role), eb.Save)
			if err != nil {
				return nil, err
			}
			s.Blocks = append(s.Blocks, fig)
		}
		heat := func(name, title, caption string, rows, cols []string, get func(row, col string) float64) error {
			h := &plots.Heatmap{Title: title, Rows: rows, Cols: cols, Format: pct}
			any := false
			for _, row := range rows {
				var vals []float64
				for _, c := range cols {
					v := get(row, c)
					any = any || !math.IsNaN(v)
					vals = append(vals, v)
				}
				h.Values = append(h.Values, vals)
			}
			if !any {
				return nil
			}
			fig, err := b.figure(name, title, caption, h.Save)
			if err != nil {
				return err
			}
			s.Blocks = append(s.Blocks, fig)
			return nil
		}
		if len(r.HeadToHead) > 0 {
			for _, side := range []string{agents.RoleProvider, agents.RoleClient} {
				err := heat("tournament-"+r.Name+"-h2h-"+side, fmt.Sprintf("%s: head-to-head, %s cumulative return (%%)", r.Name, side),
					fmt.Sprintf("Head-to-head payoff matrix: rows the provider entrant, columns the client entrant; each cell the %ss' mean per-agent cumulative return.", side),
					r.Providers, r.Clients, func(row, col string) float64 { return payoffOf(r.HeadToHead, row, col, side, cr) })
				if err != nil {
					return nil, err
				}
			}
		}
		for _, role := range []string{agents.RoleProvider, agents.RoleClient} {
			rows, cols := r.Providers, r.Clients
			if role == agents.RoleClient {
				rows, cols = r.Clients, r.Providers
			}
			var mine []tournament.Cell
			for _, c := range r.Mixed {
				if c.Role == role {
					mine = append(mine, c)
				}
			}
			if len(mine) == 0 {
				continue
			}
			err := heat("tournament-"+r.Name+"-mixed-"+role, fmt.Sprintf("%s: mixed %ss, %s", r.Name, role, r.RatingMetric),
				fmt.Sprintf("Mixed populations: rows the %s entrants sharing one market, columns their opponent; each cell an entrant's mean per-agent %s there.", role, r.RatingMetric),
				rows, cols, func(row, col string) float64 { return payoffOf(mine, row, col, "", r.RatingMetric) })
			if err != nil {
				return nil, err
			}
		}
		if len(r.Compare) > 0 {
			ct := &table{Caption: fmt.Sprintf("Tournament %s: paired differences (compare.csv), per episode, with Student-t 95%% intervals.", r.Name),
				Head: []string{"matchup", "entrant", "opponent", "side", "metric", "mean", "95% CI", "n"}}
			for _, c := range r.Compare {
				f := num
				if c.Metric == cr {
					f = func(x float64) string { return pct(x) + " pp" }
				}
				ct.Rows = append(ct.Rows, []cell{{Text: c.Kind}, {Text: c.Entrant}, {Text: orDash(c.Opponent)}, {Text: orDash(c.Side)}, {Text: c.Metric},
					{Text: f(float64(c.Value.Mean)), Num: true},
					{Text: fmt.Sprintf("[%s, %s]", f(float64(c.Value.CI95[0])), f(float64(c.Value.CI95[1]))), Num: true},
					{Text: strconv.Itoa(int(c.Value.N)), Num: true}})
			}
			s.Blocks = append(s.Blocks, block{Table: ct})
		}
	}
	return s, nil
}
