package metrics

import "math"

// The batch metrics of specs/metrics.md, after empyrical's stats.py (cum_returns_final,
// annual_return, annual_volatility, sharpe_ratio, downside_risk, sortino_ratio,
// max_drawdown, calmar_ratio). Each metric is built from small accumulators that see one
// value at a time, so the individual functions and Summarize run the same floating-point
// operations in the same order and agree bitwise.

// validFactor reports whether f is a usable periods-per-year factor: positive and finite.
func validFactor(f float64) bool { return f > 0 && !math.IsInf(f, 1) }

// devAcc accumulates the first pass of a two-pass ddof=1 standard deviation over the
// non-NaN values it is given, and notices an exactly constant series.
type devAcc struct {
	n        int
	sum      float64
	first    float64
	constant bool
}

func (a *devAcc) add(x float64) {
	if x != x { // NaN: missing
		return
	}
	if a.n == 0 {
		a.first, a.constant = x, true
	} else if x != a.first {
		a.constant = false
	}
	a.n++
	a.sum += x
}

func (a *devAcc) mean() float64 { return a.sum / float64(a.n) }

// needSecondPass reports whether std needs the sum of squared deviations: it does not
// when the result is NaN for lack of data or exactly 0 for a constant finite series.
func (a *devAcc) needSecondPass() bool {
	return a.n >= 2 && !(a.constant && !math.IsInf(a.first, 0))
}

// std returns the ddof=1 standard deviation given ss, the sum over the non-NaN values of
// (x - mean)^2 (ignored when needSecondPass is false).
func (a *devAcc) std(ss float64) float64 {
	switch {
	case a.n < 2:
		return math.NaN()
	case !a.needSecondPass():
		return 0
	}
	return math.Sqrt(ss / float64(a.n-1))
}

// sqDev is one term of the second pass: (x - mean)^2, or 0 for a missing x.
func sqDev(x, mean float64) float64 {
	if x != x {
		return 0
	}
	d := x - mean
	return d * d
}

// downAcc accumulates, over non-NaN x = r - MAR, the count, the sum of x and the sum of
// min(x, 0)^2.
type downAcc struct {
	n     int
	sum   float64
	sumSq float64
}

func (a *downAcc) add(x float64) {
	if x != x {
		return
	}
	a.n++
	a.sum += x
	m := min(x, 0) // branch-free: gains add exactly 0
	a.sumSq += m * m
}

// risk is the annualized downside risk sqrt(mean(min(x,0)^2)) * sqrt(F).
func (a *downAcc) risk(f float64) float64 {
	if a.n == 0 || !validFactor(f) {
		return math.NaN()
	}
	return math.Sqrt(a.sumSq/float64(a.n)) * math.Sqrt(f)
}

// sortino is mean(x) * F / downside risk; rows is the number of rows, NaN included.
func (a *downAcc) sortino(rows int, f float64) float64 {
	if rows < 2 || a.n == 0 || !validFactor(f) {
		return math.NaN()
	}
	return a.sum / float64(a.n) * f / a.risk(f)
}

// ddAcc follows the wealth path V_t = prod_{s<=t} (1 + r_s) from V_0 = 1 and its running
// peak, and keeps the largest relative drop below the peak (empyrical's max_drawdown,
// with np.fmax.accumulate for the peak and nanmin for the minimum: a NaN wealth never
// becomes the peak and a NaN drawdown is ignored).
type ddAcc struct {
	v, peak, min float64
}

func newDDAcc() ddAcc { return ddAcc{v: 1, peak: 1} }

func (a *ddAcc) add(r float64) {
	if r != r { // a missing return leaves the wealth where it was
		return
	}
	a.v *= 1 + r
	if a.v > a.peak {
		a.peak = a.v
	}
	if dd := (a.v - a.peak) / a.peak; dd < a.min {
		a.min = dd
	}
}

// growthAcc is prod(1 + r_t) over the non-NaN r_t (empyrical's nanprod).
type growthAcc struct{ g float64 }

func (a *growthAcc) add(r float64) {
	if r == r {
		a.g *= 1 + r
	}
}

// annualFromGrowth is the CAGR g^(1/(rows/F)) - 1 (empyrical's annual_return).
func annualFromGrowth(g float64, rows int, f float64) float64 {
	if rows < 1 || !validFactor(f) {
		return math.NaN()
	}
	years := float64(rows) / f
	return math.Pow(g, 1/years) - 1
}

// sharpeFromStats is mean/std * sqrt(F), with 0/0 = NaN and c/0 = ±Inf.
func sharpeFromStats(a *devAcc, ss, f float64) float64 {
	if a.n < 2 || !validFactor(f) {
		return math.NaN()
	}
	return a.mean() / a.std(ss) * math.Sqrt(f)
}

// calmarFromParts is annual/|mdd| when mdd < 0, NaN otherwise and NaN for an infinite
// ratio (empyrical's calmar_ratio).
func calmarFromParts(annual, mdd float64) float64 {
	if !(mdd < 0) {
		return math.NaN()
	}
	c := annual / math.Abs(mdd)
	if math.IsInf(c, 0) {
		return math.NaN()
	}
	return c
}

// CumulativeReturn returns prod(1 + r_t) - 1 over the non-NaN r_t; NaN for empty r.
// A series of only NaN rows has cumulative return 0.
func CumulativeReturn(r []float64) float64 {
	if len(r) == 0 {
		return math.NaN()
	}
	g := growthAcc{1}
	for _, x := range r {
		g.add(x)
	}
	return g.g - 1
}

// AnnualReturn returns the compound annual growth rate
// (1 + cumulative)^(1/(N/F)) - 1, where N counts every row of r, NaN rows included,
// and F = periodsPerYear. It is NaN for empty r or an F that is not positive and finite.
func AnnualReturn(r []float64, periodsPerYear float64) float64 {
	g := growthAcc{1}
	for _, x := range r {
		g.add(x)
	}
	return annualFromGrowth(g.g, len(r), periodsPerYear)
}

// AnnualVolatility returns std(r, ddof=1) * sqrt(F) over the non-NaN r_t; NaN with fewer
// than 2 of them; exactly 0 for a constant series.
func AnnualVolatility(r []float64, periodsPerYear float64) float64 {
	if len(r) < 2 || !validFactor(periodsPerYear) {
		return math.NaN()
	}
	var a devAcc
	for _, x := range r {
		a.add(x)
	}
	var ss float64
	if a.needSecondPass() {
		m := a.mean()
		for _, x := range r {
			ss += sqDev(x, m)
		}
	}
	return a.std(ss) * math.Sqrt(periodsPerYear)
}

// Sharpe returns the annualized Sharpe ratio mean(x)/std(x, ddof=1) * sqrt(F) of the
// excess returns x_t = r_t - riskFree, riskFree being a return per period. NaN rows are
// dropped. It is NaN with fewer than 2 non-NaN rows; with zero deviation (an exactly
// constant series) it is +Inf or -Inf by the sign of the mean, and NaN when the mean is
// 0 too.
func Sharpe(r []float64, riskFree, periodsPerYear float64) float64 {
	if len(r) < 2 || !validFactor(periodsPerYear) {
		return math.NaN()
	}
	var a devAcc
	for _, x := range r {
		a.add(x - riskFree)
	}
	var ss float64
	if a.needSecondPass() {
		m := a.mean()
		for _, x := range r {
			ss += sqDev(x-riskFree, m)
		}
	}
	return sharpeFromStats(&a, ss, periodsPerYear)
}

// SharpeSeries is Sharpe with a risk-free return per period given as a series aligned
// with r: x_t = r_t - riskFree[t]. A row where either value is NaN is dropped. It is NaN
// when the lengths differ.
func SharpeSeries(r, riskFree []float64, periodsPerYear float64) float64 {
	if len(r) != len(riskFree) || len(r) < 2 || !validFactor(periodsPerYear) {
		return math.NaN()
	}
	riskFree = riskFree[:len(r)] // lets the compiler drop the bounds checks below
	var a devAcc
	for i, x := range r {
		a.add(x - riskFree[i])
	}
	var ss float64
	if a.needSecondPass() {
		m := a.mean()
		for i, x := range r {
			ss += sqDev(x-riskFree[i], m)
		}
	}
	return sharpeFromStats(&a, ss, periodsPerYear)
}

// DownsideRisk returns sqrt(mean(min(r_t - mar, 0)^2)) * sqrt(F), the mean taken over
// all non-NaN r_t (gains count as zeros). It is NaN when r has no non-NaN value.
func DownsideRisk(r []float64, mar, periodsPerYear float64) float64 {
	var a downAcc
	for _, x := range r {
		a.add(x - mar)
	}
	return a.risk(periodsPerYear)
}

// Sortino returns mean(r - mar) * F / DownsideRisk(r, mar, F). It is NaN with fewer than
// 2 rows (empyrical counts rows here, NaN included) or no non-NaN value; with no
// downside it is +Inf, or NaN when the mean excess return is 0 too.
func Sortino(r []float64, mar, periodsPerYear float64) float64 {
	if len(r) < 2 {
		return math.NaN()
	}
	var a downAcc
	for _, x := range r {
		a.add(x - mar)
	}
	return a.sortino(len(r), periodsPerYear)
}

// MaxDrawdown returns min over t of (V_t - max_{s<=t} V_s) / max_{s<=t} V_s for the
// wealth path V_t = prod_{s<=t}(1 + r_s) with V_0 = 1 prepended, so a loss in the first
// period counts. NaN rows are flat periods. The result is <= 0, NaN only for empty r,
// and within [-1, 0] when every return is >= -1.
func MaxDrawdown(r []float64) float64 {
	if len(r) == 0 {
		return math.NaN()
	}
	a := newDDAcc()
	for _, x := range r {
		a.add(x)
	}
	return a.min
}

// Calmar returns AnnualReturn(r, F) / |MaxDrawdown(r)| when the maximum drawdown is
// negative, and NaN otherwise (no drawdown, empty r) or when the ratio is infinite.
func Calmar(r []float64, periodsPerYear float64) float64 {
	if len(r) == 0 {
		return math.NaN()
	}
	g := growthAcc{1}
	d := newDDAcc()
	for _, x := range r {
		g.add(x)
		d.add(x)
	}
	return calmarFromParts(annualFromGrowth(g.g, len(r), periodsPerYear), d.min)
}

// Options are the conventions Summarize applies.
type Options struct {
	PeriodsPerYear float64 // F: periods per year, positive and finite (252 daily, 105120 for 5-minute ticks)
	RiskFree       float64 // risk-free return per period, for the Sharpe ratio
	MAR            float64 // minimum acceptable return per period, for downside risk and Sortino
	Eta            float64 // adaptation rate of the online differential Sharpe estimator, in (0, 1)
}

// Summary holds every batch metric of one series and the final moving Sharpe ratio of
// the online estimator. Each field equals, bitwise, what the function of the same name
// returns for the same series and options.
type Summary struct {
	N                int     // rows, NaN rows included
	CumulativeReturn float64 // CumulativeReturn(r)
	AnnualReturn     float64 // AnnualReturn(r, F)
	AnnualVolatility float64 // AnnualVolatility(r, F)
	Sharpe           float64 // Sharpe(r, RiskFree, F)
	Sortino          float64 // Sortino(r, MAR, F)
	DownsideRisk     float64 // DownsideRisk(r, MAR, F)
	MaxDrawdown      float64 // MaxDrawdown(r)
	Calmar           float64 // Calmar(r, F)
	// DSRFinal is the moving Sharpe ratio S_T of a DifferentialSharpe with rate Eta after
	// every row of r (not annualized; non-finite rows skipped); NaN when Eta is not in
	// (0, 1) or the estimator's variance is not positive.
	DSRFinal float64
}

// Summarize computes every metric of r in two passes without allocating.
func Summarize(r []float64, o Options) Summary {
	f := o.PeriodsPerYear
	var (
		g     = growthAcc{1}
		dd    = newDDAcc()
		vol   devAcc // r
		ex    devAcc // r - RiskFree
		down  downAcc
		dsr   = NewDifferentialSharpe(o.Eta)
		valid = dsr.valid()
	)
	for _, x := range r {
		g.add(x)
		dd.add(x)
		vol.add(x)
		ex.add(x - o.RiskFree)
		down.add(x - o.MAR)
		if valid {
			dsr.Update(x)
		}
	}
	var ssVol, ssEx float64
	if vol.needSecondPass() || ex.needSecondPass() {
		mVol, mEx := vol.mean(), ex.mean()
		for _, x := range r {
			ssVol += sqDev(x, mVol)
			ssEx += sqDev(x-o.RiskFree, mEx)
		}
	}

	s := Summary{N: len(r), DSRFinal: math.NaN()}
	nan := math.NaN()
	s.CumulativeReturn, s.MaxDrawdown = nan, nan
	if len(r) > 0 {
		s.CumulativeReturn = g.g - 1
		s.MaxDrawdown = dd.min
	}
	s.AnnualReturn = annualFromGrowth(g.g, len(r), f)
	s.AnnualVolatility, s.Sharpe, s.Sortino = nan, nan, nan
	if len(r) >= 2 && validFactor(f) {
		s.AnnualVolatility = vol.std(ssVol) * math.Sqrt(f)
		s.Sharpe = sharpeFromStats(&ex, ssEx, f)
	}
	if len(r) >= 2 {
		s.Sortino = down.sortino(len(r), f)
	}
	s.DownsideRisk = down.risk(f)
	s.Calmar = nan
	if len(r) > 0 {
		s.Calmar = calmarFromParts(s.AnnualReturn, dd.min)
	}
	if valid {
		s.DSRFinal = dsr.Sharpe()
	}
	return s
}
