package data

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// trace runs a world of cfg for n ticks and returns every column's values.
func trace(t *testing.T, cfg Config, seed uint64, n int) (*World, [][]float64) {
	t.Helper()
	w, err := New(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(w.Columns()))
	for k := 0; k < n; k++ {
		if k > 0 {
			w.Step()
		}
		for i, x := range w.Values(nil) {
			out[i] = append(out[i], x)
		}
	}
	return w, out
}

func scenario(t *testing.T, name string) Config {
	t.Helper()
	c := DefaultConfig()
	c.Scenario.Name = name
	return c
}

// sameExcept checks that every column but those listed is identical to the baseline.
func sameExcept(t *testing.T, w *World, base, got [][]float64, changed ...int) {
	t.Helper()
	for i := range base {
		skip := false
		for _, c := range changed {
			skip = skip || c == i
		}
		if skip {
			continue
		}
		for k := range base[i] {
			if base[i][k] != got[i][k] {
				t.Errorf("column %s changed at tick %d: %g vs baseline %g", w.Columns()[i].Name, k, got[i][k], base[i][k])
				break
			}
		}
	}
}

func TestScenarios(t *testing.T) {
	const n = 2016 // a week
	def := DefaultConfig()
	bw, base := trace(t, def, 7, n)
	if bw.Market() != def.Market {
		t.Fatalf("baseline market params %+v, want the defaults %+v", bw.Market(), def.Market)
	}

	t.Run("baseline", func(t *testing.T) {
		w, got := trace(t, scenario(t, ScenarioBaseline), 7, n)
		sameExcept(t, w, base, got)
	})

	t.Run("token-crash", func(t *testing.T) {
		cfg := scenario(t, ScenarioTokenCrash)
		at := int(cfg.Scenario.TokenCrash.AtTick)
		w, got := trace(t, cfg, 7, n)
		// HIVE is exactly the baseline path times 0.5 from the crash tick on: the crash
		// is a jump of the log price, and the random draws are the same.
		for k := 0; k < n; k++ {
			want := 1.0
			if k >= at {
				want = cfg.Scenario.TokenCrash.Factor
			}
			if r := got[ColHIVE][k] / base[ColHIVE][k]; math.Abs(r-want) > 1e-9 {
				t.Fatalf("tick %d: HIVE / baseline = %.12f, want %g", k, r, want)
			}
		}
		sameExcept(t, w, base, got, ColHIVE)
	})

	t.Run("gas-spike", func(t *testing.T) {
		cfg := scenario(t, ScenarioGasSpike)
		at := int(cfg.Scenario.GasSpike.AtTick)
		end := at + int(cfg.DurationTicks(cfg.Scenario.GasSpike.Duration))
		w, got := trace(t, cfg, 7, n)
		for k := 0; k < at; k++ {
			if got[ColL1BaseFee][k] != base[ColL1BaseFee][k] {
				t.Fatalf("tick %d before the spike: L1 fee %g differs from baseline %g", k, got[ColL1BaseFee][k], base[ColL1BaseFee][k])
			}
		}
		// Gas used depends only on demand / base fee, so the 20x demand pulls the base fee
		// to 20x its baseline path; at +12.5% a block it takes ln 20 / ln 1.125 = 25.4
		// blocks (about one tick) to get there. Skip two ticks of ramp and compare the
		// window's mean fee with the baseline's.
		var s, sb float64
		for k := at + 2; k < end; k++ {
			s += got[ColL1BaseFee][k]
			sb += base[ColL1BaseFee][k]
		}
		if r := s / sb; r < 16 || r > 24 {
			t.Errorf("L1 base fee during the spike is %.1fx the baseline, want about %gx", r, cfg.Scenario.GasSpike.Factor)
		}
		// Within two hours after the window the fee is back near the baseline path.
		if r := got[ColL1BaseFee][end+24] / base[ColL1BaseFee][end+24]; r < 0.5 || r > 2 {
			t.Errorf("L1 base fee two hours after the spike is %.2fx the baseline", r)
		}
		// The L2 transaction cost rises with the L1 data fee.
		if got[ColL2Tx][at+10] <= base[ColL2Tx][at+10] {
			t.Errorf("L2 tx cost did not rise with the L1 fee")
		}
		sameExcept(t, w, base, got, ColL1BaseFee, ColL2Tx)
	})

	t.Run("heatwave", func(t *testing.T) {
		cfg := scenario(t, ScenarioHeatwave)
		hw := cfg.Scenario.Heatwave
		w, got := trace(t, cfg, 7, n)
		li, ok := w.Location(hw.Location)
		if !ok {
			t.Fatalf("no location %q", hw.Location)
		}
		col := colElec + li
		end := hw.AtTick + cfg.DurationTicks(hw.Duration)
		for k := 0; k < n; k++ {
			want := 1.0
			if int64(k) >= hw.AtTick && int64(k) < end {
				want = hw.Factor
			}
			if r := got[col][k] / base[col][k]; math.Abs(r-want) > 1e-12 {
				t.Fatalf("tick %d: %s price / baseline = %g, want %g", k, hw.Location, r, want)
			}
		}
		sameExcept(t, w, base, got, col)
	})

	t.Run("provider-churn", func(t *testing.T) {
		cfg := scenario(t, ScenarioProviderChurn)
		w, got := trace(t, cfg, 7, n)
		if w.Market().ProviderChurnPerDay != cfg.Scenario.ProviderChurn.PerDay || w.Market().DemandMultiplier != 1 {
			t.Errorf("market params %+v, want churn %g and demand 1", w.Market(), cfg.Scenario.ProviderChurn.PerDay)
		}
		sameExcept(t, w, base, got)
	})

	t.Run("demand-surge", func(t *testing.T) {
		cfg := scenario(t, ScenarioDemandSurge)
		w, got := trace(t, cfg, 7, n)
		if w.Market().DemandMultiplier != cfg.Scenario.DemandSurge.Multiplier || w.Market().ProviderChurnPerDay != 0 {
			t.Errorf("market params %+v, want demand x%g and no churn", w.Market(), cfg.Scenario.DemandSurge.Multiplier)
		}
		sameExcept(t, w, base, got)
	})
}

func TestApplyScenarioPure(t *testing.T) {
	c := DefaultConfig()
	c.Shocks = append(c.Shocks, Shock{Series: "eth", AtTick: 3, Factor: 0.9})
	out, err := ApplyScenario(c, ScenarioTokenCrash)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Shocks) != 1 || len(out.Shocks) != 2 {
		t.Fatalf("input shocks %d (want 1, unchanged), output %d (want 2)", len(c.Shocks), len(out.Shocks))
	}
	if out.Shocks[1].Series != "hive" || out.Shocks[1].Factor != 0.5 || out.Scenario.Name != ScenarioTokenCrash {
		t.Errorf("overlay %+v, want a hive shock of 0.5", out.Shocks[1])
	}
	again, err := ApplyScenario(out, ScenarioTokenCrash)
	if err != nil || len(again.Shocks) != 2 {
		t.Errorf("applying twice: %d shocks, err %v; want idempotent", len(again.Shocks), err)
	}
	if _, err := ApplyScenario(out, ScenarioGasSpike); err == nil {
		t.Errorf("stacking a second scenario gave no error")
	}
	out2, _ := ApplyScenario(c, ScenarioDemandSurge)
	if c.Market.DemandMultiplier != 1 || out2.Market.DemandMultiplier != 3 {
		t.Errorf("demand multiplier: input %g (want 1), output %g (want 3)", c.Market.DemandMultiplier, out2.Market.DemandMultiplier)
	}
}

func TestUnknownScenario(t *testing.T) {
	_, err := ApplyScenario(DefaultConfig(), "meteor")
	if !errors.Is(err, ErrUnknownScenario) {
		t.Fatalf("err = %v, want ErrUnknownScenario", err)
	}
	for _, s := range Scenarios() {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not list %q", err, s)
		}
	}
	c := DefaultConfig()
	c.Scenario.Name = "meteor"
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "scenario.name: unknown scenario \"meteor\" (valid: baseline, token-crash") {
		t.Errorf("Validate: %v", err)
	}
}
