package report

import (
	"encoding/json"
	"html"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/tournament"
	"github.com/hivegym/hivegym/internal/jsonfloat"
)

func iv(mean, lo, hi float64, n int) experiments.Interval {
	return experiments.Interval{Mean: jsonfloat.Float(mean), CI95: [2]jsonfloat.Float{jsonfloat.Float(lo), jsonfloat.Float(hi)}, N: n}
}

// TestTournamentSection: a tournament's output directory (tournament.json, no run.json)
// gives a tournament section with the ratings as the document has them, a ratings
// figure per role, the payoff heatmaps and the comparison table.
func TestTournamentSection(t *testing.T) {
	r := tournament.Results{Name: "toy", Episodes: 2, Units: 4, Scenarios: []string{"baseline"}, Schemes: []string{"a", "b"},
		Providers: []string{"hi", "lo"}, Clients: []string{"cap"}, RatingMetric: experiments.MetricCumulativeReturn,
		Ratings: []tournament.RatingRow{
			{Role: "provider", Entrant: "hi", Rating: 212.4, CI95: [2]jsonfloat.Float{150, 260}, Games: 8},
			{Role: "provider", Entrant: "lo", Rating: -212.4, CI95: [2]jsonfloat.Float{-260, -150}, Games: 8},
			{Role: "client", Entrant: "cap", Rating: 0, CI95: [2]jsonfloat.Float{0, 0}, Games: 0},
		},
		HeadToHead: []tournament.Cell{
			{Kind: "head-to-head", Entrant: "hi", Opponent: "cap", Side: "provider", Metric: experiments.MetricCumulativeReturn, Value: iv(0.012, 0.01, 0.014, 4)},
			{Kind: "head-to-head", Entrant: "lo", Opponent: "cap", Side: "provider", Metric: experiments.MetricCumulativeReturn, Value: iv(-0.003, -0.004, -0.002, 4)},
			{Kind: "head-to-head", Entrant: "hi", Opponent: "cap", Side: "client", Metric: experiments.MetricCumulativeReturn, Value: iv(0.001, 0, 0.002, 4)},
		},
		Mixed: []tournament.Cell{
			{Kind: "mixed", Role: "provider", Entrant: "hi", Opponent: "cap", Metric: experiments.MetricCumulativeReturn, Value: iv(0.02, 0.01, 0.03, 4)},
			{Kind: "mixed", Role: "provider", Entrant: "lo", Opponent: "cap", Metric: experiments.MetricCumulativeReturn, Value: iv(math.NaN(), math.NaN(), math.NaN(), 0)},
		},
		Compare: []tournament.Cell{
			{Kind: "mixed", Role: "provider", Entrant: "hi-lo", Opponent: "cap", Metric: experiments.MetricCumulativeReturn, Value: iv(0.0151, 0.01, 0.02, 8)},
		},
	}
	dir := filepath.Join(t.TempDir(), "toy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tournament.ResultJSON), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	page, res := generate(t, []string{dir}, out, Options{})
	if ids := sectionsOf(page); !slices.Contains(ids, "tournament") {
		t.Fatalf("sections %v, want a tournament section", ids)
	}
	checkImages(t, out, page, res)
	// Ratings for both roles, the provider and client head-to-head heatmaps, the mixed
	// providers' heatmap (one finite cell): 5 figures.
	if len(res.Figures) != 5 {
		t.Errorf("%d figures, want 5: %v", len(res.Figures), res.Figures)
	}
	for _, frag := range []string{"+212", "[+150, +260]", "-212", "1.51 pp", "[1.00 pp, 2.00 pp]", "tournament-toy-mixed-provider"} {
		if !strings.Contains(html.UnescapeString(page), frag) {
			t.Errorf("report lacks %q", frag)
		}
	}
	// A malformed document names the file.
	if err := os.WriteFile(filepath.Join(dir, tournament.ResultJSON), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(t.Context(), []string{dir}, out, Options{}); err == nil || !strings.Contains(err.Error(), tournament.ResultJSON) {
		t.Errorf("malformed tournament.json: %v", err)
	}
}
