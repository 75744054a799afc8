package env

import (
	"testing"
	"time"

	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/market"
)

// statsRun runs an episode of s with the market's random policy (structured actions) and
// returns the market's statistics after every tick, and the world's L1 base fee (gwei)
// and Texas electricity price at every tick.
func statsRun(t *testing.T, s Settings, seed uint64) (per []market.Stats, l1, texas []float64) {
	t.Helper()
	e := newEnv(t, s)
	e.SetEncoding(false)
	e.SetStop(func() bool {
		per = append(per, e.Market().Stats())
		w := e.World()
		l1 = append(l1, float64(w.L1BaseFeeWei())/1e9)
		i, _ := w.Location("texas")
		texas = append(texas, w.ElecUSDPerKWh(i))
		return false
	})
	pol := market.NewRandomPolicy(rng.New(seed, "policy"))
	episode(t, e, seed, func(e *Env, b *Batch, out []Action) {
		for i := range b.Agents {
			out[i] = Action{Structured: true}
			if b.Decisions[i].Kind != 0 {
				out[i].Response = pol.Decide(e.Market(), &b.Decisions[i])
			}
		}
	}, nil)
	return per, l1, texas
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestGasSpikeLowersOnchainActivity: the gas-spike scenario (L1 gas demand x20 for a
// day) makes on-chain transactions dearer, and a market of small CPU jobs, where gas is
// a real share of a deal's value, sends fewer of them than the same seed without it.
func TestGasSpikeLowersOnchainActivity(t *testing.T) {
	s := smallSettings(420)
	s.Market.Providers = []market.ProviderClass{{Name: "cpu", Count: 30, CPUCores: 16, RAMGB: 64, IdlePowerW: 40,
		CapexUSDPerHour: 0.02, Locations: []string{"virginia"}, FailuresPerHour: market.Range{Min: 0, Max: 0},
		Observation: market.ObserveFull, Wallet: market.Wallet{USDC: market.Range{Min: 100, Max: 100}, ETH: market.Range{Min: 0.1, Max: 0.1}}}}
	s.Market.Clients = []market.ClientClass{{Name: "micro", Count: 300, JobsPerDay: market.Range{Min: 10, Max: 10},
		GPUs: market.IntRange{}, CPUCores: market.IntRange{Min: 1, Max: 2}, RAMGB: market.IntRange{Min: 1, Max: 2},
		DurationHours:       market.LogNormal{Median: 1.0 / 12, SDLog: 0, Min: 1.0 / 12, Max: 1.0 / 12},
		ValueUSDPerUnitHour: market.LogNormal{Median: 0.2, SDLog: 0.8, Min: 0.01, Max: 5},
		PaymentAsset:        "USDC", CollateralFraction: 0.1, MaxWaitTicks: 6,
		Wallet: market.Wallet{USDC: market.Range{Min: 50, Max: 50}, ETH: market.Range{Min: 0.1, Max: 0.1}}}}
	s.Market.Treasury.PeriodTicks = 0
	s.World.Scenario.GasSpike.AtTick = 100
	s.World.Scenario.GasSpike.Duration = 24 * time.Hour
	base, l1Base, _ := statsRun(t, s, 22)
	s.World.Scenario.Name = "gas-spike"
	spike, l1Spike, _ := statsRun(t, s, 22)
	const from, to = 130, 388 // the spike's day, once the base fee has climbed
	if r := mean(l1Spike[from:to]) / mean(l1Base[from:to]); r < 5 {
		t.Fatalf("the L1 base fee rose only %.1fx in the spike", r)
	}
	txs := func(per []market.Stats) int64 { return per[to].GasTxs - per[from].GasTxs }
	b, g := txs(base), txs(spike)
	t.Logf("on-chain transactions in ticks [%d, %d): baseline %d, gas spike %d (L1 base fee %.1f -> %.1f gwei)",
		from, to, b, g, mean(l1Base[from:to]), mean(l1Spike[from:to]))
	if b < 1000 {
		t.Fatalf("weak test: only %d transactions in the baseline window", b)
	}
	if float64(g) > 0.7*float64(b) {
		t.Errorf("gas spike: %d on-chain transactions, baseline %d: want at most 70%%", g, b)
	}
	// Before the spike the two runs are the same run.
	if base[90].GasTxs != spike[90].GasTxs {
		t.Errorf("the runs differ before the spike: %d vs %d transactions by tick 90", base[90].GasTxs, spike[90].GasTxs)
	}
}

// TestHeatwaveRaisesPrices: the heatwave scenario (electricity x3 in Texas for three
// days) raises providers' costs there, and the deals of a Texas market whose costs are
// mostly electricity clear at higher prices than the same seed without it.
func TestHeatwaveRaisesPrices(t *testing.T) {
	s := smallSettings(420)
	s.Market.Providers = []market.ProviderClass{{Name: "h100", Count: 40, GPUModel: "h100-sxm", GPUs: 1, CPUCores: 8, RAMGB: 64,
		IdlePowerW: 50, Locations: []string{"texas"}, FailuresPerHour: market.Range{Min: 0, Max: 0},
		Observation: market.ObserveFull, Wallet: market.Wallet{USDC: market.Range{Min: 100, Max: 100}, ETH: market.Range{Min: 0.1, Max: 0.1}}}}
	s.Market.Clients = []market.ClientClass{{Name: "gpu", Count: 300, JobsPerDay: market.Range{Min: 2, Max: 2},
		GPUs: market.IntRange{Min: 1, Max: 1}, CPUCores: market.IntRange{Min: 1, Max: 2}, RAMGB: market.IntRange{Min: 4, Max: 8},
		DurationHours:       market.LogNormal{Median: 1, SDLog: 0, Min: 1, Max: 1},
		ValueUSDPerUnitHour: market.LogNormal{Median: 0.12, SDLog: 0.5, Min: 0.01, Max: 1},
		PaymentAsset:        "USDC", CollateralFraction: 0.1, MaxWaitTicks: 6,
		Wallet: market.Wallet{USDC: market.Range{Min: 50, Max: 50}, ETH: market.Range{Min: 0.1, Max: 0.1}}}}
	s.Market.Treasury.PeriodTicks = 0
	s.World.Scenario.Heatwave.AtTick = 100
	s.World.Scenario.Heatwave.Location = "texas"
	base, _, elecBase := statsRun(t, s, 22)
	s.World.Scenario.Name = "heatwave"
	heat, _, elecHeat := statsRun(t, s, 22)
	const from, to = 110, 418
	if r := mean(elecHeat[from:to]) / mean(elecBase[from:to]); r < 2.5 {
		t.Fatalf("Texas electricity rose only %.2fx in the heatwave", r)
	}
	price := func(per []market.Stats) (float64, float64) {
		usd := per[to].GPUDealUSD - per[from].GPUDealUSD
		hours := per[to].GPUHoursDealt - per[from].GPUHoursDealt
		return usd / hours, hours
	}
	pb, hb := price(base)
	ph, hh := price(heat)
	t.Logf("mean price per GPU-hour in ticks [%d, %d): baseline %.4f USD (%.0f GPU-hours), heatwave %.4f USD (%.0f GPU-hours)",
		from, to, pb, hb, ph, hh)
	if hb < 100 || hh < 30 {
		t.Fatalf("weak test: %.0f and %.0f GPU-hours dealt", hb, hh)
	}
	if ph < 1.2*pb {
		t.Errorf("heatwave price %.4f USD per GPU-hour, baseline %.4f: want at least 20%% higher", ph, pb)
	}
}
