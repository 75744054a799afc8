package agents

import (
	"errors"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/scheme"
)

func TestDefaultPopulationValid(t *testing.T) {
	if err := DefaultPopulation().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestPopulationValidate(t *testing.T) {
	base := func() Population {
		return Population{
			{Name: "a", Role: RoleProvider, Kind: KindPPO, Share: 1},
			{Name: "c", Role: RoleClient, Kind: KindScripted, Strategy: "budget", Share: 1},
		}
	}
	cases := []struct {
		name   string
		change func(p Population) Population
		path   string
		msg    string
	}{
		{"bad name", func(p Population) Population { p[0].Name = "A B"; return p }, "[0].name", "lower-case"},
		{"duplicate", func(p Population) Population { p[1].Name = "a"; return p }, "[1].name", "names two groups"},
		{"role", func(p Population) Population { p[0].Role = "miner"; return p }, "[0].role", "provider or client"},
		{"kind", func(p Population) Population { p[0].Kind = "sac"; return p }, "[0].kind", "must be one of"},
		{"strategy missing", func(p Population) Population { p[1].Strategy = ""; return p }, "[1].strategy", "needs a strategy"},
		{"strategy unknown", func(p Population) Population { p[1].Strategy = "haggler"; return p }, "[1].strategy", "unknown strategy"},
		{"param unknown", func(p Population) Population { p[1].Params = map[string]float64{"x": 1}; return p }, "[1].params.x", "unknown parameter"},
		{"ppo with strategy", func(p Population) Population { p[0].Strategy = "budget"; return p }, "[0].strategy", "has no strategy"},
		{"share and count", func(p Population) Population { p[0].Count = 3; return p }, "[0].count", "not both"},
		{"share range", func(p Population) Population { p[0].Share = 1.5; return p }, "[0].share", "(0, 1]"},
		{"shares sum", func(p Population) Population {
			return append(p, GroupConfig{Name: "b", Role: RoleProvider, Kind: KindRandom, Share: 0.5})
		}, "", "add up to 1"},
		{"opening", func(p Population) Population { p[1].Opening = -1; return p }, "[1].opening", "(0, 100]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.change(base()).Validate()
			if err == nil {
				t.Fatal("no error")
			}
			var fe *fieldpath.Error
			found := false
			for _, e := range flattenErr(err) {
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

func flattenErr(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErr(e)...)
		}
		return out
	}
	return []error{err}
}

func TestAssignmentCountsAndInterleave(t *testing.T) {
	p := Population{
		{Name: "learn", Role: RoleProvider, Kind: KindPPO, Count: 30},
		{Name: "cp", Role: RoleProvider, Kind: KindScripted, Strategy: "cost-plus", Share: 0.5},
		{Name: "rnd", Role: RoleProvider, Kind: KindRandom, Share: 0.5},
		{Name: "c", Role: RoleClient, Kind: KindScripted, Strategy: "budget", Share: 1},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := NewAssignment(p, 100, 7)
	if err != nil {
		t.Fatal(err)
	}
	// 100 providers: 30 learners, the 70 left split in halves: 35 and 35 (by hand).
	got := make([]int, len(p))
	for n := 0; n < 100; n++ {
		got[a.Group(scheme.RoleProvider, n)]++
	}
	if got[0] != 30 || got[1] != 35 || got[2] != 35 || got[3] != 0 {
		t.Errorf("provider counts %v, want [30 35 35 0]", got)
	}
	// Every prefix of 10 agents holds 3 learners (interleaved, not in blocks).
	for lo := 0; lo < 100; lo += 10 {
		n := 0
		for k := lo; k < lo+10; k++ {
			if a.Group(scheme.RoleProvider, k) == 0 {
				n++
			}
		}
		if n != 3 {
			t.Errorf("agents %d..%d hold %d learners, want 3", lo, lo+9, n)
		}
	}
	for n := 0; n < 7; n++ {
		if g := a.Group(scheme.RoleClient, n); g != 3 {
			t.Errorf("client %d in group %d, want 3", n, g)
		}
	}
	if g := a.Group(scheme.RoleSystem, 0); g != -1 {
		t.Errorf("system agent in group %d", g)
	}
	// Deterministic: a second assignment gives the same sequence, joiners included.
	b, _ := NewAssignment(p, 100, 7)
	for n := 120; n >= 0; n-- {
		if a.Group(scheme.RoleProvider, n) != b.Group(scheme.RoleProvider, n) {
			t.Fatalf("agent %d assigned differently", n)
		}
	}
}

func TestAssignmentErrors(t *testing.T) {
	p := Population{{Name: "a", Role: RoleProvider, Kind: KindPPO, Count: 10}}
	if _, err := NewAssignment(p, 5, 0); err == nil {
		t.Error("10 counted of 5 providers: no error")
	}
	if _, err := NewAssignment(p, 20, 0); err == nil {
		t.Error("10 counted of 20 providers with no share: no error")
	}
	if _, err := NewAssignment(p, 10, 3); err == nil {
		t.Error("3 clients without a client group: no error")
	}
}

func TestAgentNumber(t *testing.T) {
	for s, want := range map[string]int{"p-0": 0, "c-17": 17, "p-123": 123, "utility": -1, "x-3": -1, "p-": -1, "c--1": -1} {
		if got := AgentNumber(s); got != want {
			t.Errorf("AgentNumber(%q) = %d, want %d", s, got, want)
		}
	}
}
