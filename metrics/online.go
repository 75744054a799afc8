package metrics

import "math"

// validEta reports whether eta is a usable adaptation rate: 0 < eta < 1.
func validEta(eta float64) bool { return eta > 0 && eta < 1 }

// finite reports whether x is neither NaN nor ±Inf.
func finite(x float64) bool { return x-x == 0 }

// clip bounds d to [-c, c] when c > 0.
func clip(d, c float64) float64 {
	if c > 0 {
		d = max(-c, min(d, c))
	}
	return d
}

// DifferentialSharpe is the online differential Sharpe ratio estimator of Moody, Wu,
// Liao and Saffell (1998), in the notation of Moody and Saffell (2001), eqs. 14-16.
// With adaptation rate eta and A_0 = B_0 = 0, each Update(R_t) computes
//
//	dA_t = R_t - A_{t-1}          A_t = A_{t-1} + eta * dA_t
//	dB_t = R_t^2 - B_{t-1}        B_t = B_{t-1} + eta * dB_t
//	D_t  = (B_{t-1} dA_t - A_{t-1} dB_t / 2) / (B_{t-1} - A_{t-1}^2)^(3/2)
//
// and returns D_t, which is 0 while B_{t-1} - A_{t-1}^2 <= 0 (warm-up). The moving
// Sharpe ratio is S_t = A_t / (K sqrt(B_t - A_t^2)) with K = sqrt((1 - eta/2)/(1 - eta)),
// the factor that makes K^2 (B_t - A_t^2) an unbiased variance estimate for i.i.d.
// returns. To first order in eta, S_t - S_{t-1} ≈ eta D_t / K, so D_t is an additive
// per-step reward.
//
// A non-finite return (NaN, ±Inf) is skipped: Update returns 0 and leaves the state
// unchanged. Returns must also be small enough that R_t^2 does not overflow.
//
// Use NewDifferentialSharpe: the zero value has eta = 0, which is invalid, so its Update
// and Sharpe return NaN. The struct holds no pointers: copying it snapshots the
// estimator.
type DifferentialSharpe struct {
	// Clip, when positive, bounds the D_t that Update returns to [-Clip, Clip], for use
	// as a reward. It does not change the state. Zero means no clip.
	Clip float64

	eta, k float64
	a, b   float64
}

// NewDifferentialSharpe returns an estimator with adaptation rate eta, which must be in
// (0, 1); with any other eta, Update and Sharpe return NaN.
func NewDifferentialSharpe(eta float64) DifferentialSharpe {
	d := DifferentialSharpe{eta: eta, k: math.NaN()}
	if validEta(eta) {
		d.k = math.Sqrt((1 - eta/2) / (1 - eta))
	}
	return d
}

func (d *DifferentialSharpe) valid() bool { return validEta(d.eta) }

// Update feeds the return R_t, returns D_t (clipped when Clip > 0), then updates A and B.
// It returns 0 for a non-finite R_t and NaN when eta is invalid, leaving the state
// unchanged in both cases. D_t is also 0 when (B_{t-1} - A_{t-1}^2)^(3/2) underflows
// to zero.
func (d *DifferentialSharpe) Update(r float64) float64 {
	if !finite(r) {
		return 0
	}
	if !d.valid() {
		return math.NaN()
	}
	dA := r - d.a
	dB := r*r - d.b
	var D float64
	if v := d.b - d.a*d.a; v > 0 {
		if den := v * math.Sqrt(v); den > 0 {
			D = (d.b*dA - 0.5*d.a*dB) / den
		}
	}
	d.a += d.eta * dA
	d.b += d.eta * dB
	return clip(D, d.Clip)
}

// Sharpe returns the moving Sharpe ratio S_t = A_t / (K sqrt(B_t - A_t^2)), per period
// (not annualized). It is NaN when B_t - A_t^2 <= 0 or eta is invalid.
func (d *DifferentialSharpe) Sharpe() float64 {
	v := d.b - d.a*d.a
	if !(v > 0) {
		return math.NaN()
	}
	return d.a / (d.k * math.Sqrt(v))
}

// WarmStart sets A to the mean of the finite values of sample and B to the mean of
// their squares, as if a long burn-in had been seen; it avoids the spike of D_t right
// after a cold start. With no finite value in sample the state is unchanged.
func (d *DifferentialSharpe) WarmStart(sample []float64) {
	var n int
	var s, s2 float64
	for _, r := range sample {
		if finite(r) {
			n++
			s += r
			s2 += r * r
		}
	}
	if n > 0 {
		d.a, d.b = s/float64(n), s2/float64(n)
	}
}

// A returns the moving first moment A_t.
func (d *DifferentialSharpe) A() float64 { return d.a }

// B returns the moving second moment B_t.
func (d *DifferentialSharpe) B() float64 { return d.b }

// Eta returns the adaptation rate.
func (d *DifferentialSharpe) Eta() float64 { return d.eta }

// Reset sets A and B back to 0, keeping eta and Clip.
func (d *DifferentialSharpe) Reset() { d.a, d.b = 0, 0 }

// DifferentialDownside is the online differential downside deviation ratio of Moody and
// Saffell (2001), eqs. 19-24. With adaptation rate eta and A_0 = DD2_0 = 0, each
// Update(R_t) returns
//
//	D_t = (R_t - A_{t-1}/2) / DD_{t-1}                                          if R_t > 0
//	D_t = (DD2_{t-1} (R_t - A_{t-1}/2) - A_{t-1} R_t^2 / 2) / DD_{t-1}^3         if R_t <= 0
//
// where DD_t = sqrt(DD2_t), and then updates
//
//	A_t   = A_{t-1} + eta (R_t - A_{t-1})
//	DD2_t = DD2_{t-1} + eta (min(R_t, 0)^2 - DD2_{t-1})
//
// D_t is 0 until a negative return has entered DD2 (DD2_{t-1} = 0), and when DD_{t-1}^3
// underflows to zero. The moving ratio is DDR_t = A_t / DD_t.
//
// Non-finite returns are skipped as in DifferentialSharpe. Use NewDifferentialDownside:
// the zero value has the invalid eta = 0, so its Update and Ratio return NaN.
type DifferentialDownside struct {
	// Clip, when positive, bounds the D_t that Update returns to [-Clip, Clip]. Zero
	// means no clip.
	Clip float64

	eta    float64
	a, dd2 float64
}

// NewDifferentialDownside returns an estimator with adaptation rate eta, which must be
// in (0, 1); with any other eta, Update and Ratio return NaN.
func NewDifferentialDownside(eta float64) DifferentialDownside {
	return DifferentialDownside{eta: eta}
}

// Update feeds the return R_t, returns D_t (clipped when Clip > 0), then updates A and
// DD2. It returns 0 for a non-finite R_t and NaN when eta is invalid, leaving the state
// unchanged in both cases.
func (d *DifferentialDownside) Update(r float64) float64 {
	if !finite(r) {
		return 0
	}
	if !validEta(d.eta) {
		return math.NaN()
	}
	var D float64
	if d.dd2 > 0 {
		dd := math.Sqrt(d.dd2)
		if r > 0 {
			D = (r - 0.5*d.a) / dd
		} else if dd3 := d.dd2 * dd; dd3 > 0 {
			D = (d.dd2*(r-0.5*d.a) - 0.5*d.a*r*r) / dd3
		}
	}
	d.a += d.eta * (r - d.a)
	m := min(r, 0)
	d.dd2 += d.eta * (m*m - d.dd2)
	return clip(D, d.Clip)
}

// Ratio returns the moving downside deviation ratio A_t / DD_t, per period. It is NaN
// when DD2_t <= 0 (no loss seen yet) or eta is invalid.
func (d *DifferentialDownside) Ratio() float64 {
	if !(d.dd2 > 0) || !validEta(d.eta) {
		return math.NaN()
	}
	return d.a / math.Sqrt(d.dd2)
}

// WarmStart sets A to the mean of the finite values of sample and DD2 to the mean of
// min(R, 0)^2 over them. With no finite value in sample the state is unchanged.
func (d *DifferentialDownside) WarmStart(sample []float64) {
	var n int
	var s, s2 float64
	for _, r := range sample {
		if finite(r) {
			n++
			s += r
			m := min(r, 0)
			s2 += m * m
		}
	}
	if n > 0 {
		d.a, d.dd2 = s/float64(n), s2/float64(n)
	}
}

// A returns the moving mean return A_t.
func (d *DifferentialDownside) A() float64 { return d.a }

// DD2 returns the moving downside second moment DD2_t (the squared downside deviation).
func (d *DifferentialDownside) DD2() float64 { return d.dd2 }

// Eta returns the adaptation rate.
func (d *DifferentialDownside) Eta() float64 { return d.eta }

// Reset sets A and DD2 back to 0, keeping eta and Clip.
func (d *DifferentialDownside) Reset() { d.a, d.dd2 = 0, 0 }
