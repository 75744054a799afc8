package report

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"html"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// keep, when set (go test -args -report.out DIR), writes the full fixture report to
// DIR to look at.
var keep = flag.String("report.out", "", "directory to keep the full fixture report in")

var allSections = []string{"overview", "metrics", "learning", "equity", "distributions", "market", "series", "threads", "sweep"}

var imgSrc = regexp.MustCompile(`<img src="([^"]+)"`)

// sectionsOf returns the section ids of a report, in order.
func sectionsOf(page string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<section id="([a-z]+)">`).FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// checkImages checks that every <img> of the page is a PNG file under out, and that
// the figures of res are exactly these.
func checkImages(t *testing.T, out, page string, res Result) {
	t.Helper()
	var srcs []string
	for _, m := range imgSrc.FindAllStringSubmatch(page, -1) {
		src := html.UnescapeString(m[1])
		srcs = append(srcs, src)
		if filepath.IsAbs(src) || strings.Contains(src, "..") || strings.Contains(src, "://") {
			t.Errorf("image link %q is not relative to the report", src)
			continue
		}
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(src)))
		if err != nil {
			t.Errorf("image %s: %v", src, err)
			continue
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("image %s is not a PNG: %v", src, err)
		}
	}
	if len(srcs) != len(res.Figures) {
		t.Errorf("page has %d images, result lists %d figures", len(srcs), len(res.Figures))
	}
	for i := range min(len(srcs), len(res.Figures)) {
		if want := filepath.Join(out, filepath.FromSlash(srcs[i])); res.Figures[i] != want {
			t.Errorf("figure %d = %s, want %s", i, res.Figures[i], want)
		}
	}
}

func generate(t *testing.T, dirs []string, out string, opts Options) (string, Result) {
	t.Helper()
	res, err := Generate(context.Background(), dirs, out, opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if res.Report != filepath.Join(out, "report.html") {
		t.Errorf("report path %s", res.Report)
	}
	b, err := os.ReadFile(res.Report)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), res
}

// TestFullReport: a run directory with every file gives every section but the sweep,
// in order, each figure a PNG file that exists, and no external reference.
func TestFullReport(t *testing.T) {
	dir := t.TempDir()
	run := writeFixture(t, dir, defaultFixture("eval-7", 7))
	out := filepath.Join(dir, "out")
	if *keep != "" {
		out = *keep
	}
	page, res := generate(t, []string{run}, out, Options{})
	got := strings.Join(sectionsOf(page), ",")
	want := strings.Join(allSections[:8], ",")
	if got != want {
		t.Errorf("sections %s, want %s", got, want)
	}
	checkImages(t, out, page, res)
	if n := len(res.Figures); n != 10 {
		t.Errorf("%d figures, want 10 (return, diagnostics, equity, boxes, market, events, 3 series, threads): %v", n, res.Figures)
	}
	for _, bad := range []string{"<script", "http://", "https://", "src=\"/"} {
		if strings.Contains(page, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
	// The header shows the config summary and the groups.
	for _, frag := range []string{"gas-spike", "alternating-offers", "4 providers, 8 clients", "providers-ppo", "clients-scripted",
		"episodes 71, 72, 73", "config.yaml of eval-7"} {
		if !strings.Contains(page, frag) {
			t.Errorf("report lacks %q", frag)
		}
	}
	// Every figure has a caption naming the file it comes from.
	for _, f := range []string{"curves.csv", "equity.csv", "episodes.csv", "market.csv", "series.csv", "threads.jsonl"} {
		if !strings.Contains(page, f) {
			t.Errorf("no caption names %s", f)
		}
	}
}

// TestSectionsFollowFiles: each section appears exactly when its file is there.
func TestSectionsFollowFiles(t *testing.T) {
	cases := []struct {
		omit []string
		want []string
	}{
		{omit: []string{fileCurves}, want: []string{"overview", "metrics", "equity", "distributions", "market", "series", "threads"}},
		{omit: []string{fileEquity, fileMarket, fileSeries, fileThreads, fileCurves}, want: []string{"overview", "metrics", "distributions"}},
		// Without metrics.json the table is computed from episodes.csv.
		{omit: []string{fileMetrics, fileEquity, fileMarket, fileSeries, fileThreads, fileCurves}, want: []string{"overview", "metrics", "distributions"}},
		{omit: []string{fileMetrics, fileEpisodes, fileEquity, fileMarket, fileSeries, fileCurves}, want: []string{"overview", "threads"}},
		{omit: []string{fileMetrics, fileEpisodes, fileEquity, fileMarket, fileSeries, fileThreads, fileCurves, fileRun, fileConfig}, want: []string{"overview"}},
		{omit: []string{fileMetrics, fileEpisodes, fileEquity, fileMarket, fileThreads, fileCurves}, want: []string{"overview", "series"}},
		{omit: []string{fileMetrics, fileEpisodes, fileEquity, fileSeries, fileThreads, fileCurves}, want: []string{"overview", "market"}},
	}
	for i, c := range cases {
		dir := t.TempDir()
		f := defaultFixture("run", 3)
		f.omit = map[string]bool{}
		for _, o := range c.omit {
			f.omit[o] = true
		}
		f.iters = 5 // a few iterations: no smoothing
		run := writeFixture(t, dir, f)
		out := filepath.Join(dir, "out")
		page, res := generate(t, []string{run}, out, Options{})
		if got := strings.Join(sectionsOf(page), ","); got != strings.Join(c.want, ",") {
			t.Errorf("case %d (without %v): sections %s, want %s", i, c.omit, got, strings.Join(c.want, ","))
		}
		checkImages(t, out, page, res)
	}
}

// TestDeterministic: the same inputs give byte-identical report.html and PNGs, in
// two output directories and when written again over the first.
func TestDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("draws the full report three times")
	}
	dir := t.TempDir()
	a := writeFixture(t, dir, defaultFixture("a", 1))
	f := defaultFixture("b", 2)
	f.skill = 2
	b := writeFixture(t, dir, f)
	dirs := []string{a, b}
	out1, out2 := filepath.Join(dir, "out1"), filepath.Join(dir, "out2")
	_, r1 := generate(t, dirs, out1, Options{})
	_, r2 := generate(t, dirs, out2, Options{})
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := map[string][]byte{"report.html": read(r1.Report)}
	for _, f := range r1.Figures {
		rel, _ := filepath.Rel(out1, f)
		first[rel] = read(f)
	}
	if len(r2.Figures) != len(r1.Figures) {
		t.Fatalf("%d figures, then %d", len(r1.Figures), len(r2.Figures))
	}
	check := func(out string, res Result) {
		if !bytes.Equal(read(res.Report), first["report.html"]) {
			t.Errorf("%s: report.html differs", out)
		}
		for _, f := range res.Figures {
			rel, _ := filepath.Rel(out, f)
			if !bytes.Equal(read(f), first[rel]) {
				t.Errorf("%s: %s differs", out, rel)
			}
		}
	}
	check(out2, r2)
	_, r3 := generate(t, dirs, out1, Options{})
	check(out1, r3)
}

// TestMalformed: a malformed file is an *experiments.Error naming the file and line.
func TestMalformed(t *testing.T) {
	cases := []struct {
		file, content string
		line          int
		msg           string
	}{
		{fileEpisodes, "seed,group,metric,value\n1,a,sharpe,1.5\n2,a,sharpe,1.7\n3,a,sharpe,abc\n", 4, `not a number: "abc"`},
		{fileEpisodes, "seed,group,value\n1,a,1.5\n", 1, `missing column "metric"`},
		{fileCurves, "iteration,group,metric,value\n0,a,charts/episodic_return,1\n-1,a,charts/episodic_return,2\n", 3, "non-negative integer"},
		{fileCurves, "iteration,group,metric,value\n0,a,x,1\n1,a,x\n", 3, "wrong number of fields"},
		{fileEquity, "seed,tick,group,wealth\n1,0,a,1\n1,1,,1.01\n", 3, "empty group"},
		{fileMarket, "seed,tick,deals,requests\n1,0,2,3\n1,x,2,3\n", 3, `column "tick"`},
		{fileMarket, "seed,tick,foo\n1,0,2\n", 1, "no statistics column"},
		{fileSeries, "time,eth_usd\n2024-01-01T00:00:00Z,2300\nyesterday,2301\n", 3, "RFC 3339"},
		{fileThreads, `{"thread":"t-1","offers":[]}` + "\n" + `{"thread":"t-2","offers":[{"round":0,"from":"seller","price_per_hour_usd":1}]}` + "\n", 2, `"client" or "provider"`},
		{fileThreads, `{"thread":"t-1","offers":[]}` + "\n\n" + `{"thread": "t-2", "offers": [` + "\n", 3, "JSON"},
		{fileMetrics, "{\n  \"groups\": [\n    {\"name\": \"a\", \"metrics\": {\"sharpe\": {\"mean\": x}}}\n  ]\n}\n", 3, "invalid JSON"},
		{fileMetrics, "{\n  \"groups\": [\n    {\"name\": \"a\",\n     \"metrics\": {\"sharpe\": {\"mean\": \"high\"}}}\n  ]\n}\n", 4, "not a number"},
		{fileRun, "{\n  \"kind\": \"eval\",\n  \"seed\": \"seven\"\n}\n", 3, "seed"},
		{fileConfig, "seed: 1\nworld:\n  tick: 5m\n   start: x\n", 4, "invalid YAML"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, c.file), []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Generate(context.Background(), []string{dir}, filepath.Join(dir, "out"), Options{})
		var e *experiments.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v (%T), want *experiments.Error", c.file, err, err)
			continue
		}
		if e.File != filepath.Join(dir, c.file) || e.Line != c.line || !strings.Contains(e.Error(), c.msg) {
			t.Errorf("%s: got %q (file %s, line %d), want line %d and %q", c.file, e.Error(), e.File, e.Line, c.line, c.msg)
		}
		if _, err := os.Stat(filepath.Join(dir, "out", "report.html")); err == nil {
			t.Errorf("%s: a report was written despite the error", c.file)
		}
	}
}

func TestBadArguments(t *testing.T) {
	dir := t.TempDir()
	_, err := Generate(context.Background(), []string{filepath.Join(dir, "nope")}, filepath.Join(dir, "out"), Options{})
	var e *experiments.Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), "no such run directory") {
		t.Errorf("missing dir: %v", err)
	}
	p := filepath.Join(dir, "file")
	os.WriteFile(p, []byte("x"), 0o644)
	if _, err := Generate(context.Background(), []string{p}, filepath.Join(dir, "out"), Options{}); !errors.As(err, &e) {
		t.Errorf("file as dir: %v", err)
	}
	if _, err := Generate(context.Background(), nil, filepath.Join(dir, "out"), Options{}); err == nil {
		t.Errorf("no dirs: no error")
	}
	if _, err := Generate(context.Background(), []string{dir}, filepath.Join(dir, "out"), Options{Store: filepath.Join(dir, "missing.db")}); !errors.As(err, &e) {
		t.Errorf("missing store: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	run := writeFixture(t, dir, defaultFixture("r", 1))
	if _, err := Generate(ctx, []string{run}, filepath.Join(dir, "out"), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// cellsOf returns the text of the cells of the table whose caption contains capFrag.
func cellsOf(t *testing.T, page, capFrag string) [][]string {
	t.Helper()
	i := strings.Index(page, capFrag)
	if i < 0 {
		t.Fatalf("no table with caption %q", capFrag)
	}
	end := strings.Index(page[i:], "</table>")
	tb := page[i : i+end]
	var rows [][]string
	for _, tr := range regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(tb, -1) {
		var row []string
		for _, td := range regexp.MustCompile(`<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(tr[1], -1) {
			row = append(row, html.UnescapeString(td[1]))
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	return rows
}

// TestMetricsTables: the per-run table shows metrics.json; the pooled table computes
// the 95% interval over the episodes of both runs. Hand-made episodes: group a's
// Sharpe over the two runs is 1, 2, 3 and 4, 5, 9: mean 4, s^2 = (9+4+1+0+1+25)/5 = 8,
// half-width t(0.975, 5) * sqrt(8/6) = 2.5706 * 1.1547 = 2.9682.
func TestMetricsTables(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, eps, metrics string) string {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, fileEpisodes), []byte(eps), 0o644)
		if metrics != "" {
			os.WriteFile(filepath.Join(d, fileMetrics), []byte(metrics), 0o644)
		}
		os.WriteFile(filepath.Join(d, fileRun), []byte(`{"kind":"eval","name":"`+name+`","seed":1,"status":"done","groups":[{"name":"a","role":"provider","kind":"ppo","agents":2}]}`), 0o644)
		return d
	}
	r1 := mk("r1", "seed,group,metric,value\n1,a,sharpe,1\n2,a,sharpe,2\n3,a,sharpe,3\n",
		`{"groups":[{"name":"a","role":"provider","kind":"ppo","metrics":{"sharpe":{"mean":2,"ci95":[-0.484,4.484]},"sortino":{"mean":"NaN","ci95":["NaN","NaN"]}}}]}`)
	r2 := mk("r2", "seed,group,metric,value\n4,a,sharpe,4\n5,a,sharpe,5\n6,a,sharpe,9\n", "")
	page, _ := generate(t, []string{r1, r2}, filepath.Join(dir, "out"), Options{})
	rows := cellsOf(t, page, "r1: metrics.json")
	if len(rows) != 1 || strings.Join(rows[0], "|") != "a|provider|3|2 [-0.484, 4.484]|NaN" {
		t.Errorf("r1 table %q", rows)
	}
	rows = cellsOf(t, page, "r2: computed from episodes.csv")
	// 4, 5, 9: mean 6, s^2 = (4+1+9)/2 = 7, half-width t(0.975, 2) * sqrt(7/3) =
	// 4.302653 * 1.527525 = 6.57241.
	if len(rows) != 1 || strings.Join(rows[0], "|") != "a|provider|3|6 [-0.5724, 12.57]" {
		t.Errorf("r2 table %q", rows)
	}
	rows = cellsOf(t, page, "All 2 runs pooled")
	if len(rows) != 1 || strings.Join(rows[0], "|") != "a|provider|6|4 [1.032, 6.968]" {
		t.Errorf("pooled table %q", rows)
	}
}

// TestSweepFromDirs: a 2 x 2 grid x 3 seeds as run directories with params gives
// the sweep section: one figure per parameter and a table whose intervals are
// checked by hand.
func TestSweepFromDirs(t *testing.T) {
	dir := t.TempDir()
	var dirs []string
	for _, eta := range []float64{0.001, 0.1} {
		for _, scen := range []string{"baseline", "gas-spike"} {
			for s := uint64(1); s <= 3; s++ {
				name := filepath.Join("sweep", strings.ReplaceAll(scen+"-"+ff(eta)+"-"+ff(float64(s)), ".", "_"))
				d := filepath.Join(dir, name)
				os.MkdirAll(d, 0o755)
				run := `{"kind":"eval","name":"` + filepath.Base(name) + `","seed":` + ff(float64(s)) + `,"status":"done","sweep":"grid",` +
					`"params":{"metrics.eta":` + ff(eta) + `,"world.scenario.name":"` + scen + `"},` +
					`"groups":[{"name":"providers","role":"provider","kind":"ppo","agents":2},{"name":"clients","role":"client","kind":"scripted","agents":2}]}`
				// Sharpe of providers: 1, 2, 6 for (0.001, baseline), shifted by 10 for eta 0.1
				// and by 100 for gas-spike.
				base := []float64{1, 2, 6}[s-1]
				if eta == 0.1 {
					base += 10
				}
				if scen == "gas-spike" {
					base += 100
				}
				metrics := `{"groups":[{"name":"providers","role":"provider","kind":"ppo","metrics":{"sharpe":{"mean":` + ff(base) +
					`},"cumulative_return":{"mean":0.01}}},{"name":"clients","role":"client","kind":"scripted","metrics":{"sharpe":{"mean":0.5}}}]}`
				os.WriteFile(filepath.Join(d, fileRun), []byte(run), 0o644)
				os.WriteFile(filepath.Join(d, fileMetrics), []byte(metrics), 0o644)
				dirs = append(dirs, d)
			}
		}
	}
	out := filepath.Join(dir, "out")
	page, res := generate(t, dirs, out, Options{})
	ids := sectionsOf(page)
	if len(ids) == 0 || ids[len(ids)-1] != "sweep" {
		t.Fatalf("sections %v, want the sweep last", ids)
	}
	checkImages(t, out, page, res)
	var sweepFigs []string
	for _, f := range res.Figures {
		if strings.Contains(f, "sweep-") {
			sweepFigs = append(sweepFigs, filepath.Base(f))
		}
	}
	sort.Strings(sweepFigs)
	if strings.Join(sweepFigs, ",") != "sweep-grid-metrics-eta.png,sweep-grid-world-scenario-name.png" {
		t.Errorf("sweep figures %v", sweepFigs)
	}
	rows := cellsOf(t, page, "Sweep grid, group providers (provider)")
	if len(rows) != 4 {
		t.Fatalf("providers' sweep table has %d rows, want 4 combinations: %q", len(rows), rows)
	}
	// Providers at (0.001, baseline): Sharpe 1, 2, 6 -> 3 ± 4.302653*sqrt(7/3) = 3 ± 6.57241.
	if got := strings.Join(rows[0], "|"); got != "0.001|baseline|3|0.01 [0.01, 0.01]|3 [-3.572, 9.572]" {
		t.Errorf("first row %q", got)
	}
	// (0.1, gas-spike): 111, 112, 116 -> 113 ± 6.57241.
	if got := strings.Join(rows[3], "|"); got != "0.1|gas-spike|3|0.01 [0.01, 0.01]|113 [106.4, 119.6]" {
		t.Errorf("last row %q", got)
	}
	rows = cellsOf(t, page, "Sweep grid, group clients (client)")
	if len(rows) != 4 || strings.Join(rows[1], "|") != "0.001|gas-spike|3|0.5 [0.5, 0.5]" {
		t.Errorf("clients' sweep table %q", rows)
	}
	// cumulative_return is 0.01 in every run: in the table, not in the figures.
	if !strings.Contains(page, "Left out, as they have one value across the sweep: cumulative_return.") {
		t.Errorf("constant metric not reported as left out")
	}
}

// TestSweepHelpers checks the axis of a swept parameter and the samples it selects.
func TestSweepHelpers(t *testing.T) {
	s := &SweepResults{Params: []string{"eta", "scenario"}, Rows: []SweepRow{
		{Values: []string{"0.1", "b"}, Status: "done", Metrics: []SweepMetric{{Group: "g", Metric: "sharpe", Value: 1}}},
		{Values: []string{"0.001", "a"}, Status: "done", Metrics: []SweepMetric{{Group: "g", Metric: "sharpe", Value: 2}}},
		{Values: []string{"0.01", "b"}, Status: "failed", Error: "boom"},
		{Values: []string{"0.1", "a"}, Status: "done", Metrics: []SweepMetric{{Group: "g", Metric: "sharpe", Value: 5}}},
	}}
	ax := axisOf(s, 0)
	if !ax.Numeric || strings.Join(ax.Values, ",") != "0.001,0.01,0.1" || !ax.LogX {
		t.Errorf("eta axis %+v", ax)
	}
	ax = axisOf(s, 1)
	if ax.Numeric || strings.Join(ax.Values, ",") != "b,a" {
		t.Errorf("scenario axis %+v", ax)
	}
	if got := sweepSamples(s, 0, "0.1", "g", "sharpe", nil); len(got) != 2 || got[0] != 1 || got[1] != 5 {
		t.Errorf("samples at eta=0.1: %v", got)
	}
	if got := sweepSamples(s, 0, "0.01", "g", "sharpe", nil); len(got) != 0 {
		t.Errorf("failed run sampled: %v", got)
	}
	bad := &SweepResults{Params: []string{"a"}, Rows: []SweepRow{{Values: nil}}}
	if bad.validate() == nil {
		t.Errorf("row without values: no error")
	}
}

func TestNumberFormat(t *testing.T) {
	cases := map[float64]string{0: "0", 1: "1", 1.23456: "1.235", -3.57274: "-3.573", 12.5727: "12.57", 1234.56: "1235",
		0.0123456: "0.01235", 2e-5: "2e-05", 3.2e7: "3.2e+07", 0.5: "0.5"}
	for x, want := range cases {
		if got := num(x); got != want {
			t.Errorf("num(%g) = %q, want %q", x, got, want)
		}
	}
}
