package data

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// germany returns the default Germany location with the given components switched off.
func germany(spikes, negative bool) LocationConfig {
	l := DefaultLocations()[0]
	if l.Name != "germany" {
		panic("first default location is not germany")
	}
	if !spikes {
		l.Spikes.RatePerDay = 0
	}
	if !negative {
		l.Negative.Fraction = 0
	}
	return l
}

// runElec runs one location's generator for n ticks of 5 minutes from the default
// start and returns the prices and the seasonal level f at each tick.
func runElec(l LocationConfig, n int, seed uint64) (p, f []float64) {
	c := DefaultConfig()
	g := newElecGen(l, c.Start, c.Tick, rand.New(rand.NewPCG(seed, 5)))
	p, f = make([]float64, n), make([]float64, n)
	for k := 0; k < n; k++ {
		if k > 0 {
			g.advance()
		}
		p[k] = g.price(int64(k))
		f[k] = g.seasonal(int64(k))
	}
	return p, f
}

// TestElecHalfLife estimates the OU half-life from the series: the deviation
// d = P - f (spikes and negative hours off, so d is X exactly) is regressed on its lag,
// d[t] = c + phi d[t-1] + e, and the half-life is -ln 2 / ln phi ticks. The estimator
// of kappa has asymptotic sd sqrt(2 kappa / T) (T the span in days): with kappa =
// 0.072/day and T = 25 years that is 5.5% of kappa, and the small-sample bias (about
// 4/T) is 1.5%; the acceptance tolerance of 25% is then about 4.5 sd.
func TestElecHalfLife(t *testing.T) {
	l := germany(false, false)
	n := 25 * 105120
	p, f := runElec(l, n, 1)
	d := make([]float64, n)
	for i := range d {
		d[i] = p[i] - f[i]
	}
	fit := FitAR1(d)
	got := fit.HalfLifeTicks() / 288 // days
	if rel := got/l.OU.HalfLifeDays - 1; math.Abs(rel) > 0.25 {
		t.Errorf("estimated half-life %.2f days, configured %.2f (relative error %.3f > 0.25)", got, l.OU.HalfLifeDays, rel)
	}
	// The innovation sd is sigma sqrt((1-phi^2)/(2 kappa)) per tick, known to high precision.
	kappa := math.Ln2 / l.OU.HalfLifeDays
	phi := math.Exp(-kappa / 288)
	want := l.OU.Sigma * math.Sqrt((1-phi*phi)/(2*kappa))
	if math.Abs(fit.Sigma/want-1) > 0.01 {
		t.Errorf("innovation sd %.4g, want %.4g", fit.Sigma, want)
	}
}

// TestElecDailyProfile: with spikes and negative hours off, the mean price by local
// hour, minus each day's mean, is the configured profile minus its daily mean. The OU
// deviation nearly cancels within a day: X moves by about sigma sqrt(1 day) = 0.0135
// USD/kWh in a day, so a day's hourly deviations have sd below 0.0095 and their mean
// over ~1040 weekdays below 0.0003; we allow 0.0015 (5 sd). Adjacent hours of the
// profile differ by up to 0.015 USD/kWh, so a shifted or wrong profile fails.
func TestElecDailyProfile(t *testing.T) {
	l := germany(false, false)
	n := 4 * 105120
	p, _ := runElec(l, n, 2)
	var hourSum [24]float64
	var hourN [24]int
	var fSum [24]float64
	c := DefaultConfig()
	perDay := 288
	off := int(l.UTCOffsetHours * 12) // ticks
	// Walk whole local days (local midnight at tick perDay - off).
	wd := 7 / (5 + 2*l.WeekendFactor)
	prof := DefaultDailyProfile
	for start := perDay - off; start+perDay <= n; start += perDay {
		local := c.Start.Add(time.Duration(start)*c.Tick + time.Duration(l.UTCOffsetHours*float64(time.Hour)))
		if local.Hour() != 0 || local.Minute() != 0 {
			t.Fatalf("day start %v is not local midnight", local)
		}
		if wdy := local.Weekday(); wdy == time.Saturday || wdy == time.Sunday {
			continue
		}
		dayMean := 0.0
		for _, x := range p[start : start+perDay] {
			dayMean += x
		}
		dayMean /= float64(perDay)
		for i, x := range p[start : start+perDay] {
			h := i / 12
			hourSum[h] += x - dayMean
			hourN[h]++
		}
		// Configured weekday level by hour, from the config (not the generator's table).
		for h := 0; h < 24; h++ {
			fSum[h] = l.MeanUSDPerKWh * wd * (1 + l.ProfileAmplitude*(prof[h]*24/sumProfile()-1))
		}
	}
	fMean := 0.0
	for _, x := range fSum {
		fMean += x / 24
	}
	for h := 0; h < 24; h++ {
		got := hourSum[h] / float64(hourN[h])
		want := fSum[h] - fMean
		if math.Abs(got-want) > 0.0015 {
			t.Errorf("hour %02d: mean deviation from the daily mean %.4f, configured %.4f", h, got, want)
		}
	}
}

func sumProfile() float64 {
	s := 0.0
	for _, x := range DefaultDailyProfile {
		s += x
	}
	return s
}

// TestElecWeekend: the weekend level relative to weekdays is weekend_factor. With a
// small OU sigma (0.001 USD/kWh per sqrt(day)), the weekend/weekday difference of X in a
// week has sd about sigma sqrt(3 days) = 0.0017, 0.0001 over 200 weeks, 0.0015 in ratio
// units of the 0.08 level: we allow 0.01.
func TestElecWeekend(t *testing.T) {
	l := germany(false, false)
	l.OU.Sigma = 0.001
	n := 4 * 105120
	p, _ := runElec(l, n, 3)
	c := DefaultConfig()
	var we, wk float64
	var nwe, nwk int
	for k, x := range p {
		local := c.Start.Add(time.Duration(k)*c.Tick + time.Hour)
		if d := local.Weekday(); d == time.Saturday || d == time.Sunday {
			we += x
			nwe++
		} else {
			wk += x
			nwk++
		}
	}
	if r := (we / float64(nwe)) / (wk / float64(nwk)); math.Abs(r-l.WeekendFactor) > 0.01 {
		t.Errorf("weekend/weekday price ratio %.4f, configured %.2f", r, l.WeekendFactor)
	}
}

// TestElecSpikeRate counts spikes in the series: upward moves of the deviation P - f
// by more than 0.01 USD/kWh in a tick. The OU innovation sd is 0.0008 a tick, so such a
// move (12 sd) is a spike arrival; a spike of exponential size with mean m exceeds
// the threshold with probability e^{-0.01/m}. Over 25 years at 0.1 a day the count is
// Poisson with mean about 880; we allow 5 sd.
func TestElecSpikeRate(t *testing.T) {
	l := germany(true, false)
	n := 25 * 105120
	p, f := runElec(l, n, 4)
	const thr = 0.01
	count := 0
	for k := 1; k < n; k++ {
		if (p[k]-f[k])-(p[k-1]-f[k-1]) > thr {
			count++
		}
	}
	days := float64(n) / 288
	want := l.Spikes.RatePerDay * days * math.Exp(-thr/l.Spikes.MeanUSDPerKWh)
	if math.Abs(float64(count)-want) > 5*math.Sqrt(want) {
		t.Errorf("%d spikes in %.0f days, want %.0f +- %.0f (rate %g/day)", count, days, want, 5*math.Sqrt(want), l.Spikes.RatePerDay)
	}
	// Rate estimate, for the record.
	t.Logf("estimated spike rate %.4f/day, configured %.4f/day", float64(count)/days/math.Exp(-thr/l.Spikes.MeanUSDPerKWh), l.Spikes.RatePerDay)
}

// TestElecNegativeHours: the fraction of negative ticks is negative.fraction when the
// OU deviation cannot reach zero (small sigma). Per day the negative fraction is
// I * L / 24 with I ~ Bernoulli(q), L uniform on 1..8: sd 0.0965 a day, 0.0016 over
// 10 years; we allow 0.008 (5 sd). The surplus blocks are centred on center_hour.
func TestElecNegativeHours(t *testing.T) {
	l := germany(false, true)
	l.OU.Sigma = 0.001
	n := 10 * 105120
	p, _ := runElec(l, n, 5)
	neg, hourSum := 0, 0.0
	for k, x := range p {
		if x < 0 {
			neg++
			tod := (k*5 + 60) % (24 * 60) // local minutes (UTC+1)
			hourSum += float64(tod)/60 + 5.0/120
		}
	}
	frac := float64(neg) / float64(n)
	if math.Abs(frac-l.Negative.Fraction) > 0.008 {
		t.Errorf("negative fraction %.4f, configured %.3f", frac, l.Negative.Fraction)
	}
	if c := hourSum / float64(neg); math.Abs(c-l.Negative.CenterHour) > 0.25 {
		t.Errorf("negative hours centred at %.2f h, configured %.1f h", c, l.Negative.CenterHour)
	}
}

// TestElecUSRetail: a US default location (a retail tariff) never goes negative and
// stays within 30% of its mean (stationary sd 5% of the mean, plus small spikes in Texas).
func TestElecUSRetail(t *testing.T) {
	for _, l := range DefaultLocations()[4:] {
		p, _ := runElec(l, 105120, 6)
		for k, x := range p {
			if x <= 0 || math.Abs(x/l.MeanUSDPerKWh-1) > 0.3 && l.Spikes.RatePerDay == 0 {
				t.Fatalf("%s tick %d: price %g (mean %g)", l.Name, k, x, l.MeanUSDPerKWh)
			}
		}
	}
}
