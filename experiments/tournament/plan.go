package tournament

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/sweep"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"go.yaml.in/yaml/v3"
)

// Curve metric prefix of the market outcomes a run records (group "").
const marketPrefix = "market/"

// Sweep builds the tournament's runs as a sweep: the grid is the matchup's population x
// the scheme x the scenario, one seed (the tournament's). It also checks what needs the
// resolved configs: every scenario and scheme exists, and every trained entrant's
// checkpoint fits the environment of every scheme (observation and action spaces, as
// the environment reports them at run time). Problems name the tournament file, the line
// and the key.
func (t *Tournament) Sweep() (*sweep.Sweep, error) {
	popAxis := sweep.Axis{Key: "population"}
	for _, m := range t.Matchups {
		var n yaml.Node
		if err := n.Encode(m.Pop); err != nil {
			return nil, err
		}
		popAxis.Values = append(popAxis.Values, &n)
		popAxis.Labels = append(popAxis.Labels, m.Label)
	}
	grid := []sweep.Axis{popAxis}
	if len(t.Schemes) > 0 {
		grid = append(grid, scalarAxis("scheme.scheme", t.Schemes))
	}
	if len(t.Scenarios) > 0 {
		grid = append(grid, scalarAxis("world.scenario.name", t.Scenarios))
	}
	sw, err := sweep.New(t.Name, t.File, t.base, grid, []uint64{t.Seed})
	if err != nil {
		return nil, err
	}
	return sw, t.check(sw)
}

func scalarAxis(key string, vals []string) sweep.Axis {
	a := sweep.Axis{Key: key}
	for _, v := range vals {
		a.Values = append(a.Values, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
	}
	return a
}

// check resolves the runs and checks their configs and the checkpoints.
func (t *Tournament) check(sw *sweep.Sweep) error {
	runs := sw.Runs(sweep.Shard{})
	var errs []error
	for _, r := range runs {
		if r.Err == nil {
			continue
		}
		key := "base"
		msg := r.Err.Error()
		switch {
		case strings.Contains(msg, "scenario"):
			key = "scenarios"
		case strings.Contains(msg, "scheme"):
			key = "schemes"
		case strings.Contains(msg, "population"):
			key = "providers"
		}
		errs = append(errs, fieldpath.Errorf(key, "%s: %v", r.Name, r.Err))
		return experiments.LocateNode(t.File, t.root, errors.Join(errs...))
	}
	t.schemesRun, t.scenariosRun = nil, nil
	for _, r := range runs {
		if !slices.Contains(t.schemesRun, r.Config.Scheme.Scheme) {
			t.schemesRun = append(t.schemesRun, r.Config.Scheme.Scheme)
		}
		if !slices.Contains(t.scenariosRun, r.Config.World.Scenario.Name) {
			t.scenariosRun = append(t.scenariosRun, r.Config.World.Scenario.Name)
		}
	}
	seen := map[string]bool{}
	for _, r := range runs {
		sc := r.Config.Scheme.Scheme
		if seen[sc] {
			continue
		}
		seen[sc] = true
		for ri, list := range t.Entrants {
			key := "providers"
			if ri == 1 {
				key = "clients"
			}
			for i, e := range list {
				if !e.Trained {
					continue
				}
				if _, _, err := experiments.ReadPPOCheckpoint(e.CheckpointPath, e.Role, r.Config); err != nil {
					field := "checkpoint"
					if e.Run != "" {
						field = "run"
					}
					errs = append(errs, fieldpath.Errorf(fmt.Sprintf("%s[%d].%s", key, i, field), "under scheme %s: %v", sc, err))
				}
			}
		}
	}
	return experiments.LocateNode(t.File, t.root, errors.Join(errs...))
}

// entrant returns the entrant named name.
func (t *Tournament) entrant(name string) *Resolved {
	for _, list := range t.Entrants {
		for _, e := range list {
			if e.Name == name {
				return e
			}
		}
	}
	return nil
}

// RunFunc returns the function that plays one run (a matchup under a scenario and a
// scheme): it loads the trained entrants' checkpoints, evaluates the population on the
// tournament's held-out episodes (experiments.Eval with the tournament seed, so every
// run plays the same seeds) and records, per entrant and metric, the value of every
// episode as a curve point (iteration = episode index, from 0) and the mean as a group
// metric; the market outcomes per episode go to run-wide curves "market/<name>".
func (t *Tournament) RunFunc() sweep.RunFunc {
	return func(ctx context.Context, run sweep.Run, rec sweep.Recorder) error {
		cfg := run.Config
		tr := &experiments.Trained{PPO: map[string]*ppo.Learner{}}
		for _, g := range cfg.Population {
			if g.Kind != agents.KindPPO {
				continue
			}
			e := t.entrant(g.Name)
			if e == nil {
				return fmt.Errorf("tournament: no entrant %q", g.Name)
			}
			l, err := experiments.LoadPPOCheckpoint(e.CheckpointPath, g.Name, g.Role, cfg)
			if err != nil {
				return err
			}
			tr.PPO[g.Name] = l
		}
		res, err := experiments.Eval(ctx, cfg, experiments.EvalOptions{Episodes: t.Episodes, Seed: t.Seed, Trained: tr, Workers: 1})
		if err != nil {
			return err
		}
		for i, g := range res.Doc.Groups {
			for mi, m := range experiments.EvalMetrics {
				if err := rec.Group(g.Name, g.Role, m, float64(g.Metrics[m].Mean)); err != nil {
					return err
				}
				for ep, v := range res.Samples[i].Values[mi] {
					if err := rec.Curve(ep, g.Name, m, v); err != nil {
						return err
					}
				}
			}
		}
		for _, m := range experiments.MarketMetrics {
			for ep, v := range res.Market[m] {
				if err := rec.Curve(ep, "", marketPrefix+m, v); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// cell identifies a run: its matchup, scheme and scenario.
type cell struct {
	matchup          int
	scheme, scenario string
}

// cells maps the sweep's run ids to their cells.
func (t *Tournament) cells(sw *sweep.Sweep) (map[string]cell, error) {
	out := map[string]cell{}
	for _, r := range sw.Runs(sweep.Shard{}) {
		if r.Err != nil {
			return nil, r.Err
		}
		var names []string
		for _, g := range r.Config.Population {
			names = append(names, g.Name)
		}
		mi := slices.IndexFunc(t.Matchups, func(m Matchup) bool { return slices.Equal(m.Entrants, names) })
		if mi < 0 {
			return nil, fmt.Errorf("tournament: run %s plays no matchup of the file", r.ID)
		}
		out[r.ID] = cell{matchup: mi, scheme: r.Config.Scheme.Scheme, scenario: r.Config.World.Scenario.Name}
	}
	return out, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
