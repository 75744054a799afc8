package data

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ethReturns runs the ETH generator alone for n ticks and returns its log returns.
func ethReturns(c ETHConfig, n int, seed uint64) []float64 {
	dt := 1 / 105120.0
	g := newETHGen(c, dt, rand.New(rand.NewPCG(seed, 99)))
	out := make([]float64, n)
	for i := range out {
		prev := g.logP
		g.step()
		out[i] = g.logP - prev
	}
	return out
}

func meanVar(xs []float64) (m, v float64) {
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, v / float64(len(xs)-1)
}

// TestETHVolatilityGBM: with jumps off, log returns are i.i.d. N(-sigma^2 dt/2,
// sigma^2 dt). The sample variance of n of them has relative sd sqrt(2/n), so the
// annualized volatility has relative sd 1/sqrt(2n): 0.15% for n = 2 years of ticks.
// The acceptance tolerance of 5% is then more than 30 sd; we also check the much
// tighter 5-sd band.
func TestETHVolatilityGBM(t *testing.T) {
	c := DefaultConfig().ETH
	c.Jumps.RatePerYear = 0
	n := 2 * 105120
	r := ethReturns(c, n, 1)
	m, v := meanVar(r)
	vol := math.Sqrt(v * 105120)
	rel := vol/c.Sigma - 1
	sd := 1 / math.Sqrt(2*float64(n))
	if math.Abs(rel) > 0.05 || math.Abs(rel) > 5*sd {
		t.Errorf("annualized vol %.4f vs sigma %.2f: relative error %.4f (5 sd = %.4f)", vol, c.Sigma, rel, 5*sd)
	}
	// The mean log return is -sigma^2 dt/2 (zero drift of the price), with sd sqrt(v/n).
	want := -c.Sigma * c.Sigma / 105120 / 2
	if math.Abs(m-want) > 5*math.Sqrt(v/float64(n)) {
		t.Errorf("mean log return %.3g, want %.3g", m, want)
	}
}

// TestETHVolatilityWithJumps: sigma is the total volatility, jumps included, so the
// realized volatility of the default model (jumps on) must also match it. The error
// is dominated by the jumps: with diffusive variance h and jumps J ~ N(m, s^2) at rate
// lambda dt a tick, Var(r^2) ~ 2h^2 + lambda dt E[J^4] (E[J^4] = m^4 + 6m^2s^2 + 3s^4),
// so the sum of n squared returns has sd sqrt(n Var(r^2)) and the volatility half that
// relative error. We check 5 sd, and that 40 years make 5 sd fit inside the 5%
// acceptance tolerance.
func TestETHVolatilityWithJumps(t *testing.T) {
	c := DefaultConfig().ETH
	n := 40 * 105120
	r := ethReturns(c, n, 2)
	_, v := meanVar(r)
	vol := math.Sqrt(v * 105120)
	dt := 1 / 105120.0
	lam := c.Jumps.RatePerYear * dt
	m, s := c.Jumps.Mean, c.Jumps.SD
	h := (c.Sigma*c.Sigma - c.Jumps.RatePerYear*(m*m+s*s)) * dt
	ej4 := m*m*m*m + 6*m*m*s*s + 3*s*s*s*s
	varSum := float64(n) * (2*h*h + lam*ej4)
	relSD := math.Sqrt(varSum) / (float64(n) * c.Sigma * c.Sigma * dt) / 2
	if 5*relSD > 0.05 {
		t.Fatalf("run too short: 5 sd = %.3f exceeds the 5%% tolerance", 5*relSD)
	}
	if rel := vol/c.Sigma - 1; math.Abs(rel) > 5*relSD {
		t.Errorf("annualized vol with jumps %.4f vs sigma %.2f: relative error %.4f > 5 sd = %.4f", vol, c.Sigma, rel, 5*relSD)
	}
	// Heavy tails: daily returns have excess kurtosis lambda_d E[J^4] / (sigma^2/365)^2,
	// about 4.9 with the defaults (docs/world.md); a normal has 0. The estimator is noisy
	// under jumps, so we ask only that it be clearly positive.
	day := make([]float64, n/288)
	for i := range day {
		for _, x := range r[i*288 : (i+1)*288] {
			day[i] += x
		}
	}
	want := c.Jumps.RatePerYear / 365 * ej4 / math.Pow(c.Sigma*c.Sigma/365, 2)
	if k := excessKurtosis(day); k < 1.5 || k > 3*want {
		t.Errorf("daily excess kurtosis %.2f, want clearly above normal (model: %.2f)", k, want)
	}
}

func excessKurtosis(xs []float64) float64 {
	m, v := meanVar(xs)
	m4 := 0.0
	for _, x := range xs {
		d := x - m
		m4 += d * d * d * d
	}
	m4 /= float64(len(xs))
	return m4/(v*v) - 3
}

// TestETHGARCHRecursion replays the generator's draws with an independent
// implementation of GBM + Merton jumps + GARCH(1,1) and checks every step.
func TestETHGARCHRecursion(t *testing.T) {
	c := DefaultConfig().ETH
	c.GARCH.Enabled = true
	dt := 1 / 105120.0
	g := newETHGen(c, dt, rand.New(rand.NewPCG(11, 12)))
	ref := rand.New(rand.NewPCG(11, 12))
	// Reference parameters, from the model's definition.
	lam := c.Jumps.RatePerYear * dt
	k := math.Exp(c.Jumps.Mean+c.Jumps.SD*c.Jumps.SD/2) - 1
	hBar := (c.Sigma*c.Sigma - c.Jumps.RatePerYear*(c.Jumps.Mean*c.Jumps.Mean+c.Jumps.SD*c.Jumps.SD)) * dt
	beta := math.Pow(c.GARCH.PersistencePerDay, 1/288.0) - c.GARCH.Alpha
	omega := hBar * (1 - c.GARCH.Alpha - beta)
	h, logP := hBar, 0.0
	var sumE2 float64
	const n = 4_000_000 // 38 years
	for i := 0; i < n; i++ {
		e := math.Sqrt(h) * ref.NormFloat64()
		// Poisson(lam) by inversion, as any textbook writes it.
		u, cnt, p := ref.Float64(), 0, math.Exp(-lam)
		for cdf := p; u >= cdf; cdf += p {
			cnt++
			p *= lam / float64(cnt)
		}
		j := 0.0
		if cnt > 0 {
			j = float64(cnt)*c.Jumps.Mean + math.Sqrt(float64(cnt))*c.Jumps.SD*ref.NormFloat64()
		}
		logP += (c.Drift-c.Jumps.RatePerYear*k)*dt - h/2 + e + j
		h = omega + c.GARCH.Alpha*e*e + beta*h
		sumE2 += e * e
		g.step()
		if math.Abs(g.logP-logP) > 1e-9 || math.Abs(g.h-h) > 1e-12*hBar {
			t.Fatalf("step %d: generator (logP %.12g, h %.6g) differs from the reference (%.12g, %.6g)", i, g.logP, g.h, logP, h)
		}
	}
	// The unconditional variance of the diffusive shock is hBar. With persistence
	// p = alpha + beta, h is an AR(1)-like process with Var(h)/hBar^2 =
	// (1-p^2)/(1-p^2-2 alpha^2) - 1 (Bollerslev 1986, normal innovations), so the mean
	// of h over n ticks has relative sd sqrt(Var(h)/hBar^2 (1+p)/(1-p)/n); e^2 adds
	// sqrt(3/n). We check 5 sd.
	p := c.GARCH.Alpha + beta
	kh := (1-p*p)/(1-p*p-2*c.GARCH.Alpha*c.GARCH.Alpha) - 1
	sd := math.Sqrt(kh*(1+p)/(1-p)/n + 3.0/n)
	if r := sumE2 / n / hBar; math.Abs(r-1) > 5*sd {
		t.Errorf("mean e^2 / hBar = %.3f, want 1 +- %.3f (5 sd)", r, 5*sd)
	}
}

// TestHIVECorrelation: log returns of HIVE and ETH over 20 years of ticks. The sample
// correlation's error comes mostly from the jump part of ETH's sample variance: with
// rho = b sE / sqrt(b^2 sE^2 + s_e^2), d rho / d ln var_E = rho (1 - rho^2) / 2 = 0.15,
// and var_E has a relative sd of about 2.6% over 20 years (TestETHVolatilityWithJumps'
// formula), so sd(rho) is about 0.004; we allow 0.02 (5 sd). The regression slope of
// HIVE on ETH is beta, with the same relative precision.
func TestHIVECorrelation(t *testing.T) {
	cfg := DefaultConfig()
	dt := 1 / 105120.0
	eth := newETHGen(cfg.ETH, dt, rand.New(rand.NewPCG(21, 1)))
	hive := newHIVEGen(cfg.HIVE, cfg.ETH, dt, rand.New(rand.NewPCG(21, 2)))
	n := 20 * 105120
	var se, sh, see, shh, seh, sumH float64
	for i := 0; i < n; i++ {
		pe, ph := eth.logP, hive.logP
		eth.step()
		hive.step(eth.shock, eth.hUsed)
		re, rh := eth.logP-pe, hive.logP-ph
		se += re
		sh += rh
		see += re * re
		shh += rh * rh
		seh += re * rh
		sumH += math.Exp(rh)
	}
	fn := float64(n)
	cov := seh/fn - se/fn*sh/fn
	ve := see/fn - se/fn*se/fn
	vh := shh/fn - sh/fn*sh/fn
	rho := cov / math.Sqrt(ve*vh)
	if math.Abs(rho-cfg.HIVE.Correlation) > 0.02 {
		t.Errorf("HIVE/ETH log-return correlation %.4f, want %.2f +- 0.02", rho, cfg.HIVE.Correlation)
	}
	if b := cov / ve; math.Abs(b/cfg.HIVE.Beta-1) > 0.05 {
		t.Errorf("HIVE beta to ETH %.3f, want %.2f +- 5%%", b, cfg.HIVE.Beta)
	}
	// The convexity term makes E[e^{r_H}] = 1 (zero drift): the mean gross return is 1
	// within 5 sd of its sampling error sqrt(vh/n).
	if g := sumH / fn; math.Abs(g-1) > 5*math.Sqrt(vh/fn) {
		t.Errorf("mean gross HIVE return %.8f, want 1 (zero drift)", g)
	}
}

// TestUSDCDepeg: off by default (exactly 1), and with depegs on the time-average depth
// is rate * mean depth * mean lifetime (half-life / ln 2), by Campbell's theorem.
func TestUSDCDepeg(t *testing.T) {
	cfg := DefaultConfig()
	w, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		w.Step()
		if w.USDCUSD() != 1 {
			t.Fatalf("tick %d: USDC %g with depegs off", i, w.USDCUSD())
		}
	}
	d := DepegConfig{RatePerYear: 20, MeanDepth: 0.02, HalfLifeHours: 24}
	dt := 1 / 105120.0
	g := newUSDCGen(d, cfg.Tick, dt, rand.New(rand.NewPCG(31, 1)))
	n := 50 * 105120
	sum, minP := 0.0, 1.0
	for i := 0; i < n; i++ {
		g.step()
		sum += 1 - g.price()
		minP = math.Min(minP, g.price())
	}
	want := d.RatePerYear * d.MeanDepth * (d.HalfLifeHours / 24 / 365 / math.Ln2)
	// 1000 depegs in 50 years: the mean is within about 3/sqrt(1000) ~ 10% (5 sd of a
	// Poisson count of events with exponential sizes: sd ~ sqrt(2/N)).
	if got := sum / float64(n); math.Abs(got/want-1) > 5*math.Sqrt(2/1000.0) {
		t.Errorf("mean depeg depth %.3g, want %.3g", got, want)
	}
	if minP >= 1 || minP < 0 {
		t.Errorf("min USDC price %g, want below 1 and not negative", minP)
	}
}
