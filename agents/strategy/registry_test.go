package strategy

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

func TestNames(t *testing.T) {
	want := []string{"accepter", "rejecter", "kalman", "boulware", "conceder", "tit-for-tat",
		"tit-for-tat-random", "tit-for-tat-avg", "cost-plus", "budget", "random"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	Names()[0] = "mutated"
	if Names()[0] != "accepter" {
		t.Fatal("Names returned the registry's own slice")
	}
	for _, name := range want {
		s, err := ByName(name, Params{Rand: rng.New(1, name)})
		if err != nil {
			t.Fatalf("ByName(%q): %v", name, err)
		}
		if s.Name() != name {
			t.Errorf("ByName(%q).Name() = %q", name, s.Name())
		}
		// Each call makes a new instance (no state shared between agents); the two naive
		// strategies are empty structs, whose pointers Go may make equal.
		s2, _ := ByName(name, Params{Rand: rng.New(1, name)})
		if s == s2 && name != "accepter" && name != "rejecter" {
			t.Errorf("ByName(%q) returned the same instance twice", name)
		}
	}
}

func TestByNameErrors(t *testing.T) {
	_, err := ByName("greedy", Params{})
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown name: got %v", err)
	}
	for _, name := range Names() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list %q", err, name)
		}
	}
	for _, name := range []string{"random", "tit-for-tat-random"} {
		if _, err := ByName(name, Params{}); err == nil || !strings.Contains(err.Error(), "rand:") {
			t.Errorf("%s without Rand: got %v", name, err)
		}
	}
	cases := []struct {
		name   string
		values map[string]float64
		want   []string
	}{
		{"boulware", map[string]float64{"bta": 1}, []string{"bta: unknown parameter of boulware (valid: kappa, beta, exponential)"}},
		{"accepter", map[string]float64{"x": 1}, []string{"x: unknown parameter of accepter (valid: none)"}},
		{"conceder", map[string]float64{"beta": -1, "kappa": 2}, []string{"kappa:", "beta:"}},
		{"conceder", map[string]float64{"exponential": 0.5}, []string{"exponential:"}},
		{"tit-for-tat", map[string]float64{"delta": 1.5}, []string{"delta: must be an integer"}},
		{"tit-for-tat-avg", map[string]float64{"gamma": 0}, []string{"gamma:"}},
		{"cost-plus", map[string]float64{"margin": 0.01}, []string{"margin:"}},
		{"budget", map[string]float64{"open_fraction": 2}, []string{"open_fraction:"}},
		{"kalman", map[string]float64{"r": 0, "zz": 1, "aa": 1}, []string{"aa: unknown", "zz: unknown"}},
	}
	for _, c := range cases {
		_, err := ByName(c.name, Params{Values: c.values, Rand: rng.New(1, "x")})
		if err == nil {
			t.Errorf("%s %v: accepted", c.name, c.values)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %v: error %q lacks %q", c.name, c.values, err, w)
			}
		}
		// The error text does not depend on map iteration order.
		for i := 0; i < 20; i++ {
			_, again := ByName(c.name, Params{Values: c.values, Rand: rng.New(1, "x")})
			if again.Error() != err.Error() {
				t.Fatalf("%s: error changed between calls:\n%v\n%v", c.name, err, again)
			}
		}
	}
}

func TestByNameParams(t *testing.T) {
	s, err := ByName("conceder", Params{Values: map[string]float64{"beta": 3, "kappa": 0.2, "exponential": 1}})
	if err != nil {
		t.Fatal(err)
	}
	td := s.(*TimeDependent)
	if td.Beta != 3 || td.K != 0.2 || td.Family != Exponential || td.Name() != "conceder" {
		t.Errorf("got %+v", td)
	}
	s, err = ByName("kalman", Params{Values: map[string]float64{"prior": 2, "prior_var": 0.5, "q": 0.1, "r": 0.2, "tolerance": 0.03}})
	if err != nil {
		t.Fatal(err)
	}
	k := s.(*KalmanValuation)
	if k.Prior != 2 || k.PriorVar != 0.5 || k.ProcessNoise != 0.1 || k.MeasurementNoise != 0.2 || k.Tolerance != 0.03 {
		t.Errorf("got %+v", k)
	}
	if _, ok := s.(Observer); !ok {
		t.Error("kalman is not an Observer")
	}
	s, err = ByName("tit-for-tat-random", Params{Values: map[string]float64{"delta": 3, "m": 0.5}, Rand: rng.New(1, "x")})
	if err != nil {
		t.Fatal(err)
	}
	if tt := s.(*TitForTat); tt.Delta != 3 || tt.M != 0.5 || tt.Kind != RandomAbsolute {
		t.Errorf("got %+v", tt)
	}
	s, _ = ByName("cost-plus", Params{Values: map[string]float64{"margin": 0.3, "min_margin": 0.1}})
	if c := s.(*CostPlus); c.Margin != 0.3 || c.MinMargin != 0.1 {
		t.Errorf("got %+v", c)
	}
	s, _ = ByName("budget", Params{Values: map[string]float64{"open_fraction": 0.7}})
	if b := s.(*BudgetAware); b.OpenFraction != 0.7 {
		t.Errorf("got %+v", b)
	}
	s, _ = ByName("tit-for-tat-avg", Params{Values: map[string]float64{"gamma": 4}})
	if tt := s.(*TitForTat); tt.Gamma != 4 || tt.Kind != Averaged {
		t.Errorf("got %+v", tt)
	}
}
