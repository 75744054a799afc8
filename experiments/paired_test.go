package experiments

import (
	"math"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestPaired checks a paired difference against numbers worked by hand: differences
// [1, 0, 2] (the NaN pair dropped), mean 1, sd 1, t(0.975, 2) = 4.302652729749464 from a
// table, half-width 4.302652729749464/sqrt(3) = 2.484137711750331.
func TestPaired(t *testing.T) {
	p := Paired([]float64{1, 2, 3, math.NaN(), 9}, []float64{0, 2, 1, 5})
	if p.N != 3 || p.Dropped != 1 || p.Wins != 2 || p.Ties != 1 || p.Losses != 0 {
		t.Fatalf("counts %+v", p)
	}
	const hw = 2.484137711750331
	if !near(p.Mean, 1, 1e-15) || !near(p.SD, 1, 1e-15) || !near(p.Lo, 1-hw, 1e-12) || !near(p.Hi, 1+hw, 1e-12) {
		t.Fatalf("interval %+v, want 1 ± %v", p.Interval, hw)
	}
	// Differences 1 and 2: mean 1.5, sd sqrt(0.5), t(0.975, 1) = 12.706204736174698,
	// half-width 6.353102368087349: [-4.853, 7.853], not above zero though both won.
	if q := Paired([]float64{2, 3}, []float64{1, 1}); q.Wins != 2 || q.Above() || !near(q.Lo, 1.5-6.353102368087349, 1e-12) {
		t.Fatalf("%+v", q)
	}
	if q := Paired([]float64{2, 3, 2.5}, []float64{1, 1, 1}); !q.Above() {
		t.Fatalf("1, 2, 1.5 over three episodes: %+v is not above zero", q)
	}
	if e := Paired(nil, nil); e.N != 0 || !math.IsNaN(e.Mean) {
		t.Fatalf("empty: %+v", e)
	}
}

// TestPoolSeeds checks the two-stage pooling by hand: seed means 1 and 0.5 -> mean 0.75,
// sd 0.3535533905932738, t(0.975, 1) = 12.706204736174698, half-width 3.1765511840436744.
func TestPoolSeeds(t *testing.T) {
	a := Paired([]float64{2, 2, 2}, []float64{1, 1, 1})       // +1 every episode: interval [1, 1]
	b := Paired([]float64{1, 1.5, 1}, []float64{1, 0.5, 0.5}) // 0, 1, 0.5
	p := PoolSeeds([]PairedDiff{a, b})
	if p.N != 2 || p.Episodes != 6 || p.Wins != 5 || p.Ties != 1 || p.SeedsAbove != 1 {
		t.Fatalf("counts %+v (a %+v, b %+v)", p, a, b)
	}
	const hw = 3.1765511840436744
	if !near(p.Mean, 0.75, 1e-15) || !near(p.Lo, 0.75-hw, 1e-12) || !near(p.Hi, 0.75+hw, 1e-12) {
		t.Fatalf("pooled %+v", p.Interval)
	}
}

// TestCompare checks the pairing of baseline groups with the trained groups they stood
// in for, on a hand-made result.
func TestCompare(t *testing.T) {
	vals := func(cr ...float64) [][]float64 {
		out := make([][]float64, len(EvalMetrics))
		for i := range out {
			out[i] = cr
		}
		return out
	}
	res := &EvalResult{Samples: []GroupSamples{
		{Name: "providers", Group: "providers", Role: "provider", Learning: true, Values: vals(3, 4)},
		{Name: "clients", Group: "clients", Role: "client", Values: vals(9, 9)},
		{Name: "providers/random", Group: "providers", Baseline: "random", Role: "provider", Values: vals(1, 1)},
		{Name: "providers/boulware", Group: "providers", Baseline: "boulware", Role: "provider", Values: vals(3, 5)},
	}}
	cs := Compare(res)
	if len(cs) != 2 || cs[0].Baseline != "random" || cs[1].Name != "providers/boulware" {
		t.Fatalf("comparisons %+v", cs)
	}
	d := cs[0].Metric(MetricCumulativeReturn)
	if d.Diff.Mean != 2.5 || d.Diff.Wins != 2 || d.Trained.Mean != 3.5 || d.Baseline.Mean != 1 {
		t.Fatalf("random: %+v", d)
	}
	if d := cs[1].Metric(MetricSharpe).Diff; d.Mean != -0.5 || d.Ties != 1 || d.Losses != 1 {
		t.Fatalf("boulware: %+v", d)
	}
	if s := Strongest(cs, "providers", MetricCumulativeReturn); s != 1 {
		t.Fatalf("strongest %d, want boulware (mean 4)", s)
	}
	if s := Strongest(cs, "clients", MetricCumulativeReturn); s != -1 {
		t.Fatalf("strongest of a group without comparisons: %d", s)
	}
}

// TestVariantsTargeted checks --baselines entries aimed at one learning group.
func TestVariantsTargeted(t *testing.T) {
	pop := agents.Population{
		{Name: "providers", Role: agents.RoleProvider, Kind: agents.KindPPO, Share: 1},
		{Name: "clients", Role: agents.RoleClient, Kind: agents.KindPPO, Share: 1},
	}
	vs, err := variants(pop, []string{"providers=boulware", "clients=budget", "random"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs[1:] {
		var kinds []string
		for _, g := range v.pop {
			kinds = append(kinds, g.Kind+":"+g.Strategy)
		}
		got = append(got, strings.Join(v.names, "+")+"="+strings.Join(kinds, ","))
	}
	want := []string{
		"providers/boulware=scripted:boulware,ppo:",
		"clients/budget=ppo:,scripted:budget",
		"providers/random+clients/random=random:,random:",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("variants\n got %v\nwant %v", got, want)
	}
	for _, bad := range [][]string{
		{"sellers=boulware"},               // not a group
		{"providers=budget"},               // does not fit
		{"=boulware"},                      // no group
		{"providers=haggler"},              // unknown
		{"boulware", "providers=boulware"}, // both report providers/boulware
		{"clients=cost-plus"},              // does not fit
	} {
		if _, err := variants(pop, bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	if got := strings.Join(BaselinesFor(agents.RoleClient), ","); strings.Contains(got, "cost-plus") || !strings.Contains(got, "budget") || !strings.Contains(got, "random") {
		t.Errorf("client baselines %s", got)
	}
}
