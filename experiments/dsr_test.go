package experiments

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents"
)

// dsrPricingConfig is the tiny market with its providers a dsr pricing group (boulware
// negotiating, group exploration, an hour's periods).
func dsrPricingConfig(t *testing.T) Config {
	t.Helper()
	cfg := tinyConfig(t)
	cfg.Population[0] = agents.GroupConfig{Name: "providers", Role: agents.RoleProvider, Kind: agents.KindDSR, Strategy: "boulware", Share: 1}
	cfg.Training.DSR.Decides, cfg.Training.DSR.Explore = agents.DSRDecidesPricing, agents.DSRExploreGroup
	cfg.Training.DSR.Window, cfg.Training.DSR.LearningRate, cfg.Training.DSR.MaxGradNorm = 0, 0.03, 1
	cfg.Training.DSR.Features = []string{"market_rel"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A dsr pricing run is deterministic and resumes bit-identically from an interrupted
// iteration (the checkpoint keeps the perturbations and decisions in flight), its
// checkpoint evaluates (greedy, twice the same), and a config whose dsr group decides
// the treasury refuses it, naming the group.
func TestTrainDSRPricing(t *testing.T) {
	cfg := dsrPricingConfig(t)
	root := t.TempDir()
	a, c := filepath.Join(root, "a"), filepath.Join(root, "c")
	res, err := Train(context.Background(), cfg, TrainOptions{Out: a})
	if err != nil {
		t.Fatal(err)
	}
	if l := res.Trained.DSR["providers"]; l == nil || l.Steps() == 0 || !l.Config().Score() {
		t.Fatalf("trained learner %+v", l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Train(ctx, cfg, TrainOptions{Out: c, Progress: func(r IterationReport) {
		if r.Iteration == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := Train(context.Background(), cfg, TrainOptions{Out: c, Resume: true}); err != nil {
		t.Fatal(err)
	}
	fa, fc := readDir(t, a), readDir(t, c)
	for _, name := range []string{"checkpoints/providers-latest.safetensors", "curves.csv"} {
		if len(fa[name]) == 0 || !bytes.Equal(fa[name], fc[name]) {
			t.Errorf("%s of the resumed run differs from the uninterrupted run's", name)
		}
	}

	tr, err := LoadTrained(a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := tr.DSR["providers"].Theta()
	eval := func(episodes int) *EvalResult {
		t.Helper()
		tr, err := LoadTrained(a, cfg)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Eval(context.Background(), cfg, EvalOptions{Episodes: episodes, Seed: 100, Baselines: []string{"boulware"}, Trained: tr, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1, r2 := eval(3), eval(3)
	if !reflect.DeepEqual(r1.Doc, r2.Doc) {
		t.Error("two evaluations of the same checkpoint differ")
	}
	if g := r1.Doc.Groups[0]; g.Name != "providers" || g.Kind != "dsr" {
		t.Fatalf("first group %+v", g)
	}
	// The factors decided: one per agent and period of the held-out episodes, within
	// [e^-m, e^m], their summary ordered.
	if len(r1.Pricing) != 1 {
		t.Fatalf("pricing summaries %+v", r1.Pricing)
	}
	ps := r1.Pricing[0]
	lo, hi := math.Exp(-agents.DefaultDSRMaxMarkup), math.Exp(agents.DefaultDSRMaxMarkup)
	// At most episodes x periods x providers: the second round's spare environment (3
	// episodes on 2) is not counted.
	periods := 3 * int(math.Ceil(float64(cfg.Env.EpisodeTicks)/agents.DefaultDSRPeriodTicks)) * 6
	if ps.Group != "providers" || ps.Decisions == 0 || ps.Decisions > periods ||
		!(lo <= ps.P10 && ps.P10 <= ps.P50 && ps.P50 <= ps.P90 && ps.P90 <= hi && lo <= ps.Mean && ps.Mean <= hi) {
		t.Errorf("pricing summary %+v (at most %d decisions in [%g, %g])", ps, periods, lo, hi)
	}

	if !reflect.DeepEqual(tr.DSR["providers"].Theta(), before) {
		t.Error("loading changed the weights")
	}

	treasury := cfg
	treasury.Training.DSR = agents.DSRSettings{Config: cfg.Training.DSR.Config}
	treasury.Training.DSR.Window = 8
	if _, err := LoadTrained(a, treasury); err == nil || !strings.Contains(err.Error(), "group providers") || !strings.Contains(err.Error(), "decides pricing") {
		t.Errorf("a pricing checkpoint under a treasury config: %v", err)
	}
}
