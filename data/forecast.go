package data

import "math"

// Forecast is a point forecast with a central prediction interval.
type Forecast struct {
	// Mean is the point forecast; SD the standard deviation of the forecast error.
	Mean, SD float64
	// Lo and Hi bound the central interval of the requested level under normal errors.
	Lo, Hi float64
}

// Forecaster turns a trailing window (oldest first) into an h-step-ahead forecast with
// a prediction interval of the given level (e.g. 0.9). Implementations do not allocate.
type Forecaster interface {
	Forecast(xs []float64, h int, level float64) Forecast
}

// zLevel is the standard normal quantile of (1+level)/2: the half-width of a central
// interval in standard deviations.
func zLevel(level float64) float64 {
	if !(level > 0 && level < 1) {
		return math.NaN()
	}
	return math.Sqrt2 * math.Erfinv(level)
}

func interval(mean, sd, level float64) Forecast {
	z := zLevel(level)
	return Forecast{Mean: mean, SD: sd, Lo: mean - z*sd, Hi: mean + z*sd}
}

// EWMA is simple exponential smoothing (Brown 1956) with smoothing weight Alpha in
// (0, 1]: level s[t] = s[t-1] + Alpha (x[t] - s[t-1]), s[0] = x[0]. Its h-step forecast
// is the last level; the error variance is sigma^2 (1 + (h-1) Alpha^2), the variance of
// the equivalent ARIMA(0,1,1) model (Hyndman et al. 2008, "Forecasting with
// Exponential Smoothing", Table 6.1), with sigma^2 the mean squared one-step error over
// the window.
type EWMA struct {
	Alpha float64
}

// Forecast implements Forecaster. An empty window gives NaN.
func (e EWMA) Forecast(xs []float64, h int, level float64) Forecast {
	return e.forecast(xs, nil, h, level)
}

// ForecastRing forecasts from a ring's window without copying it.
func (e EWMA) ForecastRing(r *Ring, h int, level float64) Forecast {
	a, b := r.Segments()
	return e.forecast(a, b, h, level)
}

func (e EWMA) forecast(a, b []float64, h int, level float64) Forecast {
	n := len(a) + len(b)
	if n == 0 || h < 1 {
		return Forecast{Mean: math.NaN(), SD: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	var s, sse float64
	first := true
	for _, seg := range [2][]float64{a, b} {
		for _, x := range seg {
			if first {
				s, first = x, false
				continue
			}
			err := x - s
			sse += err * err
			s += e.Alpha * err
		}
	}
	sigma2 := 0.0
	if n > 1 {
		sigma2 = sse / float64(n-1)
	}
	v := sigma2 * (1 + float64(h-1)*e.Alpha*e.Alpha)
	return interval(s, math.Sqrt(v), level)
}

// AR1 fits x[t] = c + phi x[t-1] + e[t], e ~ N(0, sigma^2), by ordinary least squares
// on the window and forecasts from the last value: an exactly discretized
// Ornstein-Uhlenbeck process is an AR(1) with phi = e^{-kappa dt}, so this is also the
// OU fit (half-life -ln 2 / ln phi ticks). For |phi| < 1 the h-step forecast is
// mu + phi^h (x[n] - mu), mu = c/(1-phi), with variance sigma^2 (1-phi^{2h})/(1-phi^2);
// for phi >= 1 it is a random walk with drift c (mean x[n] + c h, variance sigma^2 h).
type AR1 struct{}

// AR1Fit is the result of FitAR1.
type AR1Fit struct {
	C, Phi, Sigma float64
	// N is the number of (x[t-1], x[t]) pairs used.
	N int
	// Last is the last value of the window, the forecast origin.
	Last float64
}

// Mu is the stationary mean c/(1-phi) (NaN when phi >= 1).
func (f AR1Fit) Mu() float64 {
	if f.Phi >= 1 {
		return math.NaN()
	}
	return f.C / (1 - f.Phi)
}

// HalfLifeTicks is the mean-reversion half-life -ln 2 / ln phi in ticks (+Inf when
// phi >= 1, NaN when phi <= 0).
func (f AR1Fit) HalfLifeTicks() float64 {
	switch {
	case f.Phi >= 1:
		return math.Inf(1)
	case f.Phi <= 0:
		return math.NaN()
	}
	return -math.Ln2 / math.Log(f.Phi)
}

// FitAR1 fits the AR(1) model to xs (at least 3 values; fewer give a zero fit with
// Last set).
func FitAR1(xs []float64) AR1Fit { return fitAR1(xs, nil) }

// FitAR1Ring fits the AR(1) model to a ring's window without copying it.
func FitAR1Ring(r *Ring) AR1Fit {
	a, b := r.Segments()
	return fitAR1(a, b)
}

func fitAR1(a, b []float64) AR1Fit {
	n := len(a) + len(b)
	at := func(i int) float64 {
		if i < len(a) {
			return a[i]
		}
		return b[i-len(a)]
	}
	var f AR1Fit
	if n == 0 {
		return f
	}
	f.Last = at(n - 1)
	if n < 3 {
		return f
	}
	m := n - 1
	// Means, then centred sums (two passes, for accuracy).
	var zm, ym float64
	for i := 1; i < n; i++ {
		zm += at(i - 1)
		ym += at(i)
	}
	zm /= float64(m)
	ym /= float64(m)
	var szz, szy float64
	for i := 1; i < n; i++ {
		dz, dy := at(i-1)-zm, at(i)-ym
		szz += dz * dz
		szy += dz * dy
	}
	if szz > 0 {
		f.Phi = szy / szz
	}
	f.C = ym - f.Phi*zm
	var sse float64
	for i := 1; i < n; i++ {
		e := at(i) - f.C - f.Phi*at(i-1)
		sse += e * e
	}
	if m > 2 {
		f.Sigma = math.Sqrt(sse / float64(m-2))
	}
	f.N = m
	return f
}

// Forecast returns the h-step forecast of the fit from its last value.
func (f AR1Fit) Forecast(h int, level float64) Forecast {
	if h < 1 {
		return Forecast{Mean: math.NaN(), SD: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	s2 := f.Sigma * f.Sigma
	if f.Phi >= 1 || f.Phi <= -1 {
		return interval(f.Last+f.C*float64(h), math.Sqrt(s2*float64(h)), level)
	}
	ph := math.Pow(f.Phi, float64(h))
	mu := f.C / (1 - f.Phi)
	v := s2 * (1 - ph*ph) / (1 - f.Phi*f.Phi)
	return interval(mu+ph*(f.Last-mu), math.Sqrt(v), level)
}

// Forecast implements Forecaster: fit on xs, then forecast.
func (AR1) Forecast(xs []float64, h int, level float64) Forecast {
	return FitAR1(xs).Forecast(h, level)
}

// ForecastRing fits on a ring's window and forecasts, without copying.
func (AR1) ForecastRing(r *Ring, h int, level float64) Forecast {
	return FitAR1Ring(r).Forecast(h, level)
}
