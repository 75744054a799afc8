package tournament

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/hivegym/hivegym/agents"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/jsonfloat"
)

// Output files of a tournament directory.
const (
	PayoffCSV  = "payoff.csv"
	RatingsCSV = "ratings.csv"
	CompareCSV = "compare.csv"
	ResultJSON = "tournament.json"
)

func num(x float64, metric string) string {
	if s, ok := jsonfloat.NonFinite(x); ok {
		return s
	}
	switch metric {
	case experiments.MetricCumulativeReturn, experiments.MetricMaxDrawdown, experiments.MarketDealRate:
		return fmt.Sprintf("%.3f%%", 100*x)
	}
	return fmt.Sprintf("%.3g", x)
}

func ivText(iv experiments.Interval, metric string) string {
	return fmt.Sprintf("%s [%s, %s]", num(float64(iv.Mean), metric), num(float64(iv.CI95[0]), metric), num(float64(iv.CI95[1]), metric))
}

func eloText(x float64) string {
	if s, ok := jsonfloat.NonFinite(x); ok {
		return s
	}
	return fmt.Sprintf("%+.0f", x)
}

// find returns the cell of cs with these fields, or a NaN one.
func find(cs []Cell, entrant, opponent, side, metric string) experiments.Interval {
	for _, c := range cs {
		if c.Entrant == entrant && c.Opponent == opponent && c.Side == side && c.Metric == metric {
			return c.Value
		}
	}
	nan := jsonfloat.Float(math.NaN())
	return experiments.Interval{Mean: nan, CI95: [2]jsonfloat.Float{nan, nan}}
}

// WriteTable prints the ratings, the head-to-head payoff matrices and the mixed
// matrices as aligned text.
func (r *Results) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "tournament %s: %d paired episodes per cell (%d episodes x %d schemes x %d scenarios); mean [95%% CI]\n",
		r.Name, r.Units, r.Episodes, len(r.Schemes), len(r.Scenarios))
	if len(r.Ratings) > 0 {
		fmt.Fprintf(bw, "\nratings: Bradley-Terry MLE on %s in the mixed populations, Elo scale (400 = 10:1 odds), bootstrap 95%% CI\n", r.RatingMetric)
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "role\tentrant\trating\t95% CI\tcomparisons\t")
		for _, x := range r.Ratings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t[%s, %s]\t%g\t\n", x.Role, x.Entrant, eloText(float64(x.Rating)), eloText(float64(x.CI95[0])), eloText(float64(x.CI95[1])), x.Games)
		}
		tw.Flush()
	}
	matrix := func(title string, rows, cols []string, get func(row, col string) experiments.Interval, metric string) {
		fmt.Fprintf(bw, "\n%s\n", title)
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprint(tw, "\t")
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t", c)
		}
		fmt.Fprintln(tw)
		for _, row := range rows {
			fmt.Fprintf(tw, "%s\t", row)
			for _, c := range cols {
				fmt.Fprintf(tw, "%s\t", ivText(get(row, c), metric))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	if len(r.HeadToHead) > 0 {
		for _, sm := range []struct{ side, metric, what string }{
			{agents.RoleProvider, experiments.MetricCumulativeReturn, "provider cumulative return"},
			{agents.RoleProvider, experiments.MetricSharpe, "provider Sharpe"},
			{agents.RoleClient, experiments.MetricCumulativeReturn, "client cumulative return"},
			{"market", experiments.MarketDealRate, "deal rate"},
			{"market", experiments.MarketPricePerGPUHour, "price per GPU-hour (USD)"},
			{"market", experiments.MarketValueShare, "value share (deal value / job value realized)"},
		} {
			matrix("head-to-head, "+sm.what+" (rows: providers, columns: clients)", r.Providers, r.Clients,
				func(row, col string) experiments.Interval { return find(r.HeadToHead, row, col, sm.side, sm.metric) }, sm.metric)
		}
	}
	for _, role := range []string{agents.RoleProvider, agents.RoleClient} {
		rows, cols := r.Providers, r.Clients
		if role == agents.RoleClient {
			rows, cols = r.Clients, r.Providers
		}
		var mine []Cell
		for _, c := range r.Mixed {
			if c.Role == role {
				mine = append(mine, c)
			}
		}
		if len(mine) == 0 {
			continue
		}
		matrix(fmt.Sprintf("mixed %ss, %s (rows: the %ss sharing the market, columns: their opponent)", role, r.RatingMetric, role), rows, cols,
			func(row, col string) experiments.Interval { return find(mine, row, col, "", r.RatingMetric) }, r.RatingMetric)
	}
	if len(r.Compare) > 0 {
		fmt.Fprintf(bw, "\npaired differences (same scheme, scenario and episode seed)\n")
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "matchup\tdifference\topponent\tmetric\tmean [95% CI]\t")
		for _, c := range r.Compare {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", c.Kind, c.Entrant, c.Opponent, c.Metric, ivText(c.Value, c.Metric))
		}
		tw.Flush()
	}
	return bw.Flush()
}

// WriteFiles writes payoff.csv, ratings.csv, compare.csv (when there are comparisons)
// and tournament.json into dir.
func (r *Results) WriteFiles(dir string, doc []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cells := func(name string, cs []Cell) error {
		var b []byte
		b = append(b, "kind,role,entrant,opponent,side,metric,mean,ci_lo,ci_hi,n\n"...)
		for _, c := range cs {
			b = fmt.Appendf(b, "%s,%s,%s,%s,%s,%s,", c.Kind, c.Role, c.Entrant, c.Opponent, c.Side, c.Metric)
			b = experiments.AppendCSVFloat(b, float64(c.Value.Mean))
			b = append(b, ',')
			b = experiments.AppendCSVFloat(b, float64(c.Value.CI95[0]))
			b = append(b, ',')
			b = experiments.AppendCSVFloat(b, float64(c.Value.CI95[1]))
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(c.Value.N), 10)
			b = append(b, '\n')
		}
		return writeFile(filepath.Join(dir, name), b)
	}
	if err := cells(PayoffCSV, append(append([]Cell(nil), r.HeadToHead...), r.Mixed...)); err != nil {
		return err
	}
	if len(r.Compare) > 0 {
		if err := cells(CompareCSV, r.Compare); err != nil {
			return err
		}
	}
	b := []byte("role,entrant,rating,ci_lo,ci_hi,comparisons\n")
	for _, x := range r.Ratings {
		b = fmt.Appendf(b, "%s,%s,", x.Role, x.Entrant)
		b = experiments.AppendCSVFloat(b, float64(x.Rating))
		b = append(b, ',')
		b = experiments.AppendCSVFloat(b, float64(x.CI95[0]))
		b = append(b, ',')
		b = experiments.AppendCSVFloat(b, float64(x.CI95[1]))
		b = append(b, ',')
		b = strconv.AppendFloat(b, x.Games, 'g', -1, 64)
		b = append(b, '\n')
	}
	if err := writeFile(filepath.Join(dir, RatingsCSV), b); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, ResultJSON), doc)
}

func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadResults reads a tournament.json (the --json document).
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, &experiments.Error{File: path, Msg: err.Error()}
	}
	return &r, nil
}
