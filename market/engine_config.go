package market

import (
	"errors"
	"fmt"
	"math"
	"regexp"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/scheme"
)

// EngineConfig is the market section of a run config (YAML key "market"): the agent
// populations sampled per episode and the engine's parameters. (Config is the chain's
// own, smaller config.) Every key is documented in experiments/default.yaml, where the
// defaults of DefaultEngineConfig are written down with their sources.
type EngineConfig struct {
	// Providers are the provider classes; each episode samples Count providers of each.
	Providers []ProviderClass `yaml:"providers"`
	// Clients are the client classes; each episode samples Count clients of each.
	Clients []ClientClass `yaml:"clients"`
	// Discovery is how a client finds providers for a job.
	Discovery DiscoveryConfig `yaml:"discovery"`
	// Escrow is when the client's escrow lock transaction lands.
	Escrow EscrowConfig `yaml:"escrow"`
	// Validation is how the market's validator judges delivered results.
	Validation ValidationConfig `yaml:"validation"`
	// Electricity is how providers pay for power.
	Electricity ElectricityConfig `yaml:"electricity"`
	// Treasury is the swap pool and how often agents may rebalance.
	Treasury TreasuryConfig `yaml:"treasury"`
	// Gas is the chain's gas schedule per transaction kind.
	Gas GasConfig `yaml:"gas"`
}

// Range is a closed interval [Min, Max] sampled uniformly.
type Range struct {
	Min float64 `yaml:"min"`
	Max float64 `yaml:"max"`
}

// IntRange is a closed integer interval [Min, Max] sampled uniformly.
type IntRange struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

// LogNormal is a log-normal distribution given by its median and the standard deviation
// of its logarithm, truncated to [Min, Max] by clamping.
type LogNormal struct {
	Median float64 `yaml:"median"`
	SDLog  float64 `yaml:"sd_log"`
	Min    float64 `yaml:"min"`
	Max    float64 `yaml:"max"`
}

// Wallet is the initial wallet of an agent, in whole tokens, each asset drawn uniformly
// from its range.
type Wallet struct {
	USDC Range `yaml:"usdc"`
	ETH  Range `yaml:"eth"`
	HIVE Range `yaml:"hive"`
}

// Observation classes of a provider (ProviderClass.Observation).
const (
	ObserveFull    = "full"    // sees everything its role may see
	ObserveOnchain = "onchain" // an IoT-class device: only on-chain data (no electricity price or forecast)
)

// ProviderClass is a kind of provider: one machine spec, its locations, reliability and
// wallet.
type ProviderClass struct {
	// Name labels the class in statistics.
	Name string `yaml:"name"`
	// Count is how many providers of this class an episode has.
	Count int `yaml:"count"`
	// GPUModel is a GPU model of the hardware catalog (world.catalog), or "" for a
	// CPU-only machine; GPUs is how many it has.
	GPUModel string `yaml:"gpu_model"`
	GPUs     int    `yaml:"gpus"`
	// CPUCores and RAMGB are the machine's cores and memory.
	CPUCores int `yaml:"cpu_cores"`
	RAMGB    int `yaml:"ram_gb"`
	// IdlePowerW is the machine's draw when it runs nothing, watts.
	IdlePowerW float64 `yaml:"idle_power_w"`
	// CapexUSDPerHour is the machine's hardware cost amortized per hour of life; a job
	// is charged its share (the larger of its GPU and CPU shares) in the provider's
	// cost.
	CapexUSDPerHour float64 `yaml:"capex_usd_per_hour"`
	// Locations are electricity locations (world.locations); each provider gets one,
	// uniformly.
	Locations []string `yaml:"locations"`
	// FailuresPerHour is the rate at which a running job fails, per hour, drawn per
	// provider.
	FailuresPerHour Range `yaml:"failures_per_hour"`
	// Observation is "full" or "onchain" (an IoT-class provider).
	Observation string `yaml:"observation"`
	// Wallet is the provider's initial wallet.
	Wallet Wallet `yaml:"wallet"`
}

// ClientClass is a kind of client: how often it has jobs, what they need and what they
// are worth.
type ClientClass struct {
	// Name labels the class in statistics.
	Name string `yaml:"name"`
	// Count is how many clients of this class an episode has.
	Count int `yaml:"count"`
	// JobsPerDay is the Poisson arrival rate of a client's jobs, drawn per client.
	JobsPerDay Range `yaml:"jobs_per_day"`
	// GPUModel asks for a catalog GPU model; "" accepts any GPU with MinGPUMemGB.
	GPUModel    string `yaml:"gpu_model"`
	MinGPUMemGB int    `yaml:"min_gpu_mem_gb"`
	// GPUs, CPUCores and RAMGB are drawn per job; GPUs 0 is a CPU job.
	GPUs     IntRange `yaml:"gpus"`
	CPUCores IntRange `yaml:"cpu_cores"`
	RAMGB    IntRange `yaml:"ram_gb"`
	// DurationHours is the job's length, rounded up to whole ticks.
	DurationHours LogNormal `yaml:"duration_hours"`
	// ValueUSDPerUnitHour is what one hour of the job is worth to the client per GPU
	// (per CPU core for a CPU job), in USD.
	ValueUSDPerUnitHour LogNormal `yaml:"value_usd_per_unit_hour"`
	// PaymentAsset is the asset the client pays in: USDC or HIVE.
	PaymentAsset string `yaml:"payment_asset"`
	// CollateralFraction is the collateral the client asks of the provider, as a
	// fraction of the job's cost at the requested price.
	CollateralFraction float64 `yaml:"collateral_fraction"`
	// MaxWaitTicks is how many ticks a client may postpone a new job's request before
	// the job is dropped.
	MaxWaitTicks int `yaml:"max_wait_ticks"`
	// Wallet is the client's initial wallet (its budget).
	Wallet Wallet `yaml:"wallet"`
}

// DiscoveryConfig is the provider directory: a client sends a job's request to
// Candidates providers able to run it.
type DiscoveryConfig struct {
	Candidates int `yaml:"candidates"`
}

// EscrowConfig: the client's lock transaction lands DelayTicks after its accept (0: in
// the same tick, right after the accept).
type EscrowConfig struct {
	DelayTicks int `yaml:"delay_ticks"`
}

// ValidationConfig: the validator judges a delivered result DelayTicks after delivery,
// and rejects a correct result with probability ErrorRate.
type ValidationConfig struct {
	DelayTicks int     `yaml:"delay_ticks"`
	ErrorRate  float64 `yaml:"error_rate"`
}

// ElectricityConfig: providers accrue their electricity cost every tick and pay the
// accrued bill in USDC to the utility account every BillingPeriodTicks.
type ElectricityConfig struct {
	BillingPeriodTicks int `yaml:"billing_period_ticks"`
}

// TreasuryConfig is the swap pool (an account that holds reserves of every asset and
// swaps at the tick's prices) and the treasury decisions.
type TreasuryConfig struct {
	// PeriodTicks: every agent gets a treasury decision every PeriodTicks ticks
	// (staggered by agent id); 0 disables treasury decisions.
	PeriodTicks int `yaml:"period_ticks"`
	// Fee is the pool's fee, a fraction of the amount swapped.
	Fee float64 `yaml:"fee"`
	// Pool is the pool's initial reserves, whole tokens.
	Pool PoolReserves `yaml:"pool"`
}

// PoolReserves are amounts of each asset in whole tokens.
type PoolReserves struct {
	USDC float64 `yaml:"usdc"`
	ETH  float64 `yaml:"eth"`
	HIVE float64 `yaml:"hive"`
}

// GasConfig is the gas schedule, one entry per transaction kind.
type GasConfig struct {
	EscrowLock     TxGas `yaml:"escrow_lock"`
	CollateralLock TxGas `yaml:"collateral_lock"`
	Attestation    TxGas `yaml:"attestation"`
	Settlement     TxGas `yaml:"settlement"`
	Transfer       TxGas `yaml:"transfer"`
	Swap           TxGas `yaml:"swap"`
}

// TxGas is the L2 gas units and the compressed size (bytes) of one transaction kind.
type TxGas struct {
	Units     int64 `yaml:"units"`
	DataBytes int64 `yaml:"data_bytes"`
}

// Schedule converts the config to the chain's GasSchedule.
func (g *GasConfig) Schedule() GasSchedule {
	var s GasSchedule
	for k, t := range g.kinds() {
		s.Units[k] = t.Units
		s.DataSize[k] = t.DataBytes
	}
	return s
}

func (g *GasConfig) kinds() [NumTxKinds]TxGas {
	return [NumTxKinds]TxGas{g.EscrowLock, g.CollateralLock, g.Attestation, g.Settlement, g.Transfer, g.Swap}
}

func gasConfigOf(s GasSchedule) GasConfig {
	t := func(k TxKind) TxGas { return TxGas{Units: s.Units[k], DataBytes: s.DataSize[k]} }
	return GasConfig{
		EscrowLock: t(TxEscrowLock), CollateralLock: t(TxCollateralLock), Attestation: t(TxAttestation),
		Settlement: t(TxSettlement), Transfer: t(TxTransfer), Swap: t(TxSwap),
	}
}

// DefaultEngineConfig returns the default market: 100 providers in five classes and 900
// clients in three, calibrated to the hardware catalog of specs/world.md (rent ranges,
// power) and, where no public figure exists, to stated assumptions (see
// experiments/default.yaml).
func DefaultEngineConfig() EngineConfig {
	usEU := []string{"germany", "sweden", "ireland", "texas", "virginia", "washington", "california"}
	return EngineConfig{
		Providers: []ProviderClass{
			{Name: "rtx-4090", Count: 35, GPUModel: "rtx-4090", GPUs: 1, CPUCores: 16, RAMGB: 64, IdlePowerW: 60,
				CapexUSDPerHour: 0.11, Locations: usEU, FailuresPerHour: Range{0.002, 0.02}, Observation: ObserveFull,
				Wallet: Wallet{USDC: Range{200, 2000}, ETH: Range{0.02, 0.1}, HIVE: Range{0, 500}}},
			{Name: "rtx-3090", Count: 20, GPUModel: "rtx-3090", GPUs: 1, CPUCores: 12, RAMGB: 32, IdlePowerW: 50,
				CapexUSDPerHour: 0.06, Locations: usEU, FailuresPerHour: Range{0.002, 0.02}, Observation: ObserveFull,
				Wallet: Wallet{USDC: Range{200, 2000}, ETH: Range{0.02, 0.1}, HIVE: Range{0, 500}}},
			{Name: "a100x8", Count: 10, GPUModel: "a100-80gb-sxm", GPUs: 8, CPUCores: 128, RAMGB: 1024, IdlePowerW: 500,
				CapexUSDPerHour: 4.3, Locations: []string{"germany", "sweden", "texas", "virginia", "washington"},
				FailuresPerHour: Range{0.0005, 0.005}, Observation: ObserveFull,
				Wallet: Wallet{USDC: Range{5000, 20000}, ETH: Range{0.05, 0.2}, HIVE: Range{0, 1000}}},
			{Name: "h100x8", Count: 5, GPUModel: "h100-sxm", GPUs: 8, CPUCores: 192, RAMGB: 2048, IdlePowerW: 800,
				CapexUSDPerHour: 8.6, Locations: []string{"sweden", "texas", "virginia", "washington"},
				FailuresPerHour: Range{0.0005, 0.005}, Observation: ObserveFull,
				Wallet: Wallet{USDC: Range{10000, 40000}, ETH: Range{0.05, 0.2}, HIVE: Range{0, 1000}}},
			{Name: "cpu-16c", Count: 20, CPUCores: 16, RAMGB: 64, IdlePowerW: 40,
				CapexUSDPerHour: 0.057, Locations: usEU, FailuresPerHour: Range{0.001, 0.01}, Observation: ObserveFull,
				Wallet: Wallet{USDC: Range{50, 500}, ETH: Range{0.01, 0.05}, HIVE: Range{0, 200}}},
			{Name: "edge", Count: 10, CPUCores: 4, RAMGB: 8, IdlePowerW: 5,
				CapexUSDPerHour: 0.005, Locations: usEU, FailuresPerHour: Range{0.005, 0.05}, Observation: ObserveOnchain,
				Wallet: Wallet{USDC: Range{10, 100}, ETH: Range{0.005, 0.02}, HIVE: Range{0, 50}}},
		},
		Clients: []ClientClass{
			{Name: "inference", Count: 450, JobsPerDay: Range{0.5, 2}, MinGPUMemGB: 16,
				GPUs: IntRange{1, 1}, CPUCores: IntRange{2, 8}, RAMGB: IntRange{8, 32},
				DurationHours:       LogNormal{Median: 1, SDLog: 0.8, Min: 1.0 / 12, Max: 24},
				ValueUSDPerUnitHour: LogNormal{Median: 0.6, SDLog: 0.4, Min: 0.05, Max: 5},
				PaymentAsset:        "USDC", CollateralFraction: 0.1, MaxWaitTicks: 12,
				Wallet: Wallet{USDC: Range{50, 500}, ETH: Range{0.01, 0.05}, HIVE: Range{0, 200}}},
			{Name: "training", Count: 150, JobsPerDay: Range{0.2, 1}, MinGPUMemGB: 80,
				GPUs: IntRange{1, 8}, CPUCores: IntRange{8, 64}, RAMGB: IntRange{64, 512},
				DurationHours:       LogNormal{Median: 6, SDLog: 1, Min: 1, Max: 72},
				ValueUSDPerUnitHour: LogNormal{Median: 2.5, SDLog: 0.4, Min: 0.5, Max: 10},
				PaymentAsset:        "USDC", CollateralFraction: 0.2, MaxWaitTicks: 24,
				Wallet: Wallet{USDC: Range{2000, 20000}, ETH: Range{0.02, 0.1}, HIVE: Range{0, 500}}},
			{Name: "batch-cpu", Count: 300, JobsPerDay: Range{1, 4},
				GPUs: IntRange{0, 0}, CPUCores: IntRange{1, 8}, RAMGB: IntRange{1, 16},
				DurationHours:       LogNormal{Median: 0.5, SDLog: 1, Min: 1.0 / 12, Max: 8},
				ValueUSDPerUnitHour: LogNormal{Median: 0.03, SDLog: 0.5, Min: 0.002, Max: 0.5},
				PaymentAsset:        "HIVE", CollateralFraction: 0.1, MaxWaitTicks: 12,
				Wallet: Wallet{USDC: Range{10, 100}, ETH: Range{0.005, 0.02}, HIVE: Range{100, 1000}}},
		},
		Discovery:   DiscoveryConfig{Candidates: 3},
		Escrow:      EscrowConfig{DelayTicks: 0},
		Validation:  ValidationConfig{DelayTicks: 1, ErrorRate: 0.01},
		Electricity: ElectricityConfig{BillingPeriodTicks: 288},
		Treasury: TreasuryConfig{PeriodTicks: 288, Fee: 0.003,
			Pool: PoolReserves{USDC: 100_000_000, ETH: 50_000, HIVE: 100_000_000}},
		Gas: gasConfigOf(DefaultGasSchedule()),
	}
}

var className = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

type checker struct{ errs []error }

func (c *checker) add(path, format string, args ...any) {
	c.errs = append(c.errs, fieldpath.Errorf(path, format, args...))
}

func (c *checker) rangeOK(path string, r Range, lo, hi float64) {
	switch {
	case !finite(r.Min) || r.Min < lo || r.Min > hi:
		c.add(path+".min", "must be in [%g, %g], got %g", lo, hi, r.Min)
	case !finite(r.Max) || r.Max < r.Min || r.Max > hi:
		c.add(path+".max", "must be in [min=%g, %g], got %g", r.Min, hi, r.Max)
	}
}

func (c *checker) intRange(path string, r IntRange, lo, hi int) {
	switch {
	case r.Min < lo || r.Min > hi:
		c.add(path+".min", "must be in [%d, %d], got %d", lo, hi, r.Min)
	case r.Max < r.Min || r.Max > hi:
		c.add(path+".max", "must be in [min=%d, %d], got %d", r.Min, hi, r.Max)
	}
}

func (c *checker) logNormal(path string, l LogNormal) {
	if !(l.Median > 0) || !finite(l.Median) {
		c.add(path+".median", "must be a positive number, got %g", l.Median)
	}
	if !(l.SDLog >= 0) || l.SDLog > 10 {
		c.add(path+".sd_log", "must be in [0, 10], got %g", l.SDLog)
	}
	if !(l.Min > 0) || !finite(l.Min) {
		c.add(path+".min", "must be a positive number, got %g", l.Min)
	} else if !(l.Max >= l.Min) || !finite(l.Max) {
		c.add(path+".max", "must be a finite number >= min (%g), got %g", l.Min, l.Max)
	}
}

func (c *checker) wallet(path string, w Wallet) {
	const maxTokens = 1e9 // keeps every balance far inside int64 base units
	c.rangeOK(path+".usdc", w.USDC, 0, maxTokens)
	c.rangeOK(path+".eth", w.ETH, 0, maxTokens)
	c.rangeOK(path+".hive", w.HIVE, 0, maxTokens)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// MaxAgents bounds the population of an episode (providers plus clients).
const MaxAgents = 1 << 24

// Validate checks the section on its own (references to catalog GPU models and
// electricity locations are checked by the caller that knows them, see Setup) and
// returns the errors.Join of *fieldpath.Error values with paths relative to the section,
// e.g. "providers[2].count".
func (c *EngineConfig) Validate() error {
	ck := &checker{}
	if len(c.Providers) == 0 {
		ck.add("providers", "must list at least one provider class")
	}
	if len(c.Clients) == 0 {
		ck.add("clients", "must list at least one client class")
	}
	names := map[string]string{}
	total := 0
	for i := range c.Providers {
		p := &c.Providers[i]
		path := fmt.Sprintf("providers[%d]", i)
		if !className.MatchString(p.Name) {
			ck.add(path+".name", "must be lowercase letters, digits, '.', '_' and '-', got %q", p.Name)
		} else if prev, dup := names[p.Name]; dup {
			ck.add(path+".name", "duplicate class name %q (also %s)", p.Name, prev)
		}
		names[p.Name] = path
		if p.Count < 0 || p.Count > MaxAgents {
			ck.add(path+".count", "must be in [0, %d], got %d", MaxAgents, p.Count)
		} else {
			total += p.Count
		}
		if p.GPUModel == "" && p.GPUs != 0 {
			ck.add(path+".gpus", "must be 0 for a CPU-only machine (gpu_model \"\"), got %d", p.GPUs)
		}
		if p.GPUModel != "" && (p.GPUs < 1 || p.GPUs > 1024) {
			ck.add(path+".gpus", "must be in [1, 1024] with a gpu_model, got %d", p.GPUs)
		}
		if p.CPUCores < 1 || p.CPUCores > 1<<15 {
			ck.add(path+".cpu_cores", "must be in [1, 32768], got %d", p.CPUCores)
		}
		if p.RAMGB < 1 || p.RAMGB > 1<<24 {
			ck.add(path+".ram_gb", "must be in [1, %d], got %d", 1<<24, p.RAMGB)
		}
		if !(p.IdlePowerW >= 0) || p.IdlePowerW > 1e6 {
			ck.add(path+".idle_power_w", "must be in [0, 1e6] watts, got %g", p.IdlePowerW)
		}
		if !(p.CapexUSDPerHour >= 0) || p.CapexUSDPerHour > 1e6 {
			ck.add(path+".capex_usd_per_hour", "must be in [0, 1e6], got %g", p.CapexUSDPerHour)
		}
		if len(p.Locations) == 0 {
			ck.add(path+".locations", "must list at least one location")
		}
		ck.rangeOK(path+".failures_per_hour", p.FailuresPerHour, 0, 1e3)
		if p.Observation != ObserveFull && p.Observation != ObserveOnchain {
			ck.add(path+".observation", "must be %q or %q, got %q", ObserveFull, ObserveOnchain, p.Observation)
		}
		ck.wallet(path+".wallet", p.Wallet)
	}
	for i := range c.Clients {
		cl := &c.Clients[i]
		path := fmt.Sprintf("clients[%d]", i)
		if !className.MatchString(cl.Name) {
			ck.add(path+".name", "must be lowercase letters, digits, '.', '_' and '-', got %q", cl.Name)
		} else if prev, dup := names[cl.Name]; dup {
			ck.add(path+".name", "duplicate class name %q (also %s)", cl.Name, prev)
		}
		names[cl.Name] = path
		if cl.Count < 0 || cl.Count > MaxAgents {
			ck.add(path+".count", "must be in [0, %d], got %d", MaxAgents, cl.Count)
		} else {
			total += cl.Count
		}
		ck.rangeOK(path+".jobs_per_day", cl.JobsPerDay, 0, MaxJobsPerDay)
		if cl.MinGPUMemGB < 0 || cl.MinGPUMemGB > 1<<15 {
			ck.add(path+".min_gpu_mem_gb", "must be in [0, 32768], got %d", cl.MinGPUMemGB)
		}
		ck.intRange(path+".gpus", cl.GPUs, 0, 1024)
		ck.intRange(path+".cpu_cores", cl.CPUCores, 0, 1<<15)
		ck.intRange(path+".ram_gb", cl.RAMGB, 0, 1<<24)
		if cl.GPUs.Min == 0 && cl.CPUCores.Min == 0 {
			ck.add(path+".cpu_cores.min", "must be at least 1 when gpus.min is 0 (a job needs a GPU or a core)")
		}
		if cl.GPUModel != "" && cl.GPUs.Max == 0 {
			ck.add(path+".gpu_model", "names a GPU model but gpus.max is 0")
		}
		ck.logNormal(path+".duration_hours", cl.DurationHours)
		if cl.DurationHours.Max > 24*365 {
			ck.add(path+".duration_hours.max", "must be at most a year (8760 hours), got %g", cl.DurationHours.Max)
		}
		ck.logNormal(path+".value_usd_per_unit_hour", cl.ValueUSDPerUnitHour)
		if cl.ValueUSDPerUnitHour.Max > 1e6 {
			ck.add(path+".value_usd_per_unit_hour.max", "must be at most 1e6, got %g", cl.ValueUSDPerUnitHour.Max)
		}
		if cl.PaymentAsset != "USDC" && cl.PaymentAsset != "HIVE" {
			ck.add(path+".payment_asset", "must be USDC or HIVE, got %q", cl.PaymentAsset)
		}
		if !(cl.CollateralFraction >= 0 && cl.CollateralFraction <= 10) {
			ck.add(path+".collateral_fraction", "must be in [0, 10], got %g", cl.CollateralFraction)
		}
		if cl.MaxWaitTicks < 0 || cl.MaxWaitTicks > 1<<20 {
			ck.add(path+".max_wait_ticks", "must be in [0, %d], got %d", 1<<20, cl.MaxWaitTicks)
		}
		ck.wallet(path+".wallet", cl.Wallet)
	}
	if total < 1 || total > MaxAgents {
		ck.add("providers", "the population (providers plus clients) must have between 1 and %d agents, got %d", MaxAgents, total)
	}
	if c.Discovery.Candidates < 1 || c.Discovery.Candidates > 64 {
		ck.add("discovery.candidates", "must be in [1, 64], got %d", c.Discovery.Candidates)
	}
	if c.Escrow.DelayTicks < 0 || c.Escrow.DelayTicks > 1<<20 {
		ck.add("escrow.delay_ticks", "must be in [0, %d], got %d", 1<<20, c.Escrow.DelayTicks)
	}
	if c.Validation.DelayTicks < 0 || c.Validation.DelayTicks > 1<<20 {
		ck.add("validation.delay_ticks", "must be in [0, %d], got %d", 1<<20, c.Validation.DelayTicks)
	}
	if !(c.Validation.ErrorRate >= 0 && c.Validation.ErrorRate <= 1) {
		ck.add("validation.error_rate", "must be in [0, 1], got %g", c.Validation.ErrorRate)
	}
	if c.Electricity.BillingPeriodTicks < 1 || c.Electricity.BillingPeriodTicks > 1<<20 {
		ck.add("electricity.billing_period_ticks", "must be in [1, %d], got %d", 1<<20, c.Electricity.BillingPeriodTicks)
	}
	if c.Treasury.PeriodTicks < 0 || c.Treasury.PeriodTicks > 1<<20 {
		ck.add("treasury.period_ticks", "must be in [0, %d] (0 disables treasury decisions), got %d", 1<<20, c.Treasury.PeriodTicks)
	}
	if !(c.Treasury.Fee >= 0 && c.Treasury.Fee < 1) {
		ck.add("treasury.fee", "must be in [0, 1), got %g", c.Treasury.Fee)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"usdc", c.Treasury.Pool.USDC}, {"eth", c.Treasury.Pool.ETH}, {"hive", c.Treasury.Pool.HIVE}} {
		if !(r.v >= 0) || r.v > 1e12 {
			ck.add("treasury.pool."+r.name, "must be in [0, 1e12] tokens, got %g", r.v)
		}
	}
	gasNames := [NumTxKinds]string{"escrow_lock", "collateral_lock", "attestation", "settlement", "transfer", "swap"}
	for k, g := range c.Gas.kinds() {
		if g.Units < 0 || g.Units > 1<<40 {
			ck.add("gas."+gasNames[k]+".units", "must be in [0, %d], got %d", int64(1)<<40, g.Units)
		}
		if g.DataBytes < 0 || g.DataBytes > 1<<24 {
			ck.add("gas."+gasNames[k]+".data_bytes", "must be in [0, %d], got %d", 1<<24, g.DataBytes)
		}
	}
	return errors.Join(ck.errs...)
}

// CheckRefs checks the section's references against what the world provides: every
// provider and client GPU model must be a GPU of the catalog (gpus lists them), every
// provider location one of locations. A provider class whose machine cannot hold any
// job of some client class is not an error (it just never gets that class's requests),
// but a client class that no provider class can ever serve is: its path names the field
// that makes it unservable. Paths are relative to the section.
func (c *EngineConfig) CheckRefs(gpus []GPUSpec, locations []string) error {
	ck := &checker{}
	gpuIdx := map[string]int{}
	var models []string
	for i, g := range gpus {
		gpuIdx[g.Model] = i
		models = append(models, g.Model)
	}
	locSet := map[string]bool{}
	for _, l := range locations {
		locSet[l] = true
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		path := fmt.Sprintf("providers[%d]", i)
		if p.GPUModel != "" {
			if _, ok := gpuIdx[p.GPUModel]; !ok {
				ck.add(path+".gpu_model", "unknown GPU model %q (catalog GPUs: %v; add it under world.catalog)", p.GPUModel, models)
			}
		}
		for j, l := range p.Locations {
			if !locSet[l] {
				ck.add(fmt.Sprintf("%s.locations[%d]", path, j), "unknown location %q (world.locations: %v)", l, locations)
			}
		}
	}
	for i := range c.Clients {
		cl := &c.Clients[i]
		path := fmt.Sprintf("clients[%d]", i)
		if cl.GPUModel != "" {
			if _, ok := gpuIdx[cl.GPUModel]; !ok {
				ck.add(path+".gpu_model", "unknown GPU model %q (catalog GPUs: %v; add it under world.catalog)", cl.GPUModel, models)
				continue
			}
		}
		if cl.Count == 0 {
			continue
		}
		// The smallest job of the class must fit some provider class.
		fits := false
		for j := range c.Providers {
			p := &c.Providers[j]
			if p.Count == 0 {
				continue
			}
			mem := 0.0
			if k, ok := gpuIdx[p.GPUModel]; ok {
				mem = gpus[k].MemoryGB
			}
			gpuOK := cl.GPUs.Min == 0 || (p.GPUs >= cl.GPUs.Min && (cl.GPUModel == "" || cl.GPUModel == p.GPUModel) &&
				mem >= float64(cl.MinGPUMemGB))
			if gpuOK && p.CPUCores >= cl.CPUCores.Min && p.RAMGB >= cl.RAMGB.Min {
				fits = true
				break
			}
		}
		if !fits && len(ck.errs) == 0 {
			ck.add(path+".gpus.min", "no provider class can run even the smallest job of this class (gpus %d, gpu_model %q, min_gpu_mem_gb %d, cpu_cores %d, ram_gb %d)",
				cl.GPUs.Min, cl.GPUModel, cl.MinGPUMemGB, cl.CPUCores.Min, cl.RAMGB.Min)
		}
	}
	return errors.Join(ck.errs...)
}

// CheckScheme checks the parts of the section that must agree with the scheme's
// deadlines: a delivered result must be validated before the arbitration deadline
// (validation.delay_ticks < scheme.arbitration_window), and an escrow lock must be able
// to land before the offer deadline (escrow.delay_ticks < scheme.offer_window), since
// the chain refuses a buy attestation after it. Paths are relative to the market
// section.
func (c *EngineConfig) CheckScheme(s scheme.Config) error {
	ck := &checker{}
	if int64(c.Validation.DelayTicks) >= s.ArbitrationWindow {
		ck.add("validation.delay_ticks", "must be below scheme.arbitration_window (%d ticks), got %d: a result must be judged before the arbitration deadline",
			s.ArbitrationWindow, c.Validation.DelayTicks)
	}
	if int64(c.Escrow.DelayTicks) >= s.OfferWindow {
		ck.add("escrow.delay_ticks", "must be below scheme.offer_window (%d ticks), got %d: the buy attestation must land before the offer deadline",
			s.OfferWindow, c.Escrow.DelayTicks)
	}
	return errors.Join(ck.errs...)
}

// MaxJobsPerDay bounds a client's job arrival rate: clients[].jobs_per_day.max, and that
// times the scenario's demand multiplier.
const MaxJobsPerDay = 1e5

// CheckScenario checks the scenario's knobs (Setup.ChurnPerDay and
// Setup.DemandMultiplier) against the section and the tick length: on average at most
// one departure per provider per tick (churnPerDay <= 24 x ticksPerHour), and no client
// class above MaxJobsPerDay jobs a day once the multiplier applies. Past these bounds the
// work and memory of a tick grow without limit (a rate of 1e12 exhausts memory in a few
// ticks). Errors are *fieldpath.Error values with the paths "provider_churn_per_day"
// and "demand_multiplier" (the keys of data.ScenarioParams); the caller maps them to
// where the values came from.
func (c *EngineConfig) CheckScenario(churnPerDay, demandMultiplier float64, ticksPerHour int64) error {
	ck := &checker{}
	tpd := 24 * float64(ticksPerHour)
	if !(churnPerDay >= 0) || !finite(churnPerDay) {
		ck.add("provider_churn_per_day", "must be a finite number >= 0, got %g", churnPerDay)
	} else if ticksPerHour > 0 && churnPerDay > tpd {
		ck.add("provider_churn_per_day", "must be at most %g (one departure per provider per tick), got %g", tpd, churnPerDay)
	}
	if !(demandMultiplier > 0) || !finite(demandMultiplier) {
		ck.add("demand_multiplier", "must be a positive number, got %g", demandMultiplier)
		return errors.Join(ck.errs...)
	}
	for i := range c.Clients {
		cl := &c.Clients[i]
		if r := cl.JobsPerDay.Max * demandMultiplier; r > MaxJobsPerDay {
			ck.add("demand_multiplier", "%g times clients[%d].jobs_per_day.max (%g) is %g jobs a day per client, more than %g",
				demandMultiplier, i, cl.JobsPerDay.Max, r, float64(MaxJobsPerDay))
			break
		}
	}
	return errors.Join(ck.errs...)
}
