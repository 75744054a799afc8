package env

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// Reward kinds (RewardConfig.Kind).
const (
	RewardWealthChange = "wealth_change" // W_t - W_{t-1}, USD
	RewardLogReturn    = "log_return"    // ln(W_t / W_{t-1})
	RewardDSR          = "dsr"           // differential Sharpe ratio (Moody & Saffell 2001, eqs. 14-16)
	RewardDDR          = "ddr"           // differential downside deviation ratio (eqs. 19-24)
)

// Config is the env section of a run config (YAML key "env"). Every key is documented
// in experiments/default.yaml.
type Config struct {
	// EpisodeTicks is the episode's length; every agent is truncated after it.
	EpisodeTicks int `yaml:"episode_ticks"`
	// Reward is the per-tick reward of every agent.
	Reward RewardConfig `yaml:"reward"`
	// Actions is the discrete action space.
	Actions ActionConfig `yaml:"actions"`
	// Forecast is the electricity forecast in providers' observations.
	Forecast ForecastConfig `yaml:"forecast"`
}

// RewardConfig is a reward function with its scale and clip.
type RewardConfig struct {
	// Kind is wealth_change, log_return, dsr or ddr.
	Kind string `yaml:"kind"`
	// Scale multiplies the reward; Clip, when positive, bounds it to [-Clip, Clip]
	// after scaling.
	Scale float64 `yaml:"scale"`
	Clip  float64 `yaml:"clip"`
	// Eta is the adaptation rate of dsr and ddr, in (0, 1).
	Eta float64 `yaml:"eta"`
}

// ActionConfig sets the discrete action space (see docs/env.md for the layout).
type ActionConfig struct {
	// PriceMultipliers are the price actions: a request at the job's value per hour
	// times m, an offer or counter-offer at the incoming price times m.
	PriceMultipliers []float64 `yaml:"price_multipliers"`
	// ContinuousPrice makes every price action use Action.Price as its multiplier,
	// clamped to [MinMultiplier, MaxMultiplier], instead of the grid.
	ContinuousPrice bool    `yaml:"continuous_price"`
	MinMultiplier   float64 `yaml:"min_multiplier"`
	MaxMultiplier   float64 `yaml:"max_multiplier"`
	// ReservationAnchor sets the price an offer's multiplier applies to: true anchors
	// it at the incoming price clamped to the agent's side of its reservation (the larger
	// of it and a provider's cost of the job, the smaller of it and a client's value of
	// it), false at the incoming price itself.
	ReservationAnchor bool `yaml:"reservation_anchor"`
	// SwapFractions are the treasury actions' sizes: a fraction of the balance sold,
	// for each ordered pair of assets.
	SwapFractions []float64 `yaml:"swap_fractions"`
}

// ForecastConfig is an EWMA forecast (data.EWMA) of each location's electricity price
// over the world's trailing window.
type ForecastConfig struct {
	Alpha        float64 `yaml:"alpha"`
	HorizonTicks int     `yaml:"horizon_ticks"`
}

// DefaultConfig returns the env defaults: a week of 5-minute ticks, the wealth-change
// reward, eight price multipliers and two swap sizes.
func DefaultConfig() Config {
	return Config{
		EpisodeTicks: 2016,
		Reward:       RewardConfig{Kind: RewardWealthChange, Scale: 1, Clip: 0, Eta: 0.01},
		Actions: ActionConfig{
			PriceMultipliers: []float64{0.5, 0.7, 0.85, 1.0, 1.1, 1.2, 1.3, 1.5},
			ContinuousPrice:  false, MinMultiplier: 0.25, MaxMultiplier: 4,
			ReservationAnchor: true,
			SwapFractions:     []float64{0.1, 0.5},
		},
		Forecast: ForecastConfig{Alpha: 0.1, HorizonTicks: 12},
	}
}

// Validate checks the section; paths are relative to it.
func (c *Config) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, fieldpath.Errorf(path, format, args...)) }
	if c.EpisodeTicks < 1 || c.EpisodeTicks > 1<<26 {
		add("episode_ticks", "must be in [1, %d], got %d", 1<<26, c.EpisodeTicks)
	}
	switch c.Reward.Kind {
	case RewardWealthChange, RewardLogReturn, RewardDSR, RewardDDR:
	default:
		add("reward.kind", "must be one of %s, %s, %s, %s, got %q", RewardWealthChange, RewardLogReturn, RewardDSR, RewardDDR, c.Reward.Kind)
	}
	if !(c.Reward.Scale > 0) || math.IsInf(c.Reward.Scale, 0) {
		add("reward.scale", "must be a positive number, got %g", c.Reward.Scale)
	}
	if !(c.Reward.Clip >= 0) || math.IsInf(c.Reward.Clip, 0) {
		add("reward.clip", "must be a finite number >= 0 (0: no clip), got %g", c.Reward.Clip)
	}
	if !(c.Reward.Eta > 0 && c.Reward.Eta < 1) {
		add("reward.eta", "must be in (0, 1), got %g", c.Reward.Eta)
	}
	a := &c.Actions
	if len(a.PriceMultipliers) == 0 || len(a.PriceMultipliers) > 64 {
		add("actions.price_multipliers", "must list 1 to 64 multipliers, got %d", len(a.PriceMultipliers))
	}
	for i, x := range a.PriceMultipliers {
		if !(x > 0) || x > 1e3 {
			add(fmt.Sprintf("actions.price_multipliers[%d]", i), "must be in (0, 1000], got %g", x)
		}
	}
	if !(a.MinMultiplier > 0) || a.MinMultiplier > 1e3 {
		add("actions.min_multiplier", "must be in (0, 1000], got %g", a.MinMultiplier)
	} else if !(a.MaxMultiplier >= a.MinMultiplier) || a.MaxMultiplier > 1e3 {
		add("actions.max_multiplier", "must be in [min_multiplier=%g, 1000], got %g", a.MinMultiplier, a.MaxMultiplier)
	}
	if len(a.SwapFractions) > 16 {
		add("actions.swap_fractions", "must list at most 16 fractions, got %d", len(a.SwapFractions))
	}
	for i, x := range a.SwapFractions {
		if !(x > 0 && x <= 1) {
			add(fmt.Sprintf("actions.swap_fractions[%d]", i), "must be in (0, 1], got %g", x)
		}
	}
	if !(c.Forecast.Alpha > 0 && c.Forecast.Alpha <= 1) {
		add("forecast.alpha", "must be in (0, 1], got %g", c.Forecast.Alpha)
	}
	if c.Forecast.HorizonTicks < 1 || c.Forecast.HorizonTicks > 1<<20 {
		add("forecast.horizon_ticks", "must be in [1, %d], got %d", 1<<20, c.Forecast.HorizonTicks)
	}
	return errors.Join(errs...)
}

// Settings are the sections an environment is built from: the world, the scheme, the
// market and the env's own.
type Settings struct {
	World  data.Config
	Scheme scheme.Config
	Market market.EngineConfig
	Env    Config
}

// DefaultSettings returns the default of every section.
func DefaultSettings() Settings {
	return Settings{World: data.DefaultConfig(), Scheme: scheme.DefaultConfig(), Market: market.DefaultEngineConfig(), Env: DefaultConfig()}
}

// Validate checks every section and how they fit together, and returns the errors.Join
// of *fieldpath.Error values with absolute paths ("world.eth.sigma", "scheme.max_rounds",
// "market.providers[0].gpu_model", "env.reward.kind"):
//
//   - scheme.ticks_per_hour must equal one hour over world.tick (the scheme prices per
//     hour in ticks of the world);
//   - every GPU model the market names must be a GPU of the world's catalog, every
//     provider location one of world.locations;
//   - the market's validation delay must be below scheme.arbitration_window and its
//     escrow delay below scheme.offer_window (deadlines must be consistent);
//   - the scenario's provider churn and demand multiplier must be within
//     market.EngineConfig.CheckScenario's bounds (reported at the key they come from:
//     world.market.*, or world.scenario.* for the scenario that sets them).
func (s *Settings) Validate() error {
	var errs []error
	if err := s.World.Validate(); err != nil {
		errs = append(errs, fieldpath.Under("world", err))
	}
	if err := s.Scheme.Validate(); err != nil {
		errs = append(errs, fieldpath.Under("scheme", err))
	}
	if err := s.Market.Validate(); err != nil {
		errs = append(errs, fieldpath.Under("market", err))
	}
	if err := s.Env.Validate(); err != nil {
		errs = append(errs, fieldpath.Under("env", err))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return s.CheckCross()
}

// CheckCross runs only the checks across sections of Validate (for a caller that has
// validated each section itself). Paths are absolute.
func (s *Settings) CheckCross() error {
	var errs []error
	if tick := s.World.Tick; tick > 0 {
		if time.Hour%tick != 0 {
			errs = append(errs, fieldpath.Errorf("world.tick", "must divide one hour (the scheme prices per hour), got %s", tick))
		} else if want := int64(time.Hour / tick); s.Scheme.TicksPerHour != want {
			errs = append(errs, fieldpath.Errorf("scheme.ticks_per_hour", "must be %d to match world.tick %s, got %d", want, tick, s.Scheme.TicksPerHour))
		}
	}
	gpus, err := gpuSpecs(&s.World)
	if err != nil {
		errs = append(errs, fieldpath.Under("world", err))
	} else if err := s.Market.CheckRefs(gpus, locationNames(&s.World)); err != nil {
		errs = append(errs, fieldpath.Under("market", err))
	}
	if err := s.Market.CheckScheme(s.Scheme); err != nil {
		errs = append(errs, fieldpath.Under("market", err))
	}
	// The scenario's knobs against the market and the tick, as market.New will check
	// them, with the path of the key they come from (an unknown scenario is the world
	// section's own error).
	if w, err := s.World.Resolved(); err == nil {
		err := s.Market.CheckScenario(w.Market.ProviderChurnPerDay, w.Market.DemandMultiplier, s.Scheme.TicksPerHour)
		errs = append(errs, scenarioKnobPaths(s.World.Scenario.Name, err))
	}
	return errors.Join(errs...)
}

// scenarioKnobPaths turns market.CheckScenario's relative paths into the keys the values
// came from: the scenario's own key when the scenario sets the knob, else world.market.
func scenarioKnobPaths(scenario string, err error) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range unjoin(err) {
		var fe *fieldpath.Error
		if !errors.As(e, &fe) {
			out = append(out, e)
			continue
		}
		p := "world.market." + fe.Path
		switch {
		case fe.Path == "provider_churn_per_day" && scenario == data.ScenarioProviderChurn:
			p = "world.scenario.provider_churn.per_day"
		case fe.Path == "demand_multiplier" && scenario == data.ScenarioDemandSurge:
			p = "world.scenario.demand_surge.multiplier"
		}
		out = append(out, &fieldpath.Error{Path: p, Msg: fe.Msg})
	}
	return errors.Join(out...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// gpuSpecs lists the GPUs of the world's catalog for the market.
func gpuSpecs(w *data.Config) ([]market.GPUSpec, error) {
	cat, err := data.NewCatalog(w.Catalog)
	if err != nil {
		return nil, err
	}
	var out []market.GPUSpec
	for _, d := range cat.Devices() {
		if d.Kind == data.KindGPU {
			out = append(out, market.GPUSpec{Model: d.Model, MemoryGB: d.MemoryGB, PowerW: d.PowerW})
		}
	}
	return out, nil
}

func locationNames(w *data.Config) []string {
	out := make([]string, len(w.Locations))
	for i, l := range w.Locations {
		out[i] = l.Name
	}
	return out
}
