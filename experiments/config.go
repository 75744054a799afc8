package experiments

import (
	_ "embed"
	"errors"
	"math"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// defaultYAML is the embedded default config. It is the single place where defaults are
// written down with their documentation; DefaultConfig decodes it, and a test checks it
// against the Go defaults of every section so the two cannot drift apart.
//
//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default config file, comments included, as
// `hivegym config default` prints it.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Config is a whole run's configuration. Every key is documented in default.yaml.
type Config struct {
	// Seed fixes every random stream of the run.
	Seed uint64 `yaml:"seed"`
	// Metrics holds the conventions used when agents are scored.
	Metrics MetricsConfig `yaml:"metrics"`
	// World is the exogenous world: series, hardware catalog, machines, scenarios.
	World data.Config `yaml:"world"`
	// Scheme is the negotiation protocol and its deadlines (package scheme).
	Scheme scheme.Config `yaml:"scheme"`
	// Market is the marketplace: the agent populations and the engine (package market).
	Market market.EngineConfig `yaml:"market"`
	// Env is the gym environment: episode length, rewards, action space (package env).
	Env env.Config `yaml:"env"`
	// Training is how learning groups train: iterations, environments, PPO and DSR
	// hyperparameters, backend (train.go).
	Training TrainingConfig `yaml:"training"`
	// Population maps the market's agents to policy groups (package agents).
	Population agents.Population `yaml:"population"`
}

// Settings returns the sections an environment is built from.
func (c *Config) Settings() env.Settings {
	return env.Settings{World: c.World, Scheme: c.Scheme, Market: c.Market, Env: c.Env}
}

// MetricsConfig holds the scoring conventions of specs/metrics.md.
type MetricsConfig struct {
	// RiskFree is the risk-free return per period, for the Sharpe ratio.
	RiskFree float64 `yaml:"risk_free"`
	// MAR is the minimum acceptable return per period, for downside risk and Sortino.
	MAR float64 `yaml:"mar"`
	// Eta is the adaptation rate of the online differential Sharpe estimator.
	Eta float64 `yaml:"eta"`
}

// Validate checks the metrics section; paths are relative to it.
func (m *MetricsConfig) Validate() error {
	var errs []error
	if !finite(m.RiskFree) {
		errs = append(errs, fieldpath.Errorf("risk_free", "must be a finite number, got %g", m.RiskFree))
	}
	if !finite(m.MAR) {
		errs = append(errs, fieldpath.Errorf("mar", "must be a finite number, got %g", m.MAR))
	}
	if !(m.Eta > 0 && m.Eta < 1) {
		errs = append(errs, fieldpath.Errorf("eta", "must be in (0, 1), got %g", m.Eta))
	}
	return errors.Join(errs...)
}

// Validate checks the whole config and returns every problem it finds, each a
// *fieldpath.Error whose path is the dotted YAML key.
func (c *Config) Validate() error {
	err := errors.Join(
		fieldpath.Under("metrics", c.Metrics.Validate()),
		fieldpath.Under("world", c.World.Validate()),
		fieldpath.Under("scheme", c.Scheme.Validate()),
		fieldpath.Under("market", c.Market.Validate()),
		fieldpath.Under("env", c.Env.Validate()),
		fieldpath.Under("training", c.Training.Validate()),
		fieldpath.Under("population", c.Population.Validate()),
	)
	if err != nil {
		return err
	}
	// How the sections fit together (tick and ticks per hour, catalog models and
	// locations named by the market, consistent deadlines).
	s := c.Settings()
	return s.CheckCross()
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
