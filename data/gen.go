package data

import (
	"math"
	"math/rand/v2"
	"time"
)

// poissonCount draws a Poisson count with mean lam by inversion (lam is small here:
// jump and spike arrivals per tick), capped at 64.
func poissonCount(r *rand.Rand, p0, lam float64) int {
	u := r.Float64()
	if u < p0 {
		return 0
	}
	k, p, cdf := 0, p0, p0
	for u >= cdf && k < 64 {
		k++
		p *= lam / float64(k)
		cdf += p
	}
	return k
}

// ethGen is the ETH/USD price: the log price moves by
//
//	r = (mu - lambda*k) dt - h/2 + sqrt(h) Z + sum of N ~ Poisson(lambda dt) jumps J ~ N(m, s^2)
//
// per tick, with k = E[e^J] - 1 = exp(m + s^2/2) - 1 so that E[S(t+dt)/S(t)] = e^{mu dt}
// (Merton 1976, "Option pricing when underlying stock returns are discontinuous").
// h is the per-tick diffusive variance: constant sigma_d^2 dt with sigma_d^2 =
// sigma^2 - lambda (m^2 + s^2), or GARCH(1,1) (Bollerslev 1986):
// h[t+1] = omega + alpha e[t]^2 + beta h[t] with e the diffusive shock (jumps do not
// feed back) and omega = sigma_d^2 dt (1 - alpha - beta).
type ethGen struct {
	logP   float64 // log of price / initial price
	driftC float64 // (mu - lambda k) dt
	h      float64 // diffusive variance of the next tick
	hBar   float64 // unconditional diffusive variance per tick
	garch  bool
	omega  float64
	alpha  float64
	beta   float64
	jumpP0 float64 // e^{-lambda dt}
	jumpL  float64 // lambda dt
	jumpM  float64
	jumpS  float64
	rng    *rand.Rand

	// Of the last tick, for HIVE: the shock sqrt(h) Z + jumps, and the h it used.
	shock float64
	hUsed float64
}

func newETHGen(c ETHConfig, dt float64, r *rand.Rand) *ethGen {
	lam := c.Jumps.RatePerYear * dt
	jumpVar := c.Jumps.RatePerYear * (c.Jumps.Mean*c.Jumps.Mean + c.Jumps.SD*c.Jumps.SD)
	diffVar := c.Sigma*c.Sigma - jumpVar
	k := math.Exp(c.Jumps.Mean+c.Jumps.SD*c.Jumps.SD/2) - 1
	g := &ethGen{
		driftC: (c.Drift - c.Jumps.RatePerYear*k) * dt,
		hBar:   diffVar * dt,
		jumpP0: math.Exp(-lam), jumpL: lam,
		jumpM: c.Jumps.Mean, jumpS: c.Jumps.SD,
		rng: r,
	}
	g.h = g.hBar
	if c.GARCH.Enabled {
		g.garch = true
		g.alpha = c.GARCH.Alpha
		// dt in years; the per-tick persistence is the daily one to the power tick/day.
		g.beta = math.Pow(c.GARCH.PersistencePerDay, dt*365) - g.alpha
		g.omega = g.hBar * (1 - g.alpha - g.beta)
	}
	return g
}

func (g *ethGen) step() {
	h := g.h
	e := math.Sqrt(h) * g.rng.NormFloat64()
	j := 0.0
	if n := poissonCount(g.rng, g.jumpP0, g.jumpL); n > 0 {
		fn := float64(n)
		j = fn*g.jumpM + math.Sqrt(fn)*g.jumpS*g.rng.NormFloat64()
	}
	g.logP += g.driftC - h/2 + e + j
	g.shock, g.hUsed = e+j, h
	if g.garch {
		g.h = g.omega + g.alpha*e*e + g.beta*h
	}
}

// hiveGen is the HIVE/USD price. Its log return per tick is
//
//	r_H = mu_H dt + beta * shock_E + sigma_e sqrt(dt) Z - c
//
// with shock_E ETH's zero-drift shock (diffusion plus jumps) of the same tick, Z an
// independent normal, and c the convexity term that makes E[e^{r_H}] = e^{mu_H dt}.
// With ETH's total variance sigma^2 dt per tick, corr(r_H, r_E) = beta sigma /
// sqrt(beta^2 sigma^2 + sigma_e^2), so sigma_e = beta sigma sqrt(1/rho^2 - 1).
type hiveGen struct {
	logP   float64 // log of price / initial price
	beta   float64
	drift  float64 // mu_H dt
	idio   float64 // sigma_e sqrt(dt)
	jumpC  float64 // lambda dt (E[e^{beta J}] - 1)
	ethSig float64 // sigma^2 dt of ETH, used for the convexity term of a CSV ETH
	rng    *rand.Rand
}

func newHIVEGen(c HIVEConfig, eth ETHConfig, dt float64, r *rand.Rand) *hiveGen {
	sigE := c.Beta * eth.Sigma * math.Sqrt(1/(c.Correlation*c.Correlation)-1)
	m, s := eth.Jumps.Mean, eth.Jumps.SD
	return &hiveGen{
		beta:   c.Beta,
		drift:  c.Drift * dt,
		idio:   sigE * math.Sqrt(dt),
		jumpC:  eth.Jumps.RatePerYear * dt * (math.Exp(c.Beta*m+c.Beta*c.Beta*s*s/2) - 1),
		ethSig: eth.Sigma * eth.Sigma * dt,
		rng:    r,
	}
}

// step advances HIVE given ETH's shock and the diffusive variance h it used; for a
// CSV-sourced ETH, pass its log return and a negative h (the convexity term then uses
// ETH's configured sigma and no jump term).
func (g *hiveGen) step(ethShock, h float64) {
	conv := g.idio * g.idio / 2
	if h >= 0 {
		conv += g.beta*g.beta*h/2 + g.jumpC
	} else {
		conv += g.beta * g.beta * g.ethSig / 2
	}
	g.logP += g.drift + g.beta*ethShock + g.idio*g.rng.NormFloat64() - conv
}

// usdcGen is 1 - D, D a compound-Poisson depeg depth that decays exponentially.
type usdcGen struct {
	depth  float64
	decay  float64
	p0     float64
	lam    float64
	mean   float64
	active bool
	rng    *rand.Rand
}

func newUSDCGen(c DepegConfig, tick time.Duration, dt float64, r *rand.Rand) *usdcGen {
	lam := c.RatePerYear * dt
	return &usdcGen{
		decay: math.Exp(-math.Ln2 * float64(tick) / (c.HalfLifeHours * float64(time.Hour))),
		p0:    math.Exp(-lam), lam: lam, mean: c.MeanDepth, active: lam > 0, rng: r,
	}
}

func (g *usdcGen) step() {
	if !g.active {
		return
	}
	g.depth *= g.decay
	for n := poissonCount(g.rng, g.p0, g.lam); n > 0; n-- {
		g.depth += g.mean * g.rng.ExpFloat64()
	}
	if g.depth > 1 {
		g.depth = 1
	}
}

func (g *usdcGen) price() float64 { return 1 - g.depth }

const (
	nsHour = int64(time.Hour)
	nsDay  = 24 * nsHour
	nsWeek = 7 * nsDay
)

// elecGen is the electricity price of one location, USD per kWh (specs/world.md):
//
//	P = mult * (f(t) + X + S)
//
// outside surplus blocks, and P = -mult * depth inside them. f is the seasonal level:
// mean * (weekday or weekend factor) * (1 + amplitude * (profile[hour] - 1)), in local
// time, with the weekday and weekend factors normalized so that the weekly mean of f is
// mean. X is an Ornstein-Uhlenbeck deviation, discretized exactly. S is a spike
// component: Poisson arrivals, exponential sizes, exponential decay (a mean-reverting
// jump process, as in Cartea & Figueroa 2005, with the jumps on their own fast-decaying
// factor so that spikes last hours while X reverts over days). Surplus blocks are drawn
// once per local day (see NegativeConfig).
type elecGen struct {
	level    [2][24]float64 // [weekend][hour] = f
	offsetNs int64          // local time offset
	startNs  int64          // unix ns of tick 0
	tickNs   int64

	x, phi, innov float64
	s, sDecay     float64
	sP0, sLam     float64
	sMean         float64

	negQ     float64
	negMax   int
	negC     int64 // centre, ns into the local day
	negMean  float64
	day      int64 // local day index of the current surplus draw
	negFrom  int64 // ns into the local day; negFrom == negTo: no block
	negTo    int64
	negDepth float64

	mult float64
	rng  *rand.Rand
}

func newElecGen(c LocationConfig, start time.Time, tick time.Duration, r *rand.Rand) *elecGen {
	prof := DefaultDailyProfile
	if len(c.DailyProfile) == 24 {
		copy(prof[:], c.DailyProfile)
	}
	sum := 0.0
	for _, p := range prof {
		sum += p
	}
	wd := 7 / (5 + 2*c.WeekendFactor)
	g := &elecGen{
		offsetNs: int64(c.UTCOffsetHours * float64(time.Hour)),
		startNs:  start.UnixNano(),
		tickNs:   int64(tick),
		mult:     1,
		rng:      r,
	}
	for h, p := range prof {
		shape := 1 + c.ProfileAmplitude*(p*24/sum-1)
		g.level[0][h] = c.MeanUSDPerKWh * wd * shape
		g.level[1][h] = c.MeanUSDPerKWh * wd * c.WeekendFactor * shape
	}
	days := tick.Hours() / 24
	kappa := math.Ln2 / c.OU.HalfLifeDays
	g.phi = math.Exp(-kappa * days)
	stat := c.OU.Sigma / math.Sqrt(2*kappa) // stationary sd
	g.innov = stat * math.Sqrt(1-g.phi*g.phi)
	g.sDecay = math.Exp(-math.Ln2 * tick.Hours() / c.Spikes.HalfLifeHours)
	g.sLam = c.Spikes.RatePerDay * days
	g.sP0 = math.Exp(-g.sLam)
	g.sMean = c.Spikes.MeanUSDPerKWh
	g.negQ = c.Negative.dayProbability()
	g.negMax = c.Negative.MaxHours
	g.negC = int64(c.Negative.CenterHour * float64(time.Hour))
	g.negMean = c.Negative.MeanUSDPerKWh
	// Start X in its stationary law, so the series is stationary from tick 0.
	g.x = stat * r.NormFloat64()
	g.day = math.MinInt64
	return g
}

// localNs returns the local time of tick k in ns since the Unix epoch.
func (g *elecGen) localNs(k int64) int64 { return g.startNs + k*g.tickNs + g.offsetNs }

// seasonal returns f at tick k.
func (g *elecGen) seasonal(k int64) float64 {
	t := g.localNs(k)
	day := floorDiv(t, nsDay)
	hour := (t - day*nsDay) / nsHour
	// 1970-01-01 was a Thursday: weekday 4 with Sunday 0.
	dow := (day + 4) % 7
	if dow < 0 {
		dow += 7
	}
	we := 0
	if dow == 0 || dow == 6 {
		we = 1
	}
	return g.level[we][hour]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// advance moves the random components from tick k-1 to tick k (k >= 1).
func (g *elecGen) advance() {
	g.x = g.phi*g.x + g.innov*g.rng.NormFloat64()
	g.s *= g.sDecay
	if g.sLam > 0 {
		for n := poissonCount(g.rng, g.sP0, g.sLam); n > 0; n-- {
			g.s += g.sMean * g.rng.ExpFloat64()
		}
	}
}

// price returns P at tick k, drawing the day's surplus block when k starts a new
// local day.
func (g *elecGen) price(k int64) float64 {
	t := g.localNs(k)
	day := floorDiv(t, nsDay)
	if day != g.day {
		g.day = day
		g.negFrom, g.negTo = 0, 0
		if g.negQ > 0 && g.rng.Float64() < g.negQ {
			l := int64(1 + g.rng.IntN(g.negMax))
			// l hours centred on the centre hour, shifted to fit inside the day.
			g.negFrom = min(max(g.negC-l*nsHour/2, 0), nsDay-l*nsHour)
			g.negTo = g.negFrom + l*nsHour
			g.negDepth = g.negMean * g.rng.ExpFloat64()
		}
	}
	if tod := t - day*nsDay; tod >= g.negFrom && tod < g.negTo {
		return -g.mult * g.negDepth
	}
	return g.mult * (g.seasonal(k) + g.x + g.s)
}
