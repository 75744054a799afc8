package market

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
	"github.com/hivegym/hivegym/internal/tracecheck"
	"github.com/hivegym/hivegym/metrics"
	"github.com/hivegym/hivegym/scheme"
)

func TestTraceDeterministic(t *testing.T) {
	a := traceOf(t, testSetup(), 5, 200)
	b := traceOf(t, testSetup(), 5, 200)
	c := traceOf(t, testSetup(), 6, 200)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed: traces differ")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds: traces are equal")
	}
	if n := bytes.Count(a, []byte("\n")); n < 1000 {
		t.Fatalf("trace has only %d lines", n)
	}
}

// stressSetup exercises every path: the escrow lands late (collateral_missing), the
// provider verifies the escrow itself, validators err often, machines fail often,
// providers churn, small wallets run dry.
func stressSetup(name string) Setup {
	s := testSetup()
	s.Scheme.Scheme = name
	s.Scheme.Verify = scheme.VerifyAgent
	s.Engine.Escrow.DelayTicks = 2
	s.Engine.Validation.ErrorRate = 0.3
	s.Engine.Treasury.PeriodTicks = 24
	s.Engine.Electricity.BillingPeriodTicks = 36
	s.ChurnPerDay = 2
	for i := range s.Engine.Providers {
		s.Engine.Providers[i].FailuresPerHour = Range{0.05, 0.5}
		s.Engine.Providers[i].Wallet.ETH = Range{0, 0.0002}
	}
	for i := range s.Engine.Clients {
		s.Engine.Clients[i].Wallet.USDC = Range{0, 20}
		s.Engine.Clients[i].Wallet.ETH = Range{0, 0.0002}
	}
	return s
}

// movingExo makes prices and electricity move every tick, negative hours included.
func movingExo(seed uint64) func(int64, *Exo) {
	r := rng.New(seed, "test/exo")
	return func(tick int64, e *Exo) {
		e.PriceUSD[ETH] *= math.Exp(0.01 * r.NormFloat64())
		e.PriceUSD[HIVE] *= math.Exp(0.02 * r.NormFloat64())
		e.Fees.L1BaseFee = int64(float64(15_000_000_000) * math.Exp(r.NormFloat64()))
		for i := range e.Elec {
			e.Elec[i] = testElec[i] * (1 + 0.5*r.NormFloat64())
		}
	}
}

func TestBooksBalanceUnderStress(t *testing.T) {
	for _, name := range []string{scheme.ComputeMarketplace, scheme.CoopHiveApiary} {
		t.Run(name, func(t *testing.T) {
			s := stressSetup(name)
			m := newTestMarket(t, s)
			var buf bytes.Buffer
			m.SetTrace(NewTraceWriter(&buf, TraceMeta{Seed: 3, Ticks: 400, Policy: "random", Config: "stress"}))
			runMarket(t, m, 3, 400, movingExo(3), 1)
			if err := m.WriteFinal(false); err != nil {
				t.Fatal(err)
			}
			st := m.Stats()
			// The stress must reach the rare paths, or the test proves little.
			checks := []struct {
				name string
				n    int64
			}{{"deals", st.Deals}, {"completed", st.Completed}, {"failed", st.Failed}, {"validation rejected", st.ValidationRejected},
				{"slashes", st.Slashes}, {"timeouts", st.Timeouts}, {"leaves", st.Leaves}, {"joins", st.Joins},
				{"lock failures", st.LockFailed}, {"swaps", st.Swaps}}
			if name == scheme.ComputeMarketplace {
				checks = append(checks, struct {
					name string
					n    int64
				}{"collateral_missing", st.CollateralMissing})
			}
			for _, c := range checks {
				if c.n == 0 {
					t.Errorf("stress run never hit %s: %+v", c.name, st)
				}
			}
			if st.Joins != st.Leaves {
				t.Errorf("%d joins for %d leaves", st.Joins, st.Leaves)
			}
			rep, err := tracecheck.Check(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Threads != int(st.Threads) || rep.Scheme != name {
				t.Errorf("trace check saw %d threads of %s, the market opened %d", rep.Threads, rep.Scheme, st.Threads)
			}
		})
	}
}

func TestTamperedTraceFailsCheck(t *testing.T) {
	b := traceOf(t, testSetup(), 9, 120)
	if _, err := tracecheck.Check(bytes.NewReader(b)); err != nil {
		t.Fatalf("untampered trace: %v", err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.Contains(l, `"op":"release"`) {
			lines[i] = strings.Replace(l, `"amount":`, `"amount":1`, 1) // prepend a digit
			break
		}
	}
	_, err := tracecheck.Check(strings.NewReader(strings.Join(lines, "\n")))
	var te *tracecheck.Error
	if !errors.As(err, &te) {
		t.Fatalf("tampered trace passed the check (err %v)", err)
	}
}

// oneDealSetup is one rtx-4090 provider in Texas and one client whose jobs are one GPU
// for one hour worth 1 USD, with constant prices, no failures and no validator errors.
func oneDealSetup() Setup {
	s := testSetup()
	e := &s.Engine
	e.Providers = []ProviderClass{{Name: "p", Count: 1, GPUModel: "rtx-4090", GPUs: 1, CPUCores: 16, RAMGB: 64, IdlePowerW: 60,
		Locations: []string{"texas"}, Observation: ObserveFull,
		Wallet: Wallet{USDC: Range{100, 100}, ETH: Range{0.01, 0.01}}}}
	e.Clients = []ClientClass{{Name: "c", Count: 1, JobsPerDay: Range{100, 100}, GPUs: IntRange{1, 1}, CPUCores: IntRange{2, 2},
		RAMGB: IntRange{8, 8}, DurationHours: LogNormal{1, 0, 1, 1}, ValueUSDPerUnitHour: LogNormal{1, 0, 1, 1},
		PaymentAsset: "USDC", CollateralFraction: 0.1, MaxWaitTicks: 12,
		Wallet: Wallet{USDC: Range{50, 50}, ETH: Range{0.01, 0.01}}}}
	e.Validation.ErrorRate = 0
	e.Treasury.PeriodTicks = 0
	return s
}

// scripted requests its first job at 0.6 USDC an hour and drops the others; the
// provider agrees, the client accepts, the provider starts.
type scripted struct{ requested bool }

func (p *scripted) Act(m *Market, ds []Decision, out []Response) {
	for i := range ds {
		d := &ds[i]
		switch {
		case d.Kind == DecideOpen && !p.requested:
			p.requested = true
			out[i] = Response{Type: scheme.MsgRequest, Price: 600_000}
		case d.Kind == DecideOpen:
			out[i] = Response{Type: scheme.MsgTerminate}
		case d.State == scheme.StateRequested:
			out[i] = Response{Type: scheme.MsgOffer, Price: d.Incoming.Terms.PricePerHour}
		case d.State == scheme.StateOffered:
			out[i] = Response{Type: scheme.MsgAccept}
		case d.State == scheme.StateAccepted:
			out[i] = Response{Type: scheme.MsgAttestation, VerifyEscrow: true}
		}
	}
}

// gasGwei computes one transaction's gas in gwei at testFees by hand: gas units x
// (base fee + priority fee) plus the Ecotone L1 data fee size x (16 x l1BaseFee x 1368 +
// blobBaseFee x 810949) / 1e6, rounded up to a whole gwei.
func gasGwei(units, size int64) int64 {
	l1 := size * (16*15_000_000_000*1368 + 1*810949) / 1_000_000
	wei := units*(1_000_000+1_000_000) + l1
	return (wei + 999_999_999) / 1_000_000_000
}

func TestElectricityAndGasInWealth(t *testing.T) {
	s := oneDealSetup()
	m := newTestMarket(t, s)
	exo := testExo()
	if err := m.Reset(1, exo); err != nil {
		t.Fatal(err)
	}
	prov, cli := AgentID(0), AgentID(1)
	w0p, w0c := m.WealthUSD(prov), m.WealthUSD(cli)
	pol := &scripted{}
	const ticks = 60
	for k := 0; k < ticks; k++ {
		if err := m.Step(exo, pol); err != nil {
			t.Fatal(err)
		}
	}
	st := m.Stats()
	if st.Completed != 1 || st.Deals != 1 {
		t.Fatalf("want exactly one completed deal, got %+v", st)
	}
	// Gas, by hand: the provider locks collateral, writes the sell attestation, and on
	// approval pays the validation attestation and the settlement; the client locks the
	// escrow and writes the buy attestation.
	provGas := gasGwei(110_000, 120) + gasGwei(180_000, 350) + gasGwei(180_000, 350) + gasGwei(130_000, 120)
	cliGas := gasGwei(110_000, 120) + gasGwei(180_000, 350)
	if got := 10_000_000 - m.Wallet(prov)[ETH]; got != provGas {
		t.Errorf("provider paid %d gwei of gas, want %d", got, provGas)
	}
	if got := 10_000_000 - m.Wallet(cli)[ETH]; got != cliGas {
		t.Errorf("client paid %d gwei of gas, want %d", got, cliGas)
	}
	// Electricity, by hand: 60 W idle every tick plus the job's 450 W GPU and two cores
	// at 170/16 W each for its 12 ticks, at Texas's 0.066 USD/kWh, 1/12 h a tick.
	elec := (60.0*ticks + (450+2*170.0/16)*12) / 1000 / 12 * 0.066
	payment := 0.6 // 0.6 USDC/h x 12 ticks / 12 ticks per hour
	wantP := payment - float64(provGas)*1e-9*2300 - elec
	if got := m.WealthUSD(prov) - w0p; !near(got, wantP, 1e-9) {
		t.Errorf("provider's wealth changed by %.9f USD, want %.9f (payment %.2f, gas %.6f, electricity %.6f)",
			got, wantP, payment, float64(provGas)*1e-9*2300, elec)
	}
	if got := m.Wallet(prov)[USDC]; got != 100_600_000 {
		t.Errorf("provider holds %d USDC units, want 100.6 USDC (collateral back, payment in, bill not yet due)", got)
	}
	wantC := 1.0 - payment - float64(cliGas)*1e-9*2300
	if got := m.WealthUSD(cli) - w0c; !near(got, wantC, 1e-9) {
		t.Errorf("client's wealth changed by %.9f USD, want %.9f (value 1, payment %.2f)", got, wantC, payment)
	}
	if g := m.Stats().GasGwei; g != provGas+cliGas {
		t.Errorf("stats count %d gwei of gas, want %d", g, provGas+cliGas)
	}
}

// TestSettlementGasWaived: a provider with just enough ETH to start (collateral lock and
// sell attestation) cannot pay the settlement's gas; the settlement happens anyway,
// without it, and is counted.
func TestSettlementGasWaived(t *testing.T) {
	s := oneDealSetup()
	start := gasGwei(110_000, 120) + gasGwei(180_000, 350)
	eth := float64(start) / 1e9
	s.Engine.Providers[0].Wallet.ETH = Range{eth, eth}
	m := newTestMarket(t, s)
	exo := testExo()
	if err := m.Reset(1, exo); err != nil {
		t.Fatal(err)
	}
	pol := &scripted{}
	for k := 0; k < 40; k++ {
		if err := m.Step(exo, pol); err != nil {
			t.Fatal(err)
		}
	}
	st := m.Stats()
	if st.Completed != 1 || st.GasWaived != 1 {
		t.Fatalf("want one completed deal with its settlement gas waived: %+v", st)
	}
	if b := m.Wallet(0); b[ETH] != 0 || b[USDC] != 100_600_000 {
		t.Errorf("provider wallet %v, want no ETH left and the 0.6 USDC payment", b)
	}
	checkBooks(t, m)
}

func TestElectricityBill(t *testing.T) {
	s := testSetup()
	s.Engine.Providers = []ProviderClass{{Name: "p", Count: 1, CPUCores: 16, RAMGB: 64, IdlePowerW: 40,
		Locations: []string{"sweden"}, Observation: ObserveFull, Wallet: Wallet{USDC: Range{10, 10}, ETH: Range{0.01, 0.01}}}}
	s.Engine.Clients = s.Engine.Clients[:1]
	s.Engine.Clients[0].Count = 0
	s.Engine.Treasury.PeriodTicks = 0
	m := newTestMarket(t, s)
	const ticks = 300
	runMarket(t, m, 1, ticks, nil, 50)
	// 40 W for 300 ticks of 1/12 h at 0.04 USD/kWh.
	want := 40.0 / 1000 * ticks / 12 * 0.04
	if got := m.InitialWealthUSD(0) - m.WealthUSD(0); !near(got, want, 1e-9) {
		t.Errorf("idle provider lost %.9f USD, want %.9f", got, want)
	}
	// The bill of ticks 0..287 was paid at tick 288: 40 W x 24 h x 0.04 = 0.0384 USD.
	paid := m.chain.Balance(AccountID(m.utility), USDC)
	if paid < 38_399 || paid > 38_400 {
		t.Errorf("utility received %d USDC units, want 38400 (up to rounding down)", paid)
	}
	if got := m.Wallet(0)[USDC]; got != 10_000_000-paid {
		t.Errorf("provider holds %d USDC units after paying %d", got, paid)
	}
}

func TestDealsBetweenCostAndValue(t *testing.T) {
	m := newTestMarket(t, testSetup())
	n := 0
	m.dealHook = func(p, c AgentID, job int32, usdPerHour float64, terms *scheme.Terms) {
		n++
		cost := m.ProviderCostUSD(p, terms)
		value := m.ClientValueUSD(job)
		unit := m.UnitUSD(1, terms.Asset)
		if usdPerHour < cost-unit || usdPerHour > value+unit {
			t.Errorf("deal at %.6f USD/h outside [cost %.6f, value %.6f]", usdPerHour, cost, value)
		}
	}
	// Constant prices: the cost and the value at the accept are those the offer and the
	// acceptance were made with.
	runMarket(t, m, 11, 300, nil, 0)
	if n < 100 {
		t.Fatalf("only %d deals", n)
	}
}

func TestSignaturesSameOutcome(t *testing.T) {
	s := testSetup()
	for i := range s.Engine.Providers {
		s.Engine.Providers[i].Count = (s.Engine.Providers[i].Count + 9) / 10
	}
	for i := range s.Engine.Clients {
		s.Engine.Clients[i].Count /= 10
	}
	none := traceOf(t, s, 2, 120)
	s.Scheme.Signatures = scheme.SignaturesEd25519
	signed := traceOf(t, s, 2, 120)
	if !bytes.Equal(none, signed) {
		t.Fatal("honest agents got different outcomes with ed25519 signatures")
	}
	if bytes.Count(none, []byte(`"kind":"message"`)) < 500 {
		t.Fatal("too few messages to compare")
	}
}

// hostile answers every decision with a random response: any message type, prices that
// may be zero or negative, cheating flags, swaps of any size.
type hostile struct {
	r    interface{ IntN(int) int }
	want []bool
	m    *Market
}

func (h *hostile) Act(m *Market, ds []Decision, out []Response) {
	h.want = h.want[:0]
	for i := range ds {
		var r Response
		switch h.r.IntN(4) {
		case 0:
		default:
			r.Type = scheme.MsgType(h.r.IntN(8))
		}
		prices := []int64{0, -5, 1, 1000, 250_000, 3_000_000, 1 << 40}
		r.Price = prices[h.r.IntN(len(prices))]
		if ds[i].Incoming.Type != 0 && h.r.IntN(2) == 0 {
			r.Price = ds[i].Incoming.Terms.PricePerHour
		}
		r.Reason = scheme.Reason(h.r.IntN(7))
		r.VerifyEscrow = h.r.IntN(2) == 0
		if h.r.IntN(4) == 0 {
			r.SetCollateral, r.Collateral = true, []int64{-1, 0, 7, 1 << 62}[h.r.IntN(4)]
		}
		r.SkipEscrow = h.r.IntN(4) == 0
		if ds[i].Kind == DecideTreasury && h.r.IntN(2) == 0 {
			r.Swap = Swap{From: Asset(h.r.IntN(4)), To: Asset(h.r.IntN(3)), Amount: []int64{-1, 0, 1, 1000, 1e9, 1e15}[h.r.IntN(6)]}
		}
		out[i] = r
		h.want = append(h.want, m.Check(&ds[i], &out[i]) == nil)
	}
}

// TestCheckAgreesWithApply: a response that Check accepts is never refused by Apply, and
// one it refuses is refused (or superseded by an earlier answer of the round).
func TestCheckAgreesWithApply(t *testing.T) {
	for _, name := range []string{scheme.ComputeMarketplace, scheme.CoopHiveApiary} {
		s := stressSetup(name)
		s.ChurnPerDay = 0
		m := newTestMarket(t, s)
		exo := testExo()
		if err := m.Reset(4, exo); err != nil {
			t.Fatal(err)
		}
		h := &hostile{r: rng.New(4, "test/hostile"), m: m}
		honest := NewRandomPolicy(rng.New(4, "policy"))
		var outcomes []int8
		m.outcomes = &outcomes
		var accepted, refused int
		var resps []Response
		for k := 0; k < 250; k++ {
			if err := m.BeginTick(exo); err != nil {
				t.Fatal(err)
			}
			for ds := m.Decisions(); len(ds) > 0; ds = m.Decisions() {
				resps = append(resps[:0], make([]Response, len(ds))...)
				if k%2 == 0 {
					honest.Act(m, ds, resps)
					h.want = h.want[:0]
					for i := range ds {
						h.want = append(h.want, m.Check(&ds[i], &resps[i]) == nil)
					}
				} else {
					h.Act(m, ds, resps)
				}
				if err := m.Apply(resps); err != nil {
					t.Fatal(err)
				}
				for i, o := range outcomes {
					switch {
					case o == outSuperseded || o == outNoCandidates:
					case h.want[i] && o == outRefused:
						t.Fatalf("tick %d: Check accepted %+v to %+v, Apply refused it (%v)", k, resps[i], m.round[i], m.LastError(m.round[i].Agent))
					case !h.want[i] && o != outRefused:
						t.Fatalf("tick %d: Check refused %+v to %+v, Apply accepted it", k, resps[i], m.round[i])
					case h.want[i]:
						accepted++
					default:
						refused++
					}
				}
			}
			if err := m.EndTick(); err != nil {
				t.Fatal(err)
			}
			checkBooks(t, m)
		}
		if accepted < 1000 || refused < 1000 {
			t.Errorf("%s: weak test: %d accepted, %d refused responses", name, accepted, refused)
		}
	}
}

// FuzzEngine drives a small market with responses decoded from the fuzz input: the
// engine must never panic and its books must balance.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 200, 17, 33, 250})
	f.Add(bytes.Repeat([]byte{3, 1, 4, 1, 5, 9, 2, 6}, 16))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		s := stressSetup(scheme.ComputeMarketplace)
		for i := range s.Engine.Providers {
			s.Engine.Providers[i].Count = 2
		}
		for i := range s.Engine.Clients {
			s.Engine.Clients[i].Count = 10
		}
		m := newTestMarket(t, s)
		exo := testExo()
		if err := m.Reset(uint64(in[0]), exo); err != nil {
			t.Fatal(err)
		}
		pos := 0
		next := func() int {
			b := in[pos%len(in)]
			pos++
			return int(b)
		}
		var resps []Response
		for k := 0; k < 40; k++ {
			if err := m.BeginTick(exo); err != nil {
				t.Fatal(err)
			}
			for ds := m.Decisions(); len(ds) > 0; ds = m.Decisions() {
				resps = append(resps[:0], make([]Response, len(ds))...)
				for i := range resps {
					b := next()
					resps[i] = Response{Type: scheme.MsgType(b % 9), Price: int64(next()) * int64(next()+1) * 1000,
						Reason: scheme.Reason(b % 7), VerifyEscrow: b&16 != 0, SkipEscrow: b&32 != 0,
						Swap: Swap{From: Asset(next() % 4), To: Asset(next() % 4), Amount: int64(next()) << uint(next()%40)}}
				}
				if err := m.Apply(resps); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.EndTick(); err != nil {
				t.Fatal(err)
			}
		}
		checkBooks(t, m)
	})
}

// TestRiskMatchesBatchMetrics compares the online risk accumulators with the batch
// metrics of package metrics on the recorded wealth series.
func TestRiskMatchesBatchMetrics(t *testing.T) {
	m := newTestMarket(t, testSetup())
	exo := testExo()
	if err := m.Reset(8, exo); err != nil {
		t.Fatal(err)
	}
	pol := NewRandomPolicy(rng.New(8, "policy"))
	move := movingExo(8)
	agents := []AgentID{0, 3, 50, 99, 100, 400, 999}
	series := make([][]float64, len(agents))
	prev := make([]float64, len(agents))
	for i, a := range agents {
		prev[i] = m.WealthUSD(a)
	}
	for k := 0; k < 500; k++ {
		move(int64(k), exo)
		if err := m.Step(exo, pol); err != nil {
			t.Fatal(err)
		}
		for i, a := range agents {
			w := m.WealthUSD(a)
			series[i] = append(series[i], w/prev[i]-1)
			prev[i] = w
		}
	}
	f := m.PeriodsPerYear()
	for i, a := range agents {
		got := m.Risk(a)
		r := series[i]
		want := []float64{metrics.CumulativeReturn(r), metrics.Sharpe(r, 0, f), metrics.Sortino(r, 0, f), metrics.MaxDrawdown(r)}
		have := []float64{got.CumulativeReturn, got.Sharpe, got.Sortino, got.MaxDrawdown}
		for j, name := range []string{"cumulative return", "Sharpe", "Sortino", "max drawdown"} {
			if !near(have[j], want[j], 1e-7) {
				t.Errorf("agent %d %s: online %.12g, batch %.12g", a, name, have[j], want[j])
			}
		}
	}
}

func TestRiskConstantSeries(t *testing.T) {
	a := newRiskAcc()
	for range 10 {
		a.add(0.001)
	}
	r := a.risk(100)
	if !math.IsInf(r.Sharpe, 1) || !math.IsInf(r.Sortino, 1) || r.MaxDrawdown != 0 {
		t.Errorf("constant positive series: %+v, want Sharpe and Sortino +Inf, no drawdown", r)
	}
	b := newRiskAcc()
	for range 10 {
		b.add(0)
	}
	if r := b.risk(100); !math.IsNaN(r.Sharpe) {
		t.Errorf("all-zero series: Sharpe %g, want NaN", r.Sharpe)
	}
}

func TestEngineConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(s *Setup)
		path string
	}{
		{"negative count", func(s *Setup) { s.Engine.Providers[0].Count = -1 }, "providers[0].count"},
		{"unknown GPU model", func(s *Setup) { s.Engine.Providers[1].GPUModel = "b200" }, "providers[1].gpu_model"},
		{"unknown client GPU model", func(s *Setup) { s.Engine.Clients[0].GPUModel = "tpu" }, "clients[0].gpu_model"},
		{"unknown location", func(s *Setup) { s.Engine.Providers[0].Locations = []string{"mars"} }, "providers[0].locations[0]"},
		{"validation after arbitration", func(s *Setup) { s.Engine.Validation.DelayTicks = 288 }, "validation.delay_ticks"},
		{"escrow after offer deadline", func(s *Setup) { s.Engine.Escrow.DelayTicks = 12 }, "escrow.delay_ticks"},
		{"bad range", func(s *Setup) { s.Engine.Clients[1].JobsPerDay = Range{2, 1} }, "clients[1].jobs_per_day.max"},
		{"bad asset", func(s *Setup) { s.Engine.Clients[2].PaymentAsset = "DOGE" }, "clients[2].payment_asset"},
		{"unservable class", func(s *Setup) { s.Engine.Clients[1].GPUs = IntRange{9, 9} }, "clients[1].gpus.min"},
		{"duplicate name", func(s *Setup) { s.Engine.Clients[0].Name = "rtx-4090" }, "clients[0].name"},
		{"no candidates", func(s *Setup) { s.Engine.Discovery.Candidates = 0 }, "discovery.candidates"},
		{"bad scheme", func(s *Setup) { s.Scheme.MaxRounds = 0 }, "scheme.max_rounds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := testSetup()
			c.edit(&s)
			_, err := New(s)
			var fe *fieldpath.Error
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a field error at %s", err, c.path)
			}
			if !strings.Contains(err.Error(), c.path+":") {
				t.Errorf("error %q does not name %s", err, c.path)
			}
		})
	}
	if _, err := New(testSetup()); err != nil {
		t.Fatalf("default setup: %v", err)
	}
}

func TestPoissonMoments(t *testing.T) {
	r := rng.New(1, "test/poisson")
	for _, lam := range []float64{0.3, 4, 9.9, 10, 37.5, 400} {
		const n = 200_000
		var s, s2 float64
		for range n {
			x := float64(poisson(r, lam))
			s += x
			s2 += x * x
		}
		mean := s / n
		v := s2/n - mean*mean
		// The sample mean's standard error is sqrt(lam/n); allow 5 of them. The variance
		// of a Poisson equals its mean; allow 3%.
		if math.Abs(mean-lam) > 5*math.Sqrt(lam/n) || math.Abs(v-lam) > 0.03*lam {
			t.Errorf("Poisson(%g): mean %g, variance %g", lam, mean, v)
		}
	}
	if poisson(r, 0) != 0 || poisson(r, math.NaN()) != 0 {
		t.Error("Poisson of a non-positive rate must be 0")
	}
}

func TestAliasFrequencies(t *testing.T) {
	w := []float64{1, 0, 3, 0.5, 5.5}
	var a alias
	a.build(w)
	r := rng.New(2, "test/alias")
	const n = 500_000
	counts := make([]float64, len(w))
	for range n {
		counts[a.sample(r)]++
	}
	for i, x := range w {
		p := x / 10
		// Binomial standard error sqrt(p(1-p)/n); allow 5.
		if math.Abs(counts[i]/n-p) > 5*math.Sqrt(p*(1-p)/n)+1e-12 {
			t.Errorf("index %d: frequency %g, want %g", i, counts[i]/n, p)
		}
	}
}

// TestMemoryPerIdleAgent bounds the heap an idle agent costs: its chain account
// (address, balances, reputation, address index entry) and the engine's per-agent
// arrays; nothing per tick.
func TestMemoryPerIdleAgent(t *testing.T) {
	per := heapPerAgent(t, 20_000)
	t.Logf("heap per idle agent: %.0f bytes", per)
	if per <= 0 || per > 1024 {
		t.Errorf("heap per idle agent %.0f bytes, want at most 1 KiB", per)
	}
}
