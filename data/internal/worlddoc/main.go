// Command worlddoc computes the numbers and draws the figures of docs/world.md: the
// synthetic defaults of package data next to the real series in examples/data.
//
// Run it from the repository root:
//
//	go run ./data/internal/worlddoc -out docs/img
//
// It prints the tables of docs/world.md as Markdown on stdout. Everything is seeded, so
// the output is reproducible.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/experiments/plots"
)

// eurUSD converts the Belgian EUR prices (2023-2024 average, about 1.08).
const eurUSD = 1.08

func main() {
	out := flag.String("out", "docs/img", "directory for the PNG figures")
	seed := flag.Uint64("seed", 1, "seed of the synthetic series")
	flag.Parse()
	if err := run(*out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "worlddoc:", err)
		os.Exit(1)
	}
}

func run(out string, seed uint64) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := eth(out, seed); err != nil {
		return err
	}
	return elec(out, seed)
}

// logReturns returns the log returns of a price series.
func logReturns(p []float64) []float64 {
	r := make([]float64, len(p)-1)
	for i := range r {
		r[i] = math.Log(p[i+1] / p[i])
	}
	return r
}

type moments struct{ n, mean, sd, skew, exkurt float64 }

func stats(x []float64) moments {
	n := float64(len(x))
	m := 0.0
	for _, v := range x {
		m += v
	}
	m /= n
	var m2, m3, m4 float64
	for _, v := range x {
		d := v - m
		m2 += d * d
		m3 += d * d * d
		m4 += d * d * d * d
	}
	m2 /= n
	m3 /= n
	m4 /= n
	return moments{n: n, mean: m, sd: math.Sqrt(m2 * n / (n - 1)), skew: m3 / math.Pow(m2, 1.5), exkurt: m4/(m2*m2) - 3}
}

// eth compares daily ETH returns: the real file against the synthetic default sampled
// once a day.
func eth(out string, seed uint64) error {
	s, err := data.LoadCSV("examples/data/eth-usd-daily.csv", data.CSVOptions{
		TimeColumn: "Date", ValueColumn: "Close", Layout: "2006-01-02", Empty: data.EmptySkip, NullTokens: []string{"null"}})
	if err != nil {
		return err
	}
	// The four null days are gaps: returns across them span two days; they are few.
	realR := logReturns(s.Values)
	years := map[int][]float64{}
	for i, r := range realR {
		y := s.Times[i+1].Year()
		years[y] = append(years[y], r)
	}

	cfg := data.DefaultConfig()
	cfg.Locations = cfg.Locations[:1]
	nDays := 40 * 365
	synth, synthTimes, err := dailyETH(cfg, seed, nDays)
	if err != nil {
		return err
	}
	synR := logReturns(synth)

	fmt.Println("### ETH daily log returns")
	fmt.Println()
	fmt.Println("| series | days | annualized vol (sd x sqrt(365)) | skew | excess kurtosis | share of days beyond 3 sd |")
	fmt.Println("|---|---|---|---|---|---|")
	row := func(name string, r []float64) {
		m := stats(r)
		fmt.Printf("| %s | %d | %.0f%% | %.2f | %.1f | %.2f%% |\n", name, len(r), 100*m.sd*math.Sqrt(365), m.skew, m.exkurt, 100*beyond(r, 3))
	}
	row("real, 2015-08 to 2021-11", realR)
	var ys []int
	for y := range years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	for _, y := range ys {
		if len(years[y]) > 300 {
			row(fmt.Sprintf("real, %d", y), years[y])
		}
	}
	row("real, 2017-2021", append(append(append(append(append([]float64{}, years[2017]...), years[2018]...), years[2019]...), years[2020]...), years[2021]...))
	row(fmt.Sprintf("synthetic default, %d years", nDays/365), synR)
	for k := 0; k < 3; k++ {
		row(fmt.Sprintf("synthetic default, year %d", k+1), synR[k*365:(k+1)*365])
	}
	c := cfg.ETH
	ej4 := math.Pow(c.Jumps.Mean, 4) + 6*c.Jumps.Mean*c.Jumps.Mean*c.Jumps.SD*c.Jumps.SD + 3*math.Pow(c.Jumps.SD, 4)
	fmt.Printf("\nModel daily excess kurtosis (jumps only): lambda/365 * E[J^4] / (sigma^2/365)^2 = %.2f\n\n",
		c.Jumps.RatePerYear/365*ej4/math.Pow(c.Sigma*c.Sigma/365, 2))

	// Figure: paths. Real (log scale) and the first 6.3 synthetic years.
	n := len(s.Values)
	if err := plots.SaveStack(filepath.Join(out, "world-eth-paths.png"),
		&plots.TimeSeries{Title: "Real ETH/USD daily close (Yahoo Finance export)", YLabel: "price (USD, log scale)", LogY: true,
			Times: s.Times, Series: []plots.Series{{Y: s.Values}}},
		&plots.TimeSeries{Title: "Synthetic ETH/USD, default model, sampled daily (same span)", YLabel: "price (USD, log scale)", LogY: true,
			Times: synthTimes[:n], Series: []plots.Series{{Y: synth[:n]}}},
	); err != nil {
		return err
	}
	// Figure: rolling 30-day volatility.
	rv := func(r []float64) []float64 {
		out := make([]float64, len(r))
		for i := range r {
			if i < 30 {
				out[i] = math.NaN()
				continue
			}
			out[i] = stats(r[i-30:i]).sd * math.Sqrt(365)
		}
		return out
	}
	if err := plots.SaveStack(filepath.Join(out, "world-eth-vol.png"),
		&plots.TimeSeries{Title: "Real ETH: 30-day realized volatility", YLabel: "annualized volatility", Times: s.Times[1:],
			Series: []plots.Series{{Y: rv(realR)}}},
		&plots.TimeSeries{Title: "Synthetic ETH (default: sigma 0.65, jumps): 30-day realized volatility", YLabel: "annualized volatility",
			Times: synthTimes[1:n], Series: []plots.Series{{Y: rv(synR[:n-1])}}},
	); err != nil {
		return err
	}
	// Figure: QQ plot of standardized daily returns against the normal.
	q := func(r []float64, k int) []float64 {
		m := stats(r)
		z := make([]float64, len(r))
		for i, v := range r {
			z[i] = (v - m.mean) / m.sd
		}
		sort.Float64s(z)
		out := make([]float64, k)
		for i := range out {
			p := (float64(i) + 0.5) / float64(k)
			out[i] = z[int(p*float64(len(z)))]
		}
		return out
	}
	k := 400
	x := make([]float64, k)
	for i := range x {
		p := (float64(i) + 0.5) / float64(k)
		x[i] = math.Sqrt2 * math.Erfinv(2*p-1)
	}
	return (&plots.XY{Title: "Daily ETH log returns: quantiles against the normal (QQ plot)",
		XLabel: "normal quantile (sd)", YLabel: "standardized return quantile (sd)", X: x,
		Series: []plots.Series{{Name: "normal", Y: x}, {Name: "real 2015-2021", Y: q(realR, k)}, {Name: "synthetic default", Y: q(synR, k)}},
	}).Save(filepath.Join(out, "world-eth-qq.png"))
}

func beyond(r []float64, k float64) float64 {
	m := stats(r)
	c := 0
	for _, v := range r {
		if math.Abs(v-m.mean) > k*m.sd {
			c++
		}
	}
	return float64(c) / float64(len(r))
}

// dailyETH runs the world and samples ETH once a day (every 288 ticks).
func dailyETH(cfg data.Config, seed uint64, days int) ([]float64, []time.Time, error) {
	w, err := data.New(cfg, seed)
	if err != nil {
		return nil, nil, err
	}
	perDay := int(cfg.TicksPerDay())
	p := []float64{w.ETHUSD()}
	ts := []time.Time{w.Time()}
	for d := 0; d < days; d++ {
		for k := 0; k < perDay; k++ {
			w.Step()
		}
		p = append(p, w.ETHUSD())
		ts = append(ts, w.Time())
	}
	return p, ts, nil
}

type hourly struct {
	t []time.Time // local wall-clock hour labels
	v []float64   // USD/kWh
}

// elec compares the Belgian day-ahead prices with the synthetic Germany default.
func elec(out string, seed uint64) error {
	s, err := data.LoadCSV("examples/data/belgium-day-ahead-hourly.csv", data.CSVOptions{
		TimeColumn: "time", ValueColumn: "DAM_price", Layout: "02jan2006 15:04:05", Empty: data.EmptySkip})
	if err != nil {
		return err
	}
	real := hourly{}
	for i, t := range s.Times {
		real.t = append(real.t, t) // Brussels local time, as in the file
		real.v = append(real.v, s.Values[i]*eurUSD)
	}
	post := subset(real, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 7, 30, 0, 0, 0, 0, time.UTC))
	crisis := subset(real, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))

	// Synthetic Germany: a year of 5-minute ticks averaged to local hours (UTC+1).
	cfg := data.DefaultConfig()
	g := cfg.Locations[0]
	w, err := data.New(cfg, seed)
	if err != nil {
		return err
	}
	li, _ := w.Location("germany")
	syn := hourly{}
	off := time.Duration(g.UTCOffsetHours * float64(time.Hour))
	sum, n := 0.0, 0
	for k := 0; k < 2*105120; k++ {
		if k > 0 {
			w.Step()
		}
		sum += w.ElecUSDPerKWh(li)
		n++
		if n == 12 {
			syn.t = append(syn.t, w.Time().Add(off).Truncate(time.Hour))
			syn.v = append(syn.v, sum/12)
			sum, n = 0, 0
		}
	}

	fmt.Println("### Electricity, hourly prices (USD/kWh; Belgian EUR x 1.08)")
	fmt.Println()
	fmt.Println("| series | hours | mean | sd | share negative | share above 0.30 EUR/kWh (0.324 USD) | jumps up > 0.05 per day | peak/base (weekday 08-20 h / all) | weekend/weekday | AR(1) half-life of daily means |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	erow := func(name string, h hourly) {
		m := stats(h.v)
		neg, high, jumps := 0, 0, 0
		for i, v := range h.v {
			if v < 0 {
				neg++
			}
			if v > 0.30*eurUSD {
				high++
			}
			if i > 0 && v-h.v[i-1] > 0.05 {
				jumps++
			}
		}
		pb, we := peakBase(h)
		fmt.Printf("| %s | %d | %.3f | %.3f | %.1f%% | %.2f%% | %.3f | %.3f | %.3f | %.1f days |\n", name, len(h.v), m.mean, m.sd,
			100*float64(neg)/float64(len(h.v)), 100*float64(high)/float64(len(h.v)), float64(jumps)/float64(len(h.v))*24, pb, we, dailyHalfLife(h))
	}
	erow("real Belgium 2022 (crisis)", crisis)
	erow("real Belgium 2023-01 to 2024-07", post)
	erow("real Belgium 2024-01 to 2024-07", subset(real, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 7, 30, 0, 0, 0, 0, time.UTC)))
	erow("synthetic Germany default, 2 years", syn)
	fmt.Println()

	// Figure: daily profiles, weekday and weekend, real (2023-24) and synthetic.
	hours := make([]float64, 24)
	for i := range hours {
		hours[i] = float64(i)
	}
	rw, rwe := profile(post)
	sw, swe := profile(syn)
	if err := (&plots.XY{Title: "Electricity: mean price by local hour", XLabel: "local hour of day (h)", YLabel: "price (USD per kWh)", X: hours,
		Series: []plots.Series{
			{Name: "real Belgium 2023-24, weekdays", Y: rw}, {Name: "real Belgium 2023-24, weekends", Y: rwe},
			{Name: "synthetic Germany, weekdays", Y: sw}, {Name: "synthetic Germany, weekends", Y: swe},
		}}).Save(filepath.Join(out, "world-elec-profile.png")); err != nil {
		return err
	}
	// Figure: three weeks of each, May (solar surplus season) for the real one.
	rr := subset(real, time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 27, 0, 0, 0, 0, time.UTC))
	ss := hourly{t: syn.t[24*7*18 : 24*7*21], v: syn.v[24*7*18 : 24*7*21]}
	if err := plots.SaveStack(filepath.Join(out, "world-elec-paths.png"),
		&plots.TimeSeries{Title: "Real Belgian day-ahead price, May 2024 (Brussels time)", YLabel: "price (USD per kWh)", ZeroLine: true,
			XLabel: "local time, 2024", Times: rr.t, Series: []plots.Series{{Y: rr.v}}},
		&plots.TimeSeries{Title: "Synthetic Germany (default), three weeks, hourly means", YLabel: "price (USD per kWh)", ZeroLine: true,
			XLabel: "local time (UTC+1), 2024", Times: ss.t, Series: []plots.Series{{Y: ss.v}}},
	); err != nil {
		return err
	}
	// Figure: the whole real file and two synthetic years, to show levels and spikes.
	return plots.SaveStack(filepath.Join(out, "world-elec-years.png"),
		&plots.TimeSeries{Title: "Real Belgian day-ahead price, 2022-01 to 2024-07", YLabel: "price (USD per kWh)", ZeroLine: true,
			XLabel: "local time", Times: real.t, Series: []plots.Series{{Y: real.v}}},
		&plots.TimeSeries{Title: "Synthetic Germany (default), two years", YLabel: "price (USD per kWh)", ZeroLine: true,
			XLabel: "local time (UTC+1)", Times: syn.t, Series: []plots.Series{{Y: syn.v}}},
	)
}

func subset(h hourly, from, to time.Time) hourly {
	var o hourly
	for i, t := range h.t {
		if !t.Before(from) && t.Before(to) {
			o.t = append(o.t, t)
			o.v = append(o.v, h.v[i])
		}
	}
	return o
}

func weekend(t time.Time) bool { return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday }

// profile returns the mean price by hour, weekdays and weekends.
func profile(h hourly) (wd, we []float64) {
	var s [2][24]float64
	var n [2][24]int
	for i, t := range h.t {
		k := 0
		if weekend(t) {
			k = 1
		}
		s[k][t.Hour()] += h.v[i]
		n[k][t.Hour()]++
	}
	wd, we = make([]float64, 24), make([]float64, 24)
	for hr := 0; hr < 24; hr++ {
		wd[hr] = s[0][hr] / float64(n[0][hr])
		we[hr] = s[1][hr] / float64(n[1][hr])
	}
	return wd, we
}

// peakBase is the mean weekday 08:00-20:00 price over the mean of all hours (the
// market's peak/base ratio), and the weekend/weekday mean ratio.
func peakBase(h hourly) (pb, we float64) {
	var all, peak, wk, wke float64
	var nAll, nPeak, nWk, nWke int
	for i, t := range h.t {
		v := h.v[i]
		all += v
		nAll++
		if weekend(t) {
			wke += v
			nWke++
			continue
		}
		wk += v
		nWk++
		if t.Hour() >= 8 && t.Hour() < 20 {
			peak += v
			nPeak++
		}
	}
	return (peak / float64(nPeak)) / (all / float64(nAll)), (wke / float64(nWke)) / (wk / float64(nWk))
}

// dailyHalfLife fits an AR(1) to the daily mean prices and returns the half-life in days.
func dailyHalfLife(h hourly) float64 {
	var days []float64
	var cur time.Time
	sum, n := 0.0, 0
	for i, t := range h.t {
		d := t.Truncate(24 * time.Hour)
		if !d.Equal(cur) && n > 0 {
			days = append(days, sum/float64(n))
			sum, n = 0, 0
		}
		cur = d
		sum += h.v[i]
		n++
	}
	return data.FitAR1(days).HalfLifeTicks()
}
