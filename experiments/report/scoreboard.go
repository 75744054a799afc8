package report

import (
	"fmt"
	"strconv"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/scoreboard"
	"github.com/hivegym/hivegym/internal/jsonfloat"
)

// The action histograms of eval (actions.csv) and the scoreboard (scoreboard.json, in
// the output directory of `hivegym scoreboard`).
const (
	fileActions    = "actions.csv"
	fileScoreboard = scoreboard.FileJSON
)

// actionRow is one row of actions.csv.
type actionRow struct {
	Group, Action string
	Index         int64
	Count         int64
	Share         float64
}

func parseActions(file string, b []byte) ([]actionRow, error) {
	var out []actionRow
	err := csvTable(file, b, []string{"group", "action", "index", "count", "share"}, nil, func(get func(string) (string, bool), line int) error {
		var r actionRow
		var err error
		r.Group, _ = get("group")
		r.Action, _ = get("action")
		if r.Group == "" || r.Action == "" {
			return fileErr(file, line, "a row needs a group and an action")
		}
		s, _ := get("index")
		if r.Index, err = parseInt(file, line, "index", s); err != nil {
			return err
		}
		s, _ = get("count")
		if r.Count, err = parseInt(file, line, "count", s); err != nil {
			return err
		}
		s, _ = get("share")
		if r.Share, err = parseFloat(file, line, "share", s); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// actions shows each run's action histograms: the actions a trained group chose, with
// their counts and shares, in action order (actions never chosen left out).
func (b *builder) actions() (*section, error) {
	s := &section{ID: "actions", Title: "Actions of the learning groups",
		Intro: []string{"How often each trained learning group chose each discrete action over the evaluation " +
			"episodes (actions.csv; docs/env.md lists the actions). Protocol steps answered by the scripted rules are " +
			"not the policy's and are not counted; actions never chosen are left out."}}
	for _, r := range b.runs {
		if len(r.Actions) == 0 {
			continue
		}
		t := &table{Caption: r.Label + ": actions.csv.", Head: []string{"group", "action", "count", "share"}}
		for _, a := range r.Actions {
			if a.Count == 0 {
				continue
			}
			t.Rows = append(t.Rows, []cell{{Text: a.Group}, {Text: a.Action}, {Text: strconv.FormatInt(a.Count, 10), Num: true},
				{Text: pct(a.Share), Num: true}})
		}
		s.Blocks = append(s.Blocks, block{Table: t})
	}
	if len(s.Blocks) == 0 {
		return nil, nil
	}
	return s, nil
}

func sbNum(m string, x jsonfloat.Float) string {
	if m == experiments.MetricCumulativeReturn {
		if s, ok := jsonfloat.NonFinite(float64(x)); ok {
			return s
		}
		return strconv.FormatFloat(100*float64(x), 'f', 3, 64)
	}
	return num(float64(x))
}

func sbCI(m string, mean jsonfloat.Float, ci [2]jsonfloat.Float) string {
	return fmt.Sprintf("%s [%s, %s]", sbNum(m, mean), sbNum(m, ci[0]), sbNum(m, ci[1]))
}

// scoreboards shows each scoreboard: per cell and learning group, the strongest
// baseline and the paired differences pooled over seeds, then per seed.
func (b *builder) scoreboards() (*section, error) {
	if len(b.boards) == 0 {
		return nil, nil
	}
	cr, sh := experiments.MetricCumulativeReturn, experiments.MetricSharpe
	s := &section{ID: "scoreboard", Title: "Learning scoreboard",
		Intro: []string{"Each trained learning group against the strongest baseline for its role (the one with the highest " +
			"mean cumulative return), on the same held-out episodes: Δ is trained minus baseline episode by episode, " +
			"cumulative return in percentage points. Pooled is the mean over training seeds of each seed's mean difference, " +
			"with the Student-t 95% interval over seeds; the target is a pooled interval above zero on both metrics and at " +
			"least two thirds of the seeds above zero on both on their own (docs/training.md)."}}
	for _, d := range b.boards {
		pooled := &table{Caption: fmt.Sprintf("Scoreboard %s: %d of %d runs done, seeds %v, %d episodes per policy (seed %d); pooled over seeds.",
			d.Scoreboard, d.Done, d.Runs, d.Seeds, d.Episodes, d.EvalSeed),
			Head: []string{"scenario", "scheme", "setup", "group", "strongest", "Δ cum. return (pp)", "Δ Sharpe", "wins", "seeds > 0", "target"}}
		seeds := &table{Caption: fmt.Sprintf("Scoreboard %s per seed, against each group's strongest baseline.", d.Scoreboard),
			Head: []string{"scenario", "scheme", "setup", "group", "seed", "Δ cum. return (pp)", "Δ Sharpe", "wins"}}
		for _, r := range d.Rows {
			lead := []cell{{Text: r.Scenario}, {Text: r.Scheme}, {Text: r.Setup}, {Text: r.Group}}
			bl := r.StrongestRow()
			target := cell{Text: "no"}
			if r.Meets {
				target = cell{Text: "yes"}
			}
			if bl == nil {
				pooled.Rows = append(pooled.Rows, append(lead, cell{Text: "—"}, cell{Text: "—"}, cell{Text: "—"}, cell{Text: "—"},
					cell{Text: fmt.Sprintf("0/%d", len(d.Seeds)), Num: true}, target))
				continue
			}
			p, q := bl.Pooled[cr], bl.Pooled[sh]
			pooled.Rows = append(pooled.Rows, append(append([]cell(nil), lead...), cell{Text: r.Strongest},
				cell{Text: sbCI(cr, p.Mean, p.CI95), Num: true}, cell{Text: sbCI(sh, q.Mean, q.CI95), Num: true},
				cell{Text: fmt.Sprintf("%d/%d", p.Wins, p.Episodes), Num: true},
				cell{Text: fmt.Sprintf("%d/%d", r.SeedsAbove, len(d.Seeds)), Num: true}, target))
			for _, sr := range bl.Seeds {
				row := append(append([]cell(nil), lead...), cell{Text: strconv.FormatUint(sr.Seed, 10), Num: true})
				if sr.Diff == nil {
					row = append(row, cell{Text: sr.Status}, cell{Text: "—"}, cell{Text: "—"})
				} else {
					a, c := sr.Diff[cr], sr.Diff[sh]
					row = append(row, cell{Text: sbCI(cr, a.Mean, a.CI95), Num: true}, cell{Text: sbCI(sh, c.Mean, c.CI95), Num: true},
						cell{Text: fmt.Sprintf("%d/%d", a.Wins, a.N), Num: true})
				}
				seeds.Rows = append(seeds.Rows, row)
			}
		}
		s.Blocks = append(s.Blocks, block{Table: pooled}, block{Table: seeds})
	}
	return s, nil
}
