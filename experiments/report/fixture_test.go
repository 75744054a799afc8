package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hivegym/hivegym/internal/confint"
	"github.com/hivegym/hivegym/internal/rng"
)

// The fixtures: small, hand-made but realistic run directories in the format of
// docs/run-dir.md — two policy groups, three evaluation seeds, a few hundred ticks
// and a few dozen training iterations — written by the tests themselves, because the
// commands that write real run directories are built in parallel.

type fixture struct {
	name   string
	kind   string
	seed   uint64
	seeds  []uint64
	ticks  int
	iters  int
	skill  float64 // shifts the providers' returns, so that runs differ
	sweep  string
	params map[string]any
	status string
	// files to leave out, by name
	omit map[string]bool
}

var fixtureGroups = []groupInfo{
	{Name: "providers-ppo", Role: "provider", Kind: "ppo", Agents: 4},
	{Name: "clients-scripted", Role: "client", Kind: "scripted", Agents: 8},
}

func defaultFixture(name string, seed uint64) fixture {
	return fixture{name: name, kind: "eval", seed: seed, seeds: []uint64{seed*10 + 1, seed*10 + 2, seed*10 + 3},
		ticks: 300, iters: 40, skill: 1, status: "done"}
}

func ff(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// writeFixture writes the run directory dir/f.name and returns its path.
func writeFixture(t testing.TB, dir string, f fixture) string {
	t.Helper()
	d := filepath.Join(dir, f.name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if f.omit[name] {
			return
		}
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := rng.New(f.seed, "report-fixture")

	run := map[string]any{"kind": f.kind, "name": f.name, "seed": f.seed, "ticks": f.ticks, "episodes": len(f.seeds),
		"status": f.status, "groups": fixtureGroups}
	if f.status == "failed" {
		run["error"] = "market: provider p-2 ran out of collateral"
	}
	if f.params != nil {
		run["params"] = f.params
		run["sweep"] = f.sweep
	}
	b, _ := json.MarshalIndent(run, "", "  ")
	write(fileRun, string(b)+"\n")

	write(fileConfig, fmt.Sprintf(`seed: %d
metrics:
  risk_free: 0
  mar: 0
  eta: 0.01
scheme:
  name: alternating-offers
market:
  providers: 4
  clients: 8
world:
  tick: 5m
  start: 2024-01-01T00:00:00Z
  scenario:
    name: gas-spike
`, f.seed))

	// curves.csv
	var cb strings.Builder
	cb.WriteString("iteration,group,metric,value\n")
	for it := 0; it < f.iters; it++ {
		for gi, g := range fixtureGroups {
			if g.Kind != "ppo" && gi > 0 {
				continue
			}
			ret := f.skill*(1-math.Exp(-float64(it)/10)) + 0.1*r.NormFloat64()
			pl := 0.5*math.Exp(-float64(it)/15) + 0.02*r.NormFloat64()
			vl := 2*math.Exp(-float64(it)/8) + 0.05*r.NormFloat64()
			ent := 1.4 - 0.01*float64(it)
			for _, m := range []struct {
				n string
				v float64
			}{{"charts/episodic_return", ret}, {"losses/policy_loss", pl}, {"losses/value_loss", vl}, {"losses/entropy", ent}} {
				fmt.Fprintf(&cb, "%d,%s,%s,%s\n", it, g.Name, m.n, ff(m.v))
			}
		}
	}
	write(fileCurves, cb.String())

	// equity.csv and the episodes' metrics from it.
	var eb strings.Builder
	eb.WriteString("seed,tick,group,wealth\n")
	type key struct {
		seed  uint64
		group string
	}
	metric := map[key]map[string]float64{}
	for _, s := range f.seeds {
		for gi, g := range fixtureGroups {
			w := 1.0
			peak, mdd := 1.0, 0.0
			var rets []float64
			for tk := 0; tk < f.ticks; tk++ {
				if tk > 0 {
					mu := 0.0004 * f.skill
					if gi == 1 {
						mu = -0.0001
					}
					ret := mu + 0.004*r.NormFloat64()
					w *= 1 + ret
					rets = append(rets, ret)
				}
				peak = math.Max(peak, w)
				mdd = math.Min(mdd, (w-peak)/peak)
				fmt.Fprintf(&eb, "%d,%d,%s,%s\n", s, tk, g.Name, ff(w))
			}
			mean, sd := 0.0, 0.0
			for _, x := range rets {
				mean += x
			}
			mean /= float64(len(rets))
			for _, x := range rets {
				sd += (x - mean) * (x - mean)
			}
			sd = math.Sqrt(sd / float64(len(rets)-1))
			ann := math.Sqrt(105120)
			metric[key{s, g.Name}] = map[string]float64{
				"cumulative_return": w - 1, "sharpe": mean / sd * ann, "sortino": mean / sd * ann * 1.3,
				"max_drawdown": mdd, "dsr_final": 0.01 * r.NormFloat64(),
			}
		}
	}
	write(fileEquity, eb.String())

	var ep strings.Builder
	ep.WriteString("seed,group,metric,value\n")
	for _, s := range f.seeds {
		for _, g := range fixtureGroups {
			for _, m := range fixedMetrics {
				fmt.Fprintf(&ep, "%d,%s,%s,%s\n", s, g.Name, m, ff(metric[key{s, g.Name}][m]))
			}
		}
	}
	write(fileEpisodes, ep.String())

	type mv struct {
		Mean float64    `json:"mean"`
		CI95 [2]float64 `json:"ci95"`
	}
	type mg struct {
		Name    string        `json:"name"`
		Role    string        `json:"role"`
		Kind    string        `json:"kind"`
		Metrics map[string]mv `json:"metrics"`
	}
	var doc struct {
		Groups []mg `json:"groups"`
	}
	for _, g := range fixtureGroups {
		gm := mg{Name: g.Name, Role: g.Role, Kind: g.Kind, Metrics: map[string]mv{}}
		for _, m := range fixedMetrics {
			var xs []float64
			for _, s := range f.seeds {
				xs = append(xs, metric[key{s, g.Name}][m])
			}
			iv := confint.Mean95(xs)
			gm.Metrics[m] = mv{iv.Mean, [2]float64{iv.Lo, iv.Hi}}
		}
		doc.Groups = append(doc.Groups, gm)
	}
	b, _ = json.MarshalIndent(doc, "", "  ")
	write(fileMetrics, string(b)+"\n")

	// market.csv
	var mb strings.Builder
	mb.WriteString("seed,tick,deals,requests,deal_rate,price_per_gpu_hour,utilization,gas_usd,timeouts,slashes\n")
	for _, s := range f.seeds {
		util := 0.3
		price := 1.2
		for tk := 0; tk < f.ticks; tk++ {
			req := 2 + r.IntN(4)
			deals := r.IntN(req + 1)
			rate := math.NaN()
			if req > 0 {
				rate = float64(deals) / float64(req)
			}
			price = math.Max(0.2, price+0.02*r.NormFloat64())
			util = math.Min(1, math.Max(0, util+0.01*r.NormFloat64()+0.002))
			gas := 0.0015 * float64(deals+req)
			if tk >= 150 && tk < 170 {
				gas *= 20 // the gas-spike scenario
			}
			timeouts := req - deals - r.IntN(req-deals+1)
			slashes := 0
			if r.Float64() < 0.01 {
				slashes = 1
			}
			fmt.Fprintf(&mb, "%d,%d,%d,%d,%s,%s,%s,%s,%d,%d\n", s, tk, deals, req, ff(rate), ff(price), ff(util), ff(gas), timeouts, slashes)
		}
	}
	write(fileMarket, mb.String())

	// series.csv in the layout of `hivegym series`.
	var sb strings.Builder
	sb.WriteString("time,eth_usd,hive_usd,usdc_usd,l1_base_fee_gwei,l2_tx_usd,elec_texas_usd_per_kwh,elec_sweden_usd_per_kwh\n")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	eth, hive, fee := 2300.0, 1.0, 15.0
	for tk := 0; tk < f.ticks; tk++ {
		if tk > 0 {
			z := r.NormFloat64()
			eth *= math.Exp(0.003 * z)
			hive *= math.Exp(0.0045*z + 0.002*r.NormFloat64())
			fee = math.Max(1, fee*math.Exp(0.05*r.NormFloat64()))
		}
		h := float64(tk%288) / 288 * 2 * math.Pi
		fmt.Fprintf(&sb, "%s,%s,%s,1,%s,%s,%s,%s\n", t0.Add(time.Duration(tk)*5*time.Minute).Format(time.RFC3339),
			ff(eth), ff(hive), ff(fee), ff(fee*1e-4), ff(0.07+0.02*math.Sin(h)), ff(0.035+0.005*math.Sin(h)))
	}
	write(fileSeries, sb.String())

	// threads.jsonl
	var tb strings.Builder
	outcomes := []string{"settled", "terminated", "settled", "timed_out", "settled", "settled", "terminated", "settled"}
	for i, o := range outcomes {
		ask, bid := 1.5+0.1*float64(i%3), 0.8+0.05*float64(i%4)
		var offers []map[string]any
		n := 2 + i%5
		for round := 0; round < n; round++ {
			if round%2 == 0 {
				offers = append(offers, map[string]any{"round": round, "from": "client", "price_per_hour_usd": math.Round(bid*1000) / 1000})
				bid += 0.12
			} else {
				offers = append(offers, map[string]any{"round": round, "from": "provider", "price_per_hour_usd": math.Round(ask*1000) / 1000})
				ask -= 0.1
			}
		}
		line, _ := json.Marshal(map[string]any{"thread": fmt.Sprintf("t-%d", 40+i), "provider": fmt.Sprintf("p-%d", i%4),
			"client": fmt.Sprintf("c-%d", i%8), "outcome": o, "offers": offers})
		tb.Write(line)
		tb.WriteByte('\n')
	}
	write(fileThreads, tb.String())
	return d
}
