package data

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// Config is the world section of a run config (YAML key "world"). Every key is
// documented in experiments/default.yaml; DefaultConfig holds the same values.
type Config struct {
	// Tick is the length of one simulation step (default 5m: 105,120 ticks a year).
	Tick time.Duration `yaml:"tick"`
	// Start is the simulated calendar time of tick 0. There is no wall clock.
	Start time.Time `yaml:"start"`
	// Window is the length, in ticks, of the trailing window kept for every series.
	Window int `yaml:"window"`

	ETH       ETHConfig        `yaml:"eth"`
	HIVE      HIVEConfig       `yaml:"hive"`
	USDC      USDCConfig       `yaml:"usdc"`
	Gas       GasConfig        `yaml:"gas"`
	Locations []LocationConfig `yaml:"locations"`

	// Catalog adds devices to the embedded hardware catalog (or replaces a built-in
	// device of the same model id).
	Catalog []Device `yaml:"catalog"`
	// Machines are provider machine specs (hivegym profile prints one).
	Machines []Machine `yaml:"machines"`
	// Shocks are scheduled multipliers on series; scenarios add to them.
	Shocks []Shock `yaml:"shocks"`

	// Scenario names the overlay applied to this config and holds each scenario's
	// parameters.
	Scenario ScenarioConfig `yaml:"scenario"`
	// Market holds the parameters that the market reads (scenarios set them).
	Market ScenarioParams `yaml:"market"`

	// applied is set by ApplyScenario so that applying twice is a no-op.
	applied bool
}

// Source kinds of a series.
const (
	SourceSynthetic = "synthetic"
	SourceCSV       = "csv"
)

// ETHConfig is the ETH/USD price: GBM with Merton (1976) jumps, optionally with
// GARCH(1,1) (Bollerslev 1986) diffusive variance.
type ETHConfig struct {
	// Source is "synthetic" or "csv"; with "csv", CSV says where the real series is.
	Source string     `yaml:"source"`
	CSV    *CSVSource `yaml:"csv,omitempty"`
	// InitialUSD is the price at tick 0.
	InitialUSD float64 `yaml:"initial_usd"`
	// Drift is the expected arithmetic return per year (0: a martingale).
	Drift float64 `yaml:"drift"`
	// Sigma is the total annualized volatility of log returns, jumps included: the
	// diffusion gets sigma^2 - rate*(mean^2+sd^2).
	Sigma float64 `yaml:"sigma"`
	// Jumps are the Merton jumps of the log price.
	Jumps JumpConfig `yaml:"jumps"`
	// GARCH makes the diffusive variance GARCH(1,1).
	GARCH GARCHConfig `yaml:"garch"`
}

// JumpConfig is a compound-Poisson process of normal jumps in the log price.
type JumpConfig struct {
	// RatePerYear is the Poisson intensity of jumps.
	RatePerYear float64 `yaml:"rate_per_year"`
	// Mean and SD are the mean and standard deviation of one jump's log size.
	Mean float64 `yaml:"mean"`
	SD   float64 `yaml:"sd"`
}

// GARCHConfig is the optional GARCH(1,1) diffusive variance, per tick:
// h[t+1] = omega + alpha*e[t]^2 + beta*h[t], with omega set so that the unconditional
// variance is the diffusive variance of ETHConfig.Sigma.
type GARCHConfig struct {
	Enabled bool `yaml:"enabled"`
	// Alpha is the per-tick ARCH coefficient.
	Alpha float64 `yaml:"alpha"`
	// PersistencePerDay is (alpha+beta) compounded over one day; beta is derived:
	// beta = PersistencePerDay^(tick/day) - alpha.
	PersistencePerDay float64 `yaml:"persistence_per_day"`
}

// HIVEConfig is the HIVE/USD price: log return = beta x ETH's log-return shock plus
// independent normal noise sized so that the correlation is Correlation.
type HIVEConfig struct {
	Source     string     `yaml:"source"`
	CSV        *CSVSource `yaml:"csv,omitempty"`
	InitialUSD float64    `yaml:"initial_usd"`
	// Drift is the expected arithmetic return per year.
	Drift float64 `yaml:"drift"`
	// Beta is the sensitivity of HIVE's log return to ETH's.
	Beta float64 `yaml:"beta"`
	// Correlation is the HIVE/ETH log-return correlation in (0, 1].
	Correlation float64 `yaml:"correlation"`
}

// USDCConfig is the numéraire stablecoin: 1.0, minus an optional depeg process.
type USDCConfig struct {
	Source string      `yaml:"source"`
	CSV    *CSVSource  `yaml:"csv,omitempty"`
	Depeg  DepegConfig `yaml:"depeg"`
}

// DepegConfig is a compound-Poisson depeg that decays exponentially: the price is
// 1 - D, D jumps by an exponential amount at rate RatePerYear and halves every
// HalfLifeHours.
type DepegConfig struct {
	RatePerYear   float64 `yaml:"rate_per_year"`
	MeanDepth     float64 `yaml:"mean_depth"`
	HalfLifeHours float64 `yaml:"half_life_hours"`
}

// GasConfig groups the L1, blob and L2 gas markets.
type GasConfig struct {
	L1   L1Config   `yaml:"l1"`
	Blob BlobConfig `yaml:"blob"`
	L2   L2Config   `yaml:"l2"`
}

// L1Config is the Ethereum L1 base fee: the EIP-1559 recursion per block driven by a
// stochastic gas-used process (see DemandConfig).
type L1Config struct {
	// Source "csv" replaces the base fee by a real series in gwei.
	Source string     `yaml:"source"`
	CSV    *CSVSource `yaml:"csv,omitempty"`
	// BlockTime is the L1 slot time (12s).
	BlockTime time.Duration `yaml:"block_time"`
	// GasLimit is the block gas limit; the target is GasLimit / Elasticity.
	GasLimit   uint64 `yaml:"gas_limit"`
	Elasticity uint64 `yaml:"elasticity"`
	// Denominator is BASE_FEE_MAX_CHANGE_DENOMINATOR (8).
	Denominator uint64 `yaml:"denominator"`
	// InitialBaseFeeGwei is the base fee of the block before tick 0.
	InitialBaseFeeGwei float64 `yaml:"initial_base_fee_gwei"`
	// Demand drives gas used per block.
	Demand DemandConfig `yaml:"demand"`
}

// DemandConfig is the gas-used process of a chain. A latent demand level D (in gwei)
// follows a log Ornstein-Uhlenbeck process per tick; in each block,
//
//	gas_used = clamp(target * (1 + Response*(D/base_fee - 1) + BlockNoise*Z), 0, limit)
//
// with Z standard normal, so the base fee is pulled toward D by the EIP-1559 rule
// itself (users send more gas when the fee is below what they will pay).
type DemandConfig struct {
	// MedianGwei is the median of D.
	MedianGwei float64 `yaml:"median_gwei"`
	// HalfLife is the mean-reversion half-life of log D.
	HalfLife time.Duration `yaml:"half_life"`
	// LogSD is the stationary standard deviation of log D.
	LogSD float64 `yaml:"log_sd"`
	// Response is the slope of gas used (in targets) in D/base_fee.
	Response float64 `yaml:"response"`
	// BlockNoise is the standard deviation of a block's gas used, in targets.
	BlockNoise float64 `yaml:"block_noise"`
}

// BlobConfig is the EIP-4844 blob market: blobs per L1 block are Poisson with mean
// MeanBlobs (capped at MaxBlobs); the excess blob gas and the blob base fee follow the
// EIP exactly.
type BlobConfig struct {
	TargetBlobs    uint64  `yaml:"target_blobs"`
	MaxBlobs       uint64  `yaml:"max_blobs"`
	MeanBlobs      float64 `yaml:"mean_blobs"`
	UpdateFraction uint64  `yaml:"update_fraction"`
	MinBaseFeeWei  uint64  `yaml:"min_base_fee_wei"`
}

// L2Config is an OP-stack L2: EIP-1559 with its own elasticity and denominator,
// 2-second blocks, a priority fee, and the L1 data fee of the Ecotone/Fjord upgrades.
type L2Config struct {
	BlockTime          time.Duration `yaml:"block_time"`
	GasLimit           uint64        `yaml:"gas_limit"`
	Elasticity         uint64        `yaml:"elasticity"`
	Denominator        uint64        `yaml:"denominator"`
	InitialBaseFeeGwei float64       `yaml:"initial_base_fee_gwei"`
	Demand             DemandConfig  `yaml:"demand"`
	// PriorityFeeGwei is the tip every transaction pays per gas.
	PriorityFeeGwei float64 `yaml:"priority_fee_gwei"`
	// BaseFeeScalar and BlobBaseFeeScalar are the L1 fee scalars (in millionths).
	BaseFeeScalar     uint64 `yaml:"base_fee_scalar"`
	BlobBaseFeeScalar uint64 `yaml:"blob_base_fee_scalar"`
	// TxKinds are the transactions the marketplace sends, with their costs.
	TxKinds []TxKind `yaml:"tx_kinds"`
	// ReferenceTx names the kind whose USD cost is the l2_tx_usd series.
	ReferenceTx string `yaml:"reference_tx"`
}

// TxKind is one kind of L2 transaction: its execution gas and its compressed size.
type TxKind struct {
	Name            string `yaml:"name"`
	Gas             uint64 `yaml:"gas"`
	CompressedBytes uint64 `yaml:"compressed_bytes"`
}

// LocationConfig is the electricity price of one location, USD per kWh:
// P = mult * (f(t) + X + S), or a negative price during a surplus block, where f is the
// daily and weekly profile, X an Ornstein-Uhlenbeck deviation and S decaying spikes.
type LocationConfig struct {
	// Name is the location id (lowercase letters, digits, '_'); it names the column
	// elec_<name>_usd_per_kwh and the random stream elec.<name>.
	Name   string     `yaml:"name"`
	Source string     `yaml:"source"`
	CSV    *CSVSource `yaml:"csv,omitempty"`
	// MeanUSDPerKWh is the weekly mean of the profile f.
	MeanUSDPerKWh float64 `yaml:"mean_usd_per_kwh"`
	// UTCOffsetHours places the profile in local time (fixed offset, no DST).
	UTCOffsetHours float64 `yaml:"utc_offset_hours"`
	// DailyProfile is 24 hourly multipliers (local hours 0-23), normalized to mean 1;
	// empty means DefaultDailyProfile.
	DailyProfile []float64 `yaml:"daily_profile"`
	// ProfileAmplitude scales the profile's deviation from 1 (0: flat).
	ProfileAmplitude float64 `yaml:"profile_amplitude"`
	// WeekendFactor is the weekend level relative to weekdays.
	WeekendFactor float64        `yaml:"weekend_factor"`
	OU            OUConfig       `yaml:"ou"`
	Spikes        SpikeConfig    `yaml:"spikes"`
	Negative      NegativeConfig `yaml:"negative"`
}

// OUConfig is the Ornstein-Uhlenbeck deviation dX = -kappa X dt + sigma dW, with
// kappa = ln 2 / HalfLifeDays and sigma in USD/kWh per sqrt(day).
type OUConfig struct {
	HalfLifeDays float64 `yaml:"half_life_days"`
	Sigma        float64 `yaml:"sigma"`
}

// SpikeConfig is a compound-Poisson spike component: arrivals at RatePerDay, each
// adding an exponential amount with mean MeanUSDPerKWh that decays with HalfLifeHours.
type SpikeConfig struct {
	RatePerDay    float64 `yaml:"rate_per_day"`
	MeanUSDPerKWh float64 `yaml:"mean_usd_per_kwh"`
	HalfLifeHours float64 `yaml:"half_life_hours"`
}

// NegativeConfig makes surplus blocks of negative prices: each local day is a surplus
// day with probability q, and then L hours (uniform on 1..MaxHours) centred on
// CenterHour are negative, at minus an exponential depth with mean MeanUSDPerKWh.
// q is derived so that the long-run fraction of negative hours is Fraction:
// q = Fraction * 24 / E[L].
type NegativeConfig struct {
	Fraction      float64 `yaml:"fraction"`
	MaxHours      int     `yaml:"max_hours"`
	CenterHour    float64 `yaml:"center_hour"`
	MeanUSDPerKWh float64 `yaml:"mean_usd_per_kwh"`
}

// Shock multiplies a series by Factor from tick AtTick on. For eth and hive it is a
// permanent jump of the price (Duration must be 0); for usdc and elec.<location> it
// multiplies the price for Duration; for gas.l1 and gas.l2 it multiplies the demand
// level for Duration, and the base fee follows through EIP-1559.
type Shock struct {
	// Series is eth, hive, usdc, gas.l1, gas.l2 or elec.<location>.
	Series   string        `yaml:"series"`
	AtTick   int64         `yaml:"at_tick"`
	Duration time.Duration `yaml:"duration"`
	Factor   float64       `yaml:"factor"`
}

// ScenarioConfig selects a scenario by name and holds each scenario's parameters.
type ScenarioConfig struct {
	// Name is one of Scenarios(); "baseline" changes nothing.
	Name          string              `yaml:"name"`
	TokenCrash    TokenCrashParams    `yaml:"token_crash"`
	GasSpike      GasSpikeParams      `yaml:"gas_spike"`
	Heatwave      HeatwaveParams      `yaml:"heatwave"`
	ProviderChurn ProviderChurnParams `yaml:"provider_churn"`
	DemandSurge   DemandSurgeParams   `yaml:"demand_surge"`
}

// TokenCrashParams: HIVE jumps by Factor at AtTick.
type TokenCrashParams struct {
	AtTick int64   `yaml:"at_tick"`
	Factor float64 `yaml:"factor"`
}

// GasSpikeParams: L1 gas demand is multiplied by Factor for Duration from AtTick.
type GasSpikeParams struct {
	AtTick   int64         `yaml:"at_tick"`
	Duration time.Duration `yaml:"duration"`
	Factor   float64       `yaml:"factor"`
}

// HeatwaveParams: the electricity price of Location is multiplied by Factor for
// Duration from AtTick.
type HeatwaveParams struct {
	Location string        `yaml:"location"`
	AtTick   int64         `yaml:"at_tick"`
	Duration time.Duration `yaml:"duration"`
	Factor   float64       `yaml:"factor"`
}

// ProviderChurnParams: the provider-churn scenario sets Market.ProviderChurnPerDay.
type ProviderChurnParams struct {
	PerDay float64 `yaml:"per_day"`
}

// DemandSurgeParams: the demand-surge scenario sets Market.DemandMultiplier.
type DemandSurgeParams struct {
	Multiplier float64 `yaml:"multiplier"`
}

// ScenarioParams are the scenario knobs that the market (not the world) reads.
type ScenarioParams struct {
	// ProviderChurnPerDay is the probability per provider per day of leaving (and of a
	// new one joining in its place).
	ProviderChurnPerDay float64 `yaml:"provider_churn_per_day"`
	// DemandMultiplier multiplies the clients' job arrival rate.
	DemandMultiplier float64 `yaml:"demand_multiplier"`
}

// year is the length of a year for annualization: 365 days, so that 5-minute ticks
// give 105,120 ticks a year as specs/world.md says.
const year = 365 * 24 * time.Hour

// TicksPerYear is the number of ticks in a 365-day year.
func (c *Config) TicksPerYear() float64 { return float64(year) / float64(c.Tick) }

// TicksPerDay is the number of ticks in a day.
func (c *Config) TicksPerDay() float64 { return float64(24*time.Hour) / float64(c.Tick) }

// DurationTicks converts a duration to a whole number of ticks, rounding up.
func (c *Config) DurationTicks(d time.Duration) int64 {
	if c.Tick <= 0 || d <= 0 {
		return 0
	}
	return int64((d + c.Tick - 1) / c.Tick)
}

// DefaultDailyProfile is the built-in hourly shape of electricity prices (local hours
// 0-23, mean 1): the mean Belgian day-ahead price by hour over 2023-01-01..2024-07-31
// (ENTSO-E, examples/data/belgium-day-ahead-hourly.csv), divided by the overall mean.
// It has the morning peak, the midday solar dip and the evening peak of specs/world.md.
var DefaultDailyProfile = [24]float64{
	0.989, 0.902, 0.859, 0.804, 0.783, 0.847, 1.003, 1.179, 1.233, 1.117, 0.971, 0.871,
	0.792, 0.712, 0.699, 0.750, 0.856, 1.065, 1.275, 1.412, 1.379, 1.256, 1.185, 1.061,
}

// DefaultTxKinds are the marketplace's L2 transactions. Gas and compressed sizes are
// assumptions, of the order of an ERC-20 transfer (about 52k gas) and of escrow and
// attestation contract calls (EAS attest is about 200-300k gas).
func DefaultTxKinds() []TxKind {
	return []TxKind{
		{Name: "transfer", Gas: 52_000, CompressedBytes: 120},
		{Name: "escrow_lock", Gas: 250_000, CompressedBytes: 400},
		{Name: "escrow_release", Gas: 150_000, CompressedBytes: 300},
		{Name: "collateral_lock", Gas: 200_000, CompressedBytes: 350},
		{Name: "attest", Gas: 300_000, CompressedBytes: 500},
		{Name: "slash", Gas: 180_000, CompressedBytes: 300},
	}
}

// DefaultLocations are the electricity locations of specs/world.md. Mean levels are
// the spec's figures; everything else is an assumption described in docs/world.md:
// European markets are wholesale day-ahead prices with the full profile, OU
// parameters of the spec (kappa 0.072/day, sigma 12.5 EUR/MWh per sqrt(day), scaled by
// the location's mean relative to Germany's), spikes and, where wind and solar are
// large, negative hours; US figures are retail industrial tariffs, nearly flat, with
// slow small deviations and no negative hours.
func DefaultLocations() []LocationConfig {
	// OU half-life: ln 2 / 0.072 per day = 9.63 days (specs/world.md).
	const euHalfLife = 9.63
	// 12.5 EUR/MWh at 1.08 USD/EUR = 0.0135 USD/kWh per sqrt(day), for Germany's 0.08.
	const deSigma = 0.0135
	eu := func(name string, mean, utc, amp, weekend, spikeRate, spikeMean, negFrac float64) LocationConfig {
		return LocationConfig{
			Name: name, Source: SourceSynthetic,
			MeanUSDPerKWh: mean, UTCOffsetHours: utc, DailyProfile: []float64{},
			ProfileAmplitude: amp, WeekendFactor: weekend,
			OU:       OUConfig{HalfLifeDays: euHalfLife, Sigma: round4(deSigma * mean / 0.08)},
			Spikes:   SpikeConfig{RatePerDay: spikeRate, MeanUSDPerKWh: spikeMean, HalfLifeHours: 2},
			Negative: NegativeConfig{Fraction: negFrac, MaxHours: 8, CenterHour: 13, MeanUSDPerKWh: 0.01},
		}
	}
	us := func(name string, mean, utc, spikeRate float64) LocationConfig {
		return LocationConfig{
			Name: name, Source: SourceSynthetic,
			MeanUSDPerKWh: mean, UTCOffsetHours: utc, DailyProfile: []float64{},
			ProfileAmplitude: 0.1, WeekendFactor: 0.97,
			// Stationary sd sigma/sqrt(2 kappa) = 5% of the mean with a 30-day half-life.
			OU:       OUConfig{HalfLifeDays: 30, Sigma: round4(0.05 * mean * math.Sqrt(2*math.Ln2/30))},
			Spikes:   SpikeConfig{RatePerDay: spikeRate, MeanUSDPerKWh: 0.1, HalfLifeHours: 2},
			Negative: NegativeConfig{Fraction: 0, MaxHours: 8, CenterHour: 13, MeanUSDPerKWh: 0.01},
		}
	}
	return []LocationConfig{
		// Weekend factor 0.75: Belgian day-ahead 2023-01..2024-07 has 0.72 (docs/world.md).
		// Surplus blocks of 3% of hours: the OU deviation adds about 2% more negative
		// hours, for about 5% in all (Germany 2024: 457 negative hours, 5.2%).
		eu("germany", 0.08, 1, 1.0, 0.75, 0.1, 0.25, 0.03),
		eu("sweden", 0.04, 1, 0.6, 0.9, 0.05, 0.12, 0.02),
		eu("ireland", 0.12, 0, 1.0, 0.92, 0.1, 0.3, 0.02),
		eu("italy", 0.12, 1, 0.8, 0.88, 0.05, 0.2, 0),
		us("texas", 0.066, -6, 0.02),
		us("virginia", 0.089, -5, 0),
		us("washington", 0.064, -8, 0),
		us("california", 0.186, -8, 0),
		us("hawaii", 0.353, -10, 0),
	}
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// DefaultConfig returns the default world: 5-minute ticks from 2024-01-01T00:00:00Z and
// the defaults of specs/world.md, each documented in experiments/default.yaml.
func DefaultConfig() Config {
	return Config{
		Tick:   5 * time.Minute,
		Start:  time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Window: 288,
		ETH: ETHConfig{
			Source: SourceSynthetic,
			// ETH/USD closed 2023-12-31 near 2,300 USD (public price; a round figure).
			InitialUSD: 2300,
			Drift:      0,
			Sigma:      0.65, // specs/world.md: 2024 annualized volatility about 65%
			// Assumption, chosen so that daily excess kurtosis is about 5 (docs/world.md):
			// ten jumps a year, log size N(-0.03, 0.09^2).
			Jumps: JumpConfig{RatePerYear: 10, Mean: -0.03, SD: 0.09},
			// specs/world.md: crypto GARCH persistence about 0.975 (a daily BNB fit).
			GARCH: GARCHConfig{Enabled: false, Alpha: 0.005, PersistencePerDay: 0.975},
		},
		HIVE: HIVEConfig{
			Source:     SourceSynthetic,
			InitialUSD: 1, // assumption: no market price exists
			Drift:      0,
			// Assumptions (no public calibration for L2 tokens): beta 1.5, and the
			// correlation of BTC and ETH in 2024 (0.79) as an analogy.
			Beta:        1.5,
			Correlation: 0.79,
		},
		USDC: USDCConfig{
			Source: SourceSynthetic,
			// Off by default: USDC is the numéraire. When on, the March 2023 depeg
			// (to about 0.88, recovered in about 3 days) is the model.
			Depeg: DepegConfig{RatePerYear: 0, MeanDepth: 0.05, HalfLifeHours: 24},
		},
		Gas: GasConfig{
			L1: L1Config{
				Source:             SourceSynthetic,
				BlockTime:          12 * time.Second, // Ethereum slot time
				GasLimit:           30_000_000,       // 2024 block gas limit
				Elasticity:         2,                // EIP-1559 ELASTICITY_MULTIPLIER
				Denominator:        8,                // EIP-1559 BASE_FEE_MAX_CHANGE_DENOMINATOR
				InitialBaseFeeGwei: 15,
				// Assumption: median 15 gwei, the geometric mean of the spec's levels
				// (about 72 gwei before March 2024, about 3 gwei in 2025); log sd 0.8
				// spans roughly 3-75 gwei at +-2 sd.
				Demand: DemandConfig{MedianGwei: 15, HalfLife: 48 * time.Hour, LogSD: 0.8, Response: 2, BlockNoise: 0.5},
			},
			Blob: BlobConfig{
				// EIP-4844 (Dencun) constants: target 3, max 6, update fraction 3338477,
				// minimum 1 wei. Mean 2.7 blobs a block (an assumption below target, so
				// the blob fee mostly sits near its minimum, as it did in 2024).
				TargetBlobs: 3, MaxBlobs: 6, MeanBlobs: 2.7, UpdateFraction: 3338477, MinBaseFeeWei: 1,
			},
			L2: L2Config{
				BlockTime:   2 * time.Second, // OP-stack block time
				GasLimit:    30_000_000,      // OP Mainnet gas limit in 2024
				Elasticity:  6,               // OP-stack EIP-1559 elasticity
				Denominator: 250,             // OP-stack denominator since Canyon
				// specs/world.md: L2 base fee near 0.001 gwei.
				InitialBaseFeeGwei: 0.001,
				Demand:             DemandConfig{MedianGwei: 0.001, HalfLife: 12 * time.Hour, LogSD: 0.7, Response: 2, BlockNoise: 0.5},
				PriorityFeeGwei:    0.001,  // assumption
				BaseFeeScalar:      1368,   // OP Mainnet (specs/world.md)
				BlobBaseFeeScalar:  810949, // OP Mainnet (specs/world.md)
				TxKinds:            DefaultTxKinds(),
				ReferenceTx:        "escrow_lock",
			},
		},
		Locations: DefaultLocations(),
		Catalog:   []Device{},
		Machines:  []Machine{},
		Shocks:    []Shock{},
		Scenario: ScenarioConfig{
			Name:          ScenarioBaseline,
			TokenCrash:    TokenCrashParams{AtTick: 1008, Factor: 0.5},
			GasSpike:      GasSpikeParams{AtTick: 576, Duration: 24 * time.Hour, Factor: 20},
			Heatwave:      HeatwaveParams{Location: "texas", AtTick: 576, Duration: 72 * time.Hour, Factor: 3},
			ProviderChurn: ProviderChurnParams{PerDay: 0.1},
			DemandSurge:   DemandSurgeParams{Multiplier: 3},
		},
		Market: ScenarioParams{ProviderChurnPerDay: 0, DemandMultiplier: 1},
	}
}

var locationName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// validator collects field errors.
type validator struct{ errs []error }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, fieldpath.Errorf(path, format, args...))
}

func (v *validator) under(prefix string, err error) {
	if err != nil {
		v.errs = append(v.errs, fieldpath.Under(prefix, err))
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (v *validator) positive(path string, x float64) {
	if !(x > 0) || math.IsInf(x, 1) {
		v.add(path, "must be a positive number, got %g", x)
	}
}

func (v *validator) nonNegative(path string, x float64) {
	if !(x >= 0) || math.IsInf(x, 1) {
		v.add(path, "must be a finite number >= 0, got %g", x)
	}
}

func (v *validator) prob(path string, x float64) {
	if !(x >= 0 && x <= 1) {
		v.add(path, "must be in [0, 1], got %g", x)
	}
}

// Validate checks the world section and returns every problem it finds, each a
// *fieldpath.Error with a path relative to the section (e.g. "eth.sigma").
func (c *Config) Validate() error {
	v := &validator{}
	if c.Tick <= 0 {
		v.add("tick", "must be a positive duration, got %s", c.Tick)
	} else if c.Tick > 24*time.Hour {
		v.add("tick", "must be at most 24h, got %s", c.Tick)
	}
	if c.Start.IsZero() {
		v.add("start", "must be set (an RFC 3339 time such as 2024-01-01T00:00:00Z)")
	}
	if c.Window < 2 || c.Window > 1<<20 {
		v.add("window", "must be between 2 and %d ticks, got %d", 1<<20, c.Window)
	}
	v.under("eth", c.ETH.validate(c.Tick))
	v.under("hive", c.HIVE.validate())
	v.under("usdc", c.USDC.validate())
	v.under("gas", c.Gas.validate(c.Tick))
	names := map[string]int{}
	if len(c.Locations) == 0 {
		v.add("locations", "must list at least one location")
	}
	for i, l := range c.Locations {
		p := fmt.Sprintf("locations[%d]", i)
		v.under(p, l.validate())
		if j, dup := names[l.Name]; dup {
			v.add(p+".name", "duplicate location %q (also locations[%d])", l.Name, j)
		}
		names[l.Name] = i
	}
	cat, err := NewCatalog(c.Catalog)
	if err != nil {
		v.errs = append(v.errs, err) // paths already start with "catalog"
		cat = DefaultCatalog()
	}
	for i := range c.Machines {
		v.under(fmt.Sprintf("machines[%d]", i), c.Machines[i].Validate(cat, c.Locations))
	}
	for i, s := range c.Shocks {
		v.under(fmt.Sprintf("shocks[%d]", i), s.validate(c.Locations))
	}
	v.under("scenario", c.Scenario.validate(c.Locations))
	v.under("market", c.Market.validate())
	return errors.Join(v.errs...)
}

func (s *CSVSource) validate() error {
	v := &validator{}
	switch s.Resample {
	case "", ResampleHold, ResampleAverage:
	default:
		v.add("resample", "must be %q or %q, got %q", ResampleHold, ResampleAverage, s.Resample)
	}
	switch s.Empty {
	case "", EmptyError, EmptySkip:
	default:
		v.add("empty", "must be %q or %q, got %q", EmptyError, EmptySkip, s.Empty)
	}
	if s.Scale != 0 && !(math.Abs(s.Scale) >= 1/MaxScale && math.Abs(s.Scale) <= MaxScale) {
		v.add("scale", "must be 0 or absent (meaning 1), or of size in [%g, %g], got %g", 1/MaxScale, MaxScale, s.Scale)
	}
	if s.Path == "" {
		v.add("path", "must name a CSV file")
	}
	if s.TimeColumn == "" {
		v.add("time_column", "must name the timestamp column")
	}
	if s.ValueColumn == "" {
		v.add("value_column", "must name the value column")
	}
	if s.Layout == "" {
		v.add("layout", "must be a Go time layout, e.g. \"2006-01-02\"")
	}
	if s.From != "" {
		if _, err := time.Parse(time.RFC3339, s.From); err != nil {
			v.add("from", "must be an RFC 3339 time or empty, got %q", s.From)
		}
	}
	return errors.Join(v.errs...)
}

// Bounds on what a world may hold. Wallets hold at most 1e9 tokens (market's engine
// config); at a token price of at most MaxTokenUSD a holding is worth at most 1e15 USD,
// finite and still exact to the cent in a float64 (2^53 is about 9e15). At the least
// price, MinTokenUSD, one USD buys 1e6 tokens, 1e12 HIVE or USDC base units (1e-6) or
// 1e15 gwei, far inside int64 (9.2e18) for any payment a market makes. Prices are held
// inside the band as they move (World.observe), so a volatile path cannot leave it.
const (
	MinTokenUSD = 1e-6
	MaxTokenUSD = 1e6
	// MaxSigma caps a token's annualized volatility at 500%, over three times the
	// highest yearly realized volatility of ETH (about 150% in 2018); MaxDrift caps the
	// expected return at +-500% a year.
	MaxSigma = 5
	MaxDrift = 5
	// MaxKWhUSD caps the size of an electricity price: the highest day-ahead prices on
	// record are a few USD per kWh (EU's 4,000 EUR/MWh ceiling).
	MaxKWhUSD = 100
	// MaxScale bounds a CSV source's scale factor (and 1/MaxScale its size from below).
	MaxScale = 1e9
)

// valueRange is what a CSV series' values (after its scale) must lie in.
type valueRange struct {
	lo, hi float64
	what   string // "a token price in USD", ...
}

var (
	tokenRange = valueRange{MinTokenUSD, MaxTokenUSD, "a token price in USD"}
	gweiRange  = valueRange{1e-9, 1e6, "a base fee in gwei"}
	kwhRange   = valueRange{-MaxKWhUSD, MaxKWhUSD, "an electricity price in USD per kWh"}
)

// check returns a *CSVError for the first value of s (times scale) outside r.
func (r valueRange) check(s *Series, scale float64) error {
	for i, v := range s.Values {
		if x := v * scale; !(x >= r.lo && x <= r.hi) {
			return &CSVError{File: s.Name, Line: s.Lines[i], Msg: fmt.Sprintf("value %g (x scale %g) is out of range for %s: must be in [%g, %g]", v, scale, r.what, r.lo, r.hi)}
		}
	}
	return nil
}

// loadSource reads a CSV source's file and checks its values against r.
func loadSource(src *CSVSource, r valueRange) (*Series, error) {
	s, err := LoadCSV(src.Path, src.Options())
	if err != nil {
		return nil, err
	}
	if err := r.check(s, src.scale()); err != nil {
		return nil, err
	}
	return s, nil
}

func (v *validator) within(path string, x, lo, hi float64) {
	if !(x >= lo && x <= hi) {
		v.add(path, "must be in [%g, %g], got %g", lo, hi, x)
	}
}

// validateSource checks a series' source; for a CSV source it reads the file, so a
// missing file or a bad value is reported at validate time with the config's key.
func validateSource(v *validator, source string, csv *CSVSource, r valueRange) {
	switch source {
	case SourceSynthetic:
	case SourceCSV:
		if csv == nil {
			v.add("csv", "must be set when source is csv (path, time_column, value_column, layout)")
			return
		}
	default:
		v.add("source", "must be %q or %q, got %q", SourceSynthetic, SourceCSV, source)
	}
	if csv != nil {
		if err := csv.validate(); err != nil {
			v.under("csv", err)
		} else if source == SourceCSV {
			if _, err := loadSource(csv, r); err != nil {
				v.add("csv.path", "%v", err)
			}
		}
	}
}

func (e *ETHConfig) validate(tick time.Duration) error {
	v := &validator{}
	validateSource(v, e.Source, e.CSV, tokenRange)
	v.within("initial_usd", e.InitialUSD, MinTokenUSD, MaxTokenUSD)
	v.within("drift", e.Drift, -MaxDrift, MaxDrift)
	if !(e.Sigma > 0 && e.Sigma <= MaxSigma) {
		v.add("sigma", "must be in (0, %g], got %g", float64(MaxSigma), e.Sigma)
	}
	// Jumps: at most ten a day, of a mean log size and spread of at most 1 (a factor e).
	v.within("jumps.rate_per_year", e.Jumps.RatePerYear, 0, 3650)
	v.within("jumps.mean", e.Jumps.Mean, -1, 1)
	v.within("jumps.sd", e.Jumps.SD, 0, 1)
	if jv := e.Jumps.RatePerYear * (e.Jumps.Mean*e.Jumps.Mean + e.Jumps.SD*e.Jumps.SD); finite(jv) && e.Sigma > 0 && jv >= e.Sigma*e.Sigma {
		v.add("jumps", "jump variance rate*(mean^2+sd^2) = %g must be below sigma^2 = %g (sigma is the total volatility)", jv, e.Sigma*e.Sigma)
	}
	if e.GARCH.Enabled {
		g := e.GARCH
		if !(g.Alpha > 0 && g.Alpha < 1) {
			v.add("garch.alpha", "must be in (0, 1), got %g", g.Alpha)
		}
		if !(g.PersistencePerDay > 0 && g.PersistencePerDay < 1) {
			v.add("garch.persistence_per_day", "must be in (0, 1), got %g", g.PersistencePerDay)
		} else if tick > 0 && g.Alpha > 0 {
			p := math.Pow(g.PersistencePerDay, float64(tick)/float64(24*time.Hour))
			if p-g.Alpha <= 0 {
				v.add("garch.alpha", "must be below the per-tick persistence %g so that beta > 0, got %g", p, g.Alpha)
			}
		}
	}
	return errors.Join(v.errs...)
}

func (h *HIVEConfig) validate() error {
	v := &validator{}
	validateSource(v, h.Source, h.CSV, tokenRange)
	v.within("initial_usd", h.InitialUSD, MinTokenUSD, MaxTokenUSD)
	v.within("drift", h.Drift, -MaxDrift, MaxDrift)
	if !(h.Beta > 0 && h.Beta <= 10) {
		v.add("beta", "must be in (0, 10], got %g", h.Beta)
	}
	if !(h.Correlation > 0 && h.Correlation <= 1) {
		v.add("correlation", "must be in (0, 1], got %g", h.Correlation)
	}
	return errors.Join(v.errs...)
}

func (u *USDCConfig) validate() error {
	v := &validator{}
	validateSource(v, u.Source, u.CSV, tokenRange)
	v.nonNegative("depeg.rate_per_year", u.Depeg.RatePerYear)
	if !(u.Depeg.MeanDepth > 0 && u.Depeg.MeanDepth < 1) {
		v.add("depeg.mean_depth", "must be in (0, 1), got %g", u.Depeg.MeanDepth)
	}
	v.positive("depeg.half_life_hours", u.Depeg.HalfLifeHours)
	return errors.Join(v.errs...)
}

func (g *GasConfig) validate(tick time.Duration) error {
	v := &validator{}
	v.under("l1", g.L1.validate())
	v.under("blob", g.Blob.validate())
	v.under("l2", g.L2.validate())
	// Per-tick cost bound: more than 100,000 blocks in a tick is surely a mistake.
	if tick > 0 && g.L1.BlockTime > 0 && tick/g.L1.BlockTime > 100_000 {
		v.add("l1.block_time", "gives %d blocks per tick; at most 100000", tick/g.L1.BlockTime)
	}
	if tick > 0 && g.L2.BlockTime > 0 && tick/g.L2.BlockTime > 100_000 {
		v.add("l2.block_time", "gives %d blocks per tick; at most 100000", tick/g.L2.BlockTime)
	}
	return errors.Join(v.errs...)
}

func validateChain(v *validator, blockTime time.Duration, limit, elasticity, denom uint64, initialGwei float64, d *DemandConfig) {
	if blockTime < time.Second {
		v.add("block_time", "must be at least 1s, got %s", blockTime)
	}
	if elasticity < 1 {
		v.add("elasticity", "must be at least 1, got %d", elasticity)
	} else if limit/elasticity < 1 {
		v.add("gas_limit", "must be at least elasticity (%d), got %d", elasticity, limit)
	}
	if limit > 1<<40 {
		v.add("gas_limit", "must be at most %d, got %d", uint64(1)<<40, limit)
	}
	if denom < 1 {
		v.add("denominator", "must be at least 1, got %d", denom)
	}
	if !(initialGwei > 0 && initialGwei <= 1e6) {
		v.add("initial_base_fee_gwei", "must be in (0, 1e6] gwei, got %g", initialGwei)
	}
	if !(d.MedianGwei > 0 && d.MedianGwei <= 1e6) {
		v.add("demand.median_gwei", "must be in (0, 1e6] gwei, got %g", d.MedianGwei)
	}
	if d.HalfLife <= 0 {
		v.add("demand.half_life", "must be a positive duration, got %s", d.HalfLife)
	}
	v.nonNegative("demand.log_sd", d.LogSD)
	v.positive("demand.response", d.Response)
	v.nonNegative("demand.block_noise", d.BlockNoise)
}

func (l *L1Config) validate() error {
	v := &validator{}
	validateSource(v, l.Source, l.CSV, gweiRange)
	validateChain(v, l.BlockTime, l.GasLimit, l.Elasticity, l.Denominator, l.InitialBaseFeeGwei, &l.Demand)
	return errors.Join(v.errs...)
}

func (b *BlobConfig) validate() error {
	v := &validator{}
	if b.TargetBlobs < 1 || b.TargetBlobs > 64 {
		v.add("target_blobs", "must be between 1 and 64, got %d", b.TargetBlobs)
	}
	if b.MaxBlobs < b.TargetBlobs || b.MaxBlobs > 128 {
		v.add("max_blobs", "must be between target_blobs (%d) and 128, got %d", b.TargetBlobs, b.MaxBlobs)
	}
	if !(b.MeanBlobs >= 0 && b.MeanBlobs < float64(b.TargetBlobs)) {
		v.add("mean_blobs", "must be in [0, target_blobs=%d) so that the excess blob gas is stationary, got %g", b.TargetBlobs, b.MeanBlobs)
	}
	if b.UpdateFraction < 1 {
		v.add("update_fraction", "must be at least 1, got %d", b.UpdateFraction)
	}
	if b.MinBaseFeeWei < 1 || b.MinBaseFeeWei > 1e12 {
		v.add("min_base_fee_wei", "must be between 1 and 1e12, got %d", b.MinBaseFeeWei)
	}
	return errors.Join(v.errs...)
}

func (l *L2Config) validate() error {
	v := &validator{}
	validateChain(v, l.BlockTime, l.GasLimit, l.Elasticity, l.Denominator, l.InitialBaseFeeGwei, &l.Demand)
	if !(l.PriorityFeeGwei >= 0 && l.PriorityFeeGwei <= 1e6) {
		v.add("priority_fee_gwei", "must be in [0, 1e6] gwei, got %g", l.PriorityFeeGwei)
	}
	if l.BaseFeeScalar > 1e9 {
		v.add("base_fee_scalar", "must be at most 1e9, got %d", l.BaseFeeScalar)
	}
	if l.BlobBaseFeeScalar > 1e9 {
		v.add("blob_base_fee_scalar", "must be at most 1e9, got %d", l.BlobBaseFeeScalar)
	}
	if len(l.TxKinds) == 0 {
		v.add("tx_kinds", "must list at least one transaction kind")
	}
	seen := map[string]int{}
	for i, k := range l.TxKinds {
		p := fmt.Sprintf("tx_kinds[%d]", i)
		if !locationName.MatchString(k.Name) {
			v.add(p+".name", "must be lowercase letters, digits and '_', got %q", k.Name)
		}
		if j, dup := seen[k.Name]; dup {
			v.add(p+".name", "duplicate kind %q (also tx_kinds[%d])", k.Name, j)
		}
		seen[k.Name] = i
		if k.Gas < 21_000 || k.Gas > l.GasLimit {
			v.add(p+".gas", "must be between 21000 and gas_limit (%d), got %d", l.GasLimit, k.Gas)
		}
		if k.CompressedBytes < 1 || k.CompressedBytes > 1<<24 {
			v.add(p+".compressed_bytes", "must be between 1 and %d, got %d", 1<<24, k.CompressedBytes)
		}
	}
	if _, ok := seen[l.ReferenceTx]; !ok && len(l.TxKinds) > 0 {
		v.add("reference_tx", "must name one of tx_kinds, got %q", l.ReferenceTx)
	}
	return errors.Join(v.errs...)
}

func (l *LocationConfig) validate() error {
	v := &validator{}
	if !locationName.MatchString(l.Name) {
		v.add("name", "must be lowercase letters, digits and '_' starting with a letter, got %q", l.Name)
	}
	validateSource(v, l.Source, l.CSV, kwhRange)
	if !(l.MeanUSDPerKWh > 0 && l.MeanUSDPerKWh <= MaxKWhUSD) {
		v.add("mean_usd_per_kwh", "must be in (0, %g], got %g", float64(MaxKWhUSD), l.MeanUSDPerKWh)
	}
	if !(l.UTCOffsetHours >= -12 && l.UTCOffsetHours <= 14) {
		v.add("utc_offset_hours", "must be in [-12, 14], got %g", l.UTCOffsetHours)
	}
	if n := len(l.DailyProfile); n != 0 && n != 24 {
		v.add("daily_profile", "must have 24 hourly values (or none for the default), got %d", n)
	}
	for i, x := range l.DailyProfile {
		if !(x > 0) || math.IsInf(x, 1) {
			v.add(fmt.Sprintf("daily_profile[%d]", i), "must be a positive number, got %g", x)
		}
	}
	v.nonNegative("profile_amplitude", l.ProfileAmplitude)
	v.positive("weekend_factor", l.WeekendFactor)
	v.positive("ou.half_life_days", l.OU.HalfLifeDays)
	v.within("ou.sigma", l.OU.Sigma, 0, MaxKWhUSD)
	v.within("spikes.rate_per_day", l.Spikes.RatePerDay, 0, 288)
	v.within("spikes.mean_usd_per_kwh", l.Spikes.MeanUSDPerKWh, 0, MaxKWhUSD)
	v.positive("spikes.half_life_hours", l.Spikes.HalfLifeHours)
	n := l.Negative
	v.prob("negative.fraction", n.Fraction)
	if n.MaxHours < 1 || n.MaxHours > 24 {
		v.add("negative.max_hours", "must be between 1 and 24, got %d", n.MaxHours)
	} else if q := n.dayProbability(); q > 1 {
		v.add("negative.fraction", "needs a surplus-day probability fraction*24/E[hours] = %g > 1; raise max_hours or lower fraction", q)
	}
	if !(n.CenterHour >= 0 && n.CenterHour < 24) {
		v.add("negative.center_hour", "must be in [0, 24), got %g", n.CenterHour)
	}
	v.within("negative.mean_usd_per_kwh", n.MeanUSDPerKWh, 0, MaxKWhUSD)
	return errors.Join(v.errs...)
}

// dayProbability is q = fraction * 24 / E[L], E[L] = (MaxHours+1)/2.
func (n *NegativeConfig) dayProbability() float64 {
	return n.Fraction * 24 / (float64(n.MaxHours+1) / 2)
}

func (s *Shock) validate(locs []LocationConfig) error {
	v := &validator{}
	kind := shockKind(s.Series, locs)
	switch kind {
	case shockUnknown:
		v.add("series", "unknown series %q (valid: %s)", s.Series, shockSeriesList(locs))
	case shockJump:
		if s.Duration != 0 {
			v.add("duration", "must be 0 for %s: a price shock is a permanent jump, got %s", s.Series, s.Duration)
		}
	default:
		if s.Duration <= 0 {
			v.add("duration", "must be a positive duration for %s, got %s", s.Series, s.Duration)
		}
	}
	if s.AtTick < 0 {
		v.add("at_tick", "must be >= 0, got %d", s.AtTick)
	}
	v.positive("factor", s.Factor)
	return errors.Join(v.errs...)
}

func (s *ScenarioConfig) validate(locs []LocationConfig) error {
	v := &validator{}
	if !isScenario(s.Name) {
		v.add("name", "%s", unknownScenarioMsg(s.Name))
	}
	if s.TokenCrash.AtTick < 0 {
		v.add("token_crash.at_tick", "must be >= 0, got %d", s.TokenCrash.AtTick)
	}
	v.positive("token_crash.factor", s.TokenCrash.Factor)
	if s.GasSpike.AtTick < 0 {
		v.add("gas_spike.at_tick", "must be >= 0, got %d", s.GasSpike.AtTick)
	}
	if s.GasSpike.Duration <= 0 {
		v.add("gas_spike.duration", "must be a positive duration, got %s", s.GasSpike.Duration)
	}
	v.positive("gas_spike.factor", s.GasSpike.Factor)
	found := false
	for _, l := range locs {
		found = found || l.Name == s.Heatwave.Location
	}
	// Only the heatwave scenario needs its location to exist: a config without Texas
	// that runs another scenario is fine.
	if !found && s.Name == ScenarioHeatwave {
		v.add("heatwave.location", "unknown location %q (valid: %s)", s.Heatwave.Location, locationList(locs))
	}
	if s.Heatwave.AtTick < 0 {
		v.add("heatwave.at_tick", "must be >= 0, got %d", s.Heatwave.AtTick)
	}
	if s.Heatwave.Duration <= 0 {
		v.add("heatwave.duration", "must be a positive duration, got %s", s.Heatwave.Duration)
	}
	v.positive("heatwave.factor", s.Heatwave.Factor)
	v.nonNegative("provider_churn.per_day", s.ProviderChurn.PerDay)
	v.positive("demand_surge.multiplier", s.DemandSurge.Multiplier)
	return errors.Join(v.errs...)
}

func (m *ScenarioParams) validate() error {
	v := &validator{}
	v.nonNegative("provider_churn_per_day", m.ProviderChurnPerDay)
	v.positive("demand_multiplier", m.DemandMultiplier)
	return errors.Join(v.errs...)
}

func locationList(locs []LocationConfig) string {
	s := ""
	for i, l := range locs {
		if i > 0 {
			s += ", "
		}
		s += l.Name
	}
	return s
}
