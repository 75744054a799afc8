package data

import (
	"errors"
	"fmt"
	"strings"
)

// Scenario names (specs/world.md, "Scenarios").
const (
	ScenarioBaseline      = "baseline"
	ScenarioTokenCrash    = "token-crash"
	ScenarioGasSpike      = "gas-spike"
	ScenarioHeatwave      = "heatwave"
	ScenarioProviderChurn = "provider-churn"
	ScenarioDemandSurge   = "demand-surge"
)

var scenarioNames = []string{
	ScenarioBaseline, ScenarioTokenCrash, ScenarioGasSpike,
	ScenarioHeatwave, ScenarioProviderChurn, ScenarioDemandSurge,
}

// Scenarios returns the scenario names, baseline first.
func Scenarios() []string { return append([]string(nil), scenarioNames...) }

func isScenario(name string) bool {
	for _, s := range scenarioNames {
		if s == name {
			return true
		}
	}
	return false
}

func unknownScenarioMsg(name string) string {
	return fmt.Sprintf("unknown scenario %q (valid: %s)", name, strings.Join(scenarioNames, ", "))
}

// ErrUnknownScenario is wrapped by the error ApplyScenario returns for a name that is
// not one of Scenarios().
var ErrUnknownScenario = errors.New("unknown scenario")

// ApplyScenario returns c with the named scenario's overlay applied: a pure function of
// its arguments (c is not modified). Applying to a config that already had its scenario
// applied returns it unchanged. The overlays:
//
//   - baseline: nothing.
//   - token-crash: HIVE jumps by scenario.token_crash.factor (0.5: -50%) at at_tick.
//   - gas-spike: L1 gas demand x scenario.gas_spike.factor for its duration; the base
//     fee climbs to it by the EIP-1559 rule (at most +12.5% a block) and falls back.
//   - heatwave: the electricity price of scenario.heatwave.location x factor for its
//     duration.
//   - provider-churn: market.provider_churn_per_day = scenario.provider_churn.per_day.
//   - demand-surge: market.demand_multiplier = scenario.demand_surge.multiplier.
//
// The result's Scenario.Name is name.
func ApplyScenario(c Config, name string) (Config, error) {
	if c.applied {
		if name != c.Scenario.Name {
			return c, fmt.Errorf("scenario %q already applied; cannot apply %q on top", c.Scenario.Name, name)
		}
		return c, nil
	}
	if !isScenario(name) {
		return c, fmt.Errorf("%w %q (valid: %s)", ErrUnknownScenario, name, strings.Join(scenarioNames, ", "))
	}
	out := c
	out.Shocks = append([]Shock(nil), c.Shocks...)
	s := c.Scenario
	switch name {
	case ScenarioTokenCrash:
		out.Shocks = append(out.Shocks, Shock{Series: "hive", AtTick: s.TokenCrash.AtTick, Factor: s.TokenCrash.Factor})
	case ScenarioGasSpike:
		out.Shocks = append(out.Shocks, Shock{Series: "gas.l1", AtTick: s.GasSpike.AtTick, Duration: s.GasSpike.Duration, Factor: s.GasSpike.Factor})
	case ScenarioHeatwave:
		out.Shocks = append(out.Shocks, Shock{Series: "elec." + s.Heatwave.Location, AtTick: s.Heatwave.AtTick,
			Duration: s.Heatwave.Duration, Factor: s.Heatwave.Factor})
	case ScenarioProviderChurn:
		out.Market.ProviderChurnPerDay = s.ProviderChurn.PerDay
	case ScenarioDemandSurge:
		out.Market.DemandMultiplier = s.DemandSurge.Multiplier
	}
	out.Scenario.Name = name
	out.applied = true
	return out, nil
}

// Resolved returns c with its own scenario (c.Scenario.Name) applied: the config that
// New runs and whose Market section the market should read.
func (c Config) Resolved() (Config, error) { return ApplyScenario(c, c.Scenario.Name) }

type shockKindT int

const (
	shockUnknown shockKindT = iota
	shockJump               // eth, hive: permanent jump of the price
	shockPrice              // usdc, elec.*: price multiplier over a window
	shockDemand             // gas.l1, gas.l2: demand multiplier over a window
)

func shockKind(series string, locs []LocationConfig) shockKindT {
	switch series {
	case "eth", "hive":
		return shockJump
	case "usdc":
		return shockPrice
	case "gas.l1", "gas.l2":
		return shockDemand
	}
	if name, ok := strings.CutPrefix(series, "elec."); ok {
		for _, l := range locs {
			if l.Name == name {
				return shockPrice
			}
		}
	}
	return shockUnknown
}

func shockSeriesList(locs []LocationConfig) string {
	s := "eth, hive, usdc, gas.l1, gas.l2"
	for _, l := range locs {
		s += ", elec." + l.Name
	}
	return s
}
