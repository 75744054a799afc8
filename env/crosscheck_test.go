package env

import (
	"errors"
	"testing"

	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/internal/fieldpath"
)

// TestValidateScenarioKnobs: a churn rate or demand multiplier that market.New would
// refuse (and that used to exhaust memory in a few ticks) is a config error at the key
// the value comes from, under the scenario that applies it.
func TestValidateScenarioKnobs(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *Settings)
		path string // "" for valid
	}{
		{"defaults", func(*Settings) {}, ""},
		{"market churn", func(s *Settings) { s.World.Market.ProviderChurnPerDay = 1e12 }, "world.market.provider_churn_per_day"},
		{"market demand", func(s *Settings) { s.World.Market.DemandMultiplier = 1e12 }, "world.market.demand_multiplier"},
		{"churn scenario", func(s *Settings) {
			s.World.Scenario.Name = data.ScenarioProviderChurn
			s.World.Scenario.ProviderChurn.PerDay = 1000
		}, "world.scenario.provider_churn.per_day"},
		{"surge scenario", func(s *Settings) {
			s.World.Scenario.Name = data.ScenarioDemandSurge
			s.World.Scenario.DemandSurge.Multiplier = 1e9
		}, "world.scenario.demand_surge.multiplier"},
		// A scenario's own knob only counts when that scenario runs.
		{"surge knob, baseline", func(s *Settings) { s.World.Scenario.DemandSurge.Multiplier = 1e9 }, ""},
	} {
		s := DefaultSettings()
		tc.edit(&s)
		err := s.Validate()
		var fe *fieldpath.Error
		switch {
		case tc.path == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.path != "" && (!errors.As(err, &fe) || fe.Path != tc.path):
			t.Errorf("%s: Validate = %v, want one error at %s", tc.name, err, tc.path)
		}
	}
}
