package market

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
)

// TestChurnJoinThatCannotMintIsAnError: a provider that joins through churn gets its
// wallet minted then; when that mint would overflow an asset's supply the tick fails with
// an error wrapping ErrOverflow (it used to panic), the market refuses to go on until
// Reset, and Reset gives a working market again.
func TestChurnJoinThatCannotMintIsAnError(t *testing.T) {
	s := testSetup()
	s.ChurnPerDay = 100 // about 35 departures (and joins) a tick among 100 providers
	n := 0
	for i := range s.Engine.Providers {
		// 9e7 ETH = 9e16 gwei each: 100 providers hold 9e18 of int64's 9.22e18, so the
		// genesis mints fit and the third join's mint cannot.
		s.Engine.Providers[i].Wallet.ETH = Range{Min: 9e7, Max: 9e7}
		n += s.Engine.Providers[i].Count
	}
	if n != 100 {
		t.Fatalf("the default engine has %d providers; the wallet sizes above assume 100", n)
	}
	m := newTestMarket(t, s)
	exo := testExo()
	if err := m.Reset(1, exo); err != nil {
		t.Fatalf("reset: %v", err)
	}
	pol := NewRandomPolicy(rng.New(1, "policy"))
	var err error
	for k := 0; k < 20 && err == nil; k++ {
		err = m.Step(exo, pol)
	}
	if !errors.Is(err, ErrOverflow) || !strings.Contains(err.Error(), "provider join") {
		t.Fatalf("Step = %v, want a provider join error wrapping ErrOverflow", err)
	}
	if err := m.BeginTick(exo); !errors.Is(err, ErrSequence) {
		t.Fatalf("BeginTick after the failed tick = %v, want ErrSequence", err)
	}
	if err := m.Reset(2, exo); err != nil {
		t.Fatalf("reset after the failure: %v", err)
	}
	checkBooks(t, m)
	if got := len(m.activeAll); got != 100 {
		t.Fatalf("%d active providers after the reset, want 100", got)
	}
}

func TestFloorUnits(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want int64
	}{
		{2.7, 2}, {-2.2, -3}, {0, 0}, {-0.5, -1},
		{9.2e18, 9_200_000_000_000_000_000},
		{0x1p63, math.MaxInt64}, {1e300, math.MaxInt64}, {math.Inf(1), math.MaxInt64},
		{-0x1p63, math.MinInt64}, {-1e300, math.MinInt64}, {math.Inf(-1), math.MinInt64},
		{math.NaN(), 0},
	} {
		if got := floorUnits(c.x); got != c.want {
			t.Errorf("floorUnits(%g) = %d, want %d", c.x, got, c.want)
		}
	}
}

// TestCheckScenario: churn is bounded by one departure per provider per tick (24 x 12 =
// 288 a day with 5-minute ticks), and the demand multiplier by MaxJobsPerDay over the
// largest jobs_per_day.max of the default clients (batch-cpu's 4, so 25000).
func TestCheckScenario(t *testing.T) {
	c := DefaultEngineConfig()
	for _, tc := range []struct {
		churn, demand float64
		bad           []string // paths of the errors, in order
	}{
		{0, 1, nil},
		{288, 25000, nil},
		{288.5, 1, []string{"provider_churn_per_day"}},
		{math.NaN(), 1, []string{"provider_churn_per_day"}},
		{-1, 1, []string{"provider_churn_per_day"}},
		{1e12, 1e12, []string{"provider_churn_per_day", "demand_multiplier"}},
		{0, 25001, []string{"demand_multiplier"}},
		{0, 0, []string{"demand_multiplier"}},
		{0, math.Inf(1), []string{"demand_multiplier"}},
	} {
		err := c.CheckScenario(tc.churn, tc.demand, 12)
		var paths []string
		if err != nil {
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var fe *fieldpath.Error
				if !errors.As(e, &fe) {
					t.Fatalf("churn %g, demand %g: %T is not a *fieldpath.Error", tc.churn, tc.demand, e)
				}
				paths = append(paths, fe.Path)
			}
		}
		if strings.Join(paths, ",") != strings.Join(tc.bad, ",") {
			t.Errorf("churn %g, demand %g: errors at %v, want %v (%v)", tc.churn, tc.demand, paths, tc.bad, err)
		}
	}
}

// TestNewRejectsRunawayScenario: New checks the scenario knobs, so a demand multiplier
// of 1e12 is an error up front instead of trillions of job arrivals a tick.
func TestNewRejectsRunawayScenario(t *testing.T) {
	s := testSetup()
	s.DemandMultiplier = 1e12
	if _, err := New(s); err == nil || !strings.Contains(err.Error(), "demand_multiplier") {
		t.Fatalf("New with demand multiplier 1e12 = %v, want a demand_multiplier error", err)
	}
	s = testSetup()
	s.ChurnPerDay = 1e12
	if _, err := New(s); err == nil || !strings.Contains(err.Error(), "provider_churn_per_day") {
		t.Fatalf("New with churn 1e12 = %v, want a provider_churn_per_day error", err)
	}
}
