package agents

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/market"
)

func TestLeagueValidate(t *testing.T) {
	base := func() Population {
		return Population{
			{Name: "p", Role: RoleProvider, Kind: KindPPO, Share: 0.5},
			{Name: "pool", Role: RoleProvider, Kind: KindLeague, Share: 0.5, League: &LeagueConfig{Pool: []PoolEntry{
				{Snapshot: "p", Every: 5}, {Strategy: "boulware"}, {Strategy: RandomLegal}, {Checkpoint: "runs/x/checkpoints/p-latest.safetensors"},
			}}},
			{Name: "c", Role: RoleClient, Kind: KindScripted, Strategy: "budget", Share: 1},
		}
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("valid league: %v", err)
	}
	neg := -1.0
	cases := []struct {
		name   string
		change func(p Population)
		path   string
		msg    string
	}{
		{"no pool", func(p Population) { p[1].League = nil }, "[1].league.pool", "at least one"},
		{"sampling", func(p Population) { p[1].League.Sampling = "greedy" }, "[1].league.sampling", "uniform or prioritized"},
		{"two set", func(p Population) { p[1].League.Pool[1].Checkpoint = "x" }, "[1].league.pool[1].snapshot", "exactly one"},
		{"none set", func(p Population) { p[1].League.Pool[1].Strategy = "" }, "[1].league.pool[1].snapshot", "exactly one"},
		{"unknown group", func(p Population) { p[1].League.Pool[0].Snapshot = "q" }, "[1].league.pool[0].snapshot", "not a group"},
		{"scripted source", func(p Population) { p[1].League.Pool[0].Snapshot = "c" }, "[1].league.pool[0].snapshot", "snapshots are of ppo groups"},
		{"role", func(p Population) {
			p[2] = GroupConfig{Name: "c", Role: RoleClient, Kind: KindPPO, Share: 1}
			p[1].League.Pool[0].Snapshot = "c"
		}, "[1].league.pool[0].snapshot", "plays providers"},
		{"every", func(p Population) { p[1].League.Pool[0].Every = 0 }, "[1].league.pool[0].every", "every >= 1"},
		{"keep", func(p Population) { p[1].League.Pool[0].Keep = -2 }, "[1].league.pool[0].keep", ">= 0"},
		{"every on a strategy", func(p Population) { p[1].League.Pool[1].Every = 3 }, "[1].league.pool[1].every", "snapshot entries"},
		{"duplicate name", func(p Population) { p[1].League.Pool[2].Name = "boulware" }, "[1].league.pool[2].name", "names two pool entries"},
		{"weight", func(p Population) { p[1].League.Pool[1].Weight = &neg }, "[1].league.pool[1].weight", "(0, 1e6]"},
		{"unknown strategy", func(p Population) { p[1].League.Pool[1].Strategy = "haggler" }, "[1].league.pool[1].strategy", "unknown strategy"},
		{"unknown param", func(p Population) { p[1].League.Pool[1].Params = map[string]float64{"zz": 1} }, "[1].league.pool[1].params.zz", "unknown parameter"},
		{"group strategy", func(p Population) { p[1].Strategy = "budget" }, "[1].strategy", "no strategy"},
		{"league on ppo", func(p Population) { p[0].League = &LeagueConfig{} }, "[0].league", "only a league group"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := base()
			c.change(p)
			err := p.Validate()
			found := false
			for _, e := range flattenErr(err) {
				var fe *fieldpath.Error
				if errors.As(e, &fe) && fe.Path == c.path && strings.Contains(fe.Msg, c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("got %v, want path %q with %q", err, c.path, c.msg)
			}
		})
	}
}

// TestPoolSamplerPriorities checks the prioritized probabilities against the rule
// worked by hand, and the moving average.
func TestPoolSamplerPriorities(t *testing.T) {
	s := PoolSampler{Prioritized: true}
	w := []float64{1, 1, 1, 2}
	s.Observe(0, 5)
	s.Observe(0, 1) // 5 + 0.25 (1 - 5) = 4
	s.Observe(1, -1)
	s.Observe(3, 10)
	// Played: 1 (-1, rank 0, f 3/3), 0 (4, rank 1, f 2/3), 3 (10, rank 2, f 1/3);
	// member 2 unplayed, f 1. Weighted: 2/3, 1, 1, 2/3; sum 10/3.
	got := make([]float64, 4)
	s.Probs(w, got)
	want := []float64{0.2, 0.3, 0.3, 0.2}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("probabilities %v, want %v", got, want)
		}
	}
	s.Prioritized = false
	s.Probs(w, got)
	if want := []float64{0.2, 0.2, 0.2, 0.4}; math.Abs(got[3]-want[3]) > 1e-12 || math.Abs(got[0]-want[0]) > 1e-12 {
		t.Fatalf("uniform probabilities %v, want %v", got, want)
	}
	// Sample draws in proportion: 20,000 draws within 4 standard errors.
	r := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, 4)
	const n = 20000
	for range n {
		counts[s.Sample(w, r)]++
	}
	for i, p := range []float64{0.2, 0.2, 0.2, 0.4} {
		if se := math.Sqrt(p * (1 - p) / n); math.Abs(float64(counts[i])/n-p) > 4*se {
			t.Errorf("member %d drawn %d of %d, want p %g", i, counts[i], n, p)
		}
	}
	// Removing a member drops its stats with it.
	s.Prioritized = true
	s.Remove(0)
	s.Probs([]float64{1, 1, 1}, got[:3])
	// Now: old 1 (-1, rank 0, f 2/2), old 2 unplayed (f 1), old 3 (10, rank 1, f 1/2).
	if math.Abs(got[0]-0.4) > 1e-12 || math.Abs(got[2]-0.2) > 1e-12 {
		t.Errorf("after Remove: %v, want [0.4 0.4 0.2]", got[:3])
	}
}

// fixedPolicy answers every row with one action and records the rows it saw.
type fixedPolicy struct {
	a    int32
	seen []int
}

func (f *fixedPolicy) Act(o *Obs, _ *rand.Rand, out []env.Action) error {
	for i := range out {
		out[i] = env.Action{Index: f.a}
		f.seen = append(f.seen, o.EnvIndex[i])
	}
	return nil
}

// TestLeagueActDispatch checks that each environment's rows go to its picked member
// and the actions come back in row order.
func TestLeagueActDispatch(t *testing.T) {
	a, b := &fixedPolicy{a: 1}, &fixedPolicy{a: 2}
	l := &League{}
	l.Add("a", a)
	l.Add("b", b)
	l.SetPicks([]int{1, 0, 1})
	var o Obs
	o.Reset(0, 0)
	for _, k := range []int{0, 1, 2, 1, 0} {
		o.N++
		o.Decisions = append(o.Decisions, market.Decision{})
		o.Envs = append(o.Envs, nil)
		o.EnvIndex = append(o.EnvIndex, k)
		o.Entry = append(o.Entry, o.N-1)
	}
	out := make([]env.Action, o.N)
	if err := l.Act(&o, nil, out); err != nil {
		t.Fatal(err)
	}
	for i, k := range o.EnvIndex {
		if want := int32(2 - boolInt(k == 1)); out[i].Index != want {
			t.Errorf("row %d (env %d): action %d, want %d", i, k, out[i].Index, want)
		}
	}
	if len(a.seen) != 2 || len(b.seen) != 3 {
		t.Errorf("member a saw envs %v, b %v", a.seen, b.seen)
	}
	l.SetPicks([]int{0})
	if err := l.Act(&o, nil, out); err == nil {
		t.Error("rows of an environment with no pick: no error")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
