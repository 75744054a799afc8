package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/scoreboard"
	"github.com/hivegym/hivegym/experiments/tournament"
)

// Options tunes a report. The zero value is a good default.
type Options struct {
	// Store is the path of a run store (runs.db, or the directory that holds it) whose
	// sweeps the sweep section shows. A run directory argument that holds a runs.db and
	// no run.json (a sweep's output directory) stands for its store when Store is empty.
	Store string
	// Sweeps, when not nil, are shown in the sweep section in place of those of Store
	// and of the run directories: for a caller with its own source of sweep results.
	Sweeps []SweepResults
	// Title of the report; default "hivegym report" and the runs' names.
	Title string
	// Smooth is the window, in iterations, of the centred moving average drawn over
	// learning curves: 0 picks about a tenth of the iterations (no smoothing below
	// 30), 1 turns smoothing off.
	Smooth int
	// Threads is the number of sample negotiation threads drawn (default 6).
	Threads int
}

// Result says what a report wrote.
type Result struct {
	// Report is the path of report.html.
	Report string
	// Figures are the paths of the PNG images, in the order the report shows them.
	Figures []string
}

// Write reads the run directories dirs (and the sweeps of opts.Store) and writes
// out/report.html with its figures in out/img/, creating out if needed. It is
// Generate without the list of what was written.
func Write(ctx context.Context, dirs []string, out string, opts Options) error {
	_, err := Generate(ctx, dirs, out, opts)
	return err
}

// Generate reads the run directories dirs (and the sweeps of opts.Store) and writes
// out/report.html with its figures in out/img/*.png, linked by relative paths so that
// the directory opens offline. A file that a run directory does not have leaves its
// section out; a malformed one is an *experiments.Error naming the file and line.
// The same inputs give byte-identical files.
func Generate(ctx context.Context, dirs []string, out string, opts Options) (Result, error) {
	if out == "" {
		return Result{}, errors.New("report: no output directory")
	}
	dirs, storePath, boardPaths, tourPaths, err := expandDirs(dirs)
	if err != nil {
		return Result{}, err
	}
	if opts.Store == "" {
		opts.Store = storePath
	}
	var boards []*scoreboard.Doc
	for _, p := range boardPaths {
		d, err := scoreboard.ReadDoc(p)
		if err != nil {
			return Result{}, &experiments.Error{File: p, Msg: err.Error()}
		}
		boards = append(boards, d)
	}
	var tours []*tournament.Results
	for _, p := range tourPaths {
		r, err := tournament.ReadResults(p)
		if err != nil {
			var ee *experiments.Error
			if errors.As(err, &ee) {
				return Result{}, err
			}
			return Result{}, &experiments.Error{File: p, Msg: err.Error()}
		}
		tours = append(tours, r)
	}
	if len(dirs) == 0 && opts.Store == "" && opts.Sweeps == nil && len(boards) == 0 && len(tours) == 0 {
		return Result{}, errors.New("report: no run directories")
	}
	var runs []*runDir
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		r, err := loadRun(d)
		if err != nil {
			return Result{}, err
		}
		runs = append(runs, r)
	}
	labelRuns(runs)
	sweeps := opts.Sweeps
	if sweeps == nil && opts.Store != "" {
		if sweeps, err = readStore(ctx, opts.Store); err != nil {
			return Result{}, err
		}
	}
	if sweeps == nil {
		sweeps = sweepFromDirs(runs)
	}
	for i := range sweeps {
		if err := sweeps[i].validate(); err != nil {
			return Result{}, err
		}
	}
	// The report is built in a staging directory inside out and moved into place at
	// the end, so that an interrupted or failed report leaves out as it was (a previous
	// report whole, or none) instead of figures without report.html.
	stage, err := makeStage(out)
	if err != nil {
		// An output directory that cannot be made is a bad --out (exit 2), not a failure.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Result{}, &experiments.Error{File: out, Msg: "cannot create the report directory: " + err.Error()}
	}
	defer os.RemoveAll(stage)
	b := newBuilder(ctx, stage, opts, runs)
	b.boards, b.tours = boards, tours
	pg, err := b.build(sweeps)
	if err != nil {
		return Result{}, err
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, pg); err != nil {
		return Result{}, fmt.Errorf("report: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if err := writeAtomic(filepath.Join(stage, "report.html"), buf.Bytes()); err != nil {
		return Result{}, fmt.Errorf("report: %w", err)
	}
	path := filepath.Join(out, "report.html")
	if err := publish(stage, out); err != nil {
		return Result{}, fmt.Errorf("report: %w", err)
	}
	res := Result{Report: path}
	for _, f := range b.figs {
		res.Figures = append(res.Figures, filepath.Join(out, filepath.FromSlash(f)))
	}
	return res, nil
}

// expandDirs checks that every argument is a directory. One with no run.json but a
// scoreboard.json is a scoreboard's output directory, and one with a tournament.json a
// tournament's: their documents are returned (the scoreboard and tournament sections
// show them; their stores are not reported as sweeps). One with no run.json but a
// runs.db is a sweep's output directory: it is dropped from the run directories and its
// store returned (the first such one), so that its sweeps are reported. Its runs are not
// pooled into the other sections: they differ in their swept values.
func expandDirs(dirs []string) (out []string, store string, boards, tours []string, err error) {
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, "", nil, nil, &experiments.Error{File: d, Msg: "no such run directory"}
		}
		if !fi.IsDir() {
			return nil, "", nil, nil, &experiments.Error{File: d, Msg: "not a directory (want a run directory)"}
		}
		if !exists(filepath.Join(d, fileRun)) && exists(filepath.Join(d, fileScoreboard)) {
			boards = append(boards, filepath.Join(d, fileScoreboard))
			continue
		}
		if !exists(filepath.Join(d, fileRun)) && exists(filepath.Join(d, fileTournament)) {
			tours = append(tours, filepath.Join(d, fileTournament))
			continue
		}
		if exists(filepath.Join(d, fileRun)) || !exists(filepath.Join(d, fileStore)) {
			out = append(out, d)
			continue
		}
		if store == "" {
			store = filepath.Join(d, fileStore)
		}
	}
	return out, store, boards, tours, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// runDir is everything the report read from one run directory; nil or empty fields
// are files the directory does not have.
type runDir struct {
	Dir      string
	Label    string
	Info     *runInfo
	Config   *configSummary
	Metrics  *metricsDoc
	Curves   []sample
	Episodes []sample
	Equity   []equityRow
	Market   []marketRow
	Series   *seriesTable
	Threads  []thread
	Actions  []actionRow
}

func loadRun(dir string) (*runDir, error) {
	r := &runDir{Dir: dir}
	steps := []struct {
		name  string
		parse func(file string, b []byte) error
	}{
		{fileRun, func(f string, b []byte) (err error) { r.Info, err = parseRun(f, b); return }},
		{fileConfig, func(f string, b []byte) (err error) { r.Config, err = parseConfig(f, b); return }},
		{fileMetrics, func(f string, b []byte) (err error) { r.Metrics, err = parseMetrics(f, b); return }},
		{fileCurves, func(f string, b []byte) (err error) { r.Curves, err = parseSamples(f, b, "iteration"); return }},
		{fileEpisodes, func(f string, b []byte) (err error) { r.Episodes, err = parseSamples(f, b, "seed"); return }},
		{fileEquity, func(f string, b []byte) (err error) { r.Equity, err = parseEquity(f, b); return }},
		{fileMarket, func(f string, b []byte) (err error) { r.Market, err = parseMarket(f, b); return }},
		{fileSeries, func(f string, b []byte) (err error) { r.Series, err = parseSeries(f, b); return }},
		{fileThreads, func(f string, b []byte) (err error) { r.Threads, err = parseThreads(f, b); return }},
		{fileActions, func(f string, b []byte) (err error) { r.Actions, err = parseActions(f, b); return }},
	}
	for _, s := range steps {
		b, path, err := readOptional(dir, s.name)
		if err != nil {
			return nil, err
		}
		if b == nil {
			continue
		}
		if err := s.parse(path, b); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// labelRuns names each run by its run.json name, or its directory's base name; when
// two runs would share a label, both are labelled by their directory as given.
func labelRuns(runs []*runDir) {
	count := map[string]int{}
	for _, r := range runs {
		r.Label = filepath.Base(filepath.Clean(r.Dir))
		if r.Info != nil && r.Info.Name != "" {
			r.Label = r.Info.Name
		}
		count[r.Label]++
	}
	for _, r := range runs {
		if count[r.Label] > 1 {
			r.Label = filepath.Clean(r.Dir)
		}
	}
}

// writeAtomic writes b to path through a temporary file in the same directory.
// makeStage creates out (if needed) and a fresh staging directory inside it, with its
// img/ subdirectory.
func makeStage(out string) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	stage, err := os.MkdirTemp(out, ".report-staging-*")
	if err != nil {
		return "", err
	}
	if err := os.Mkdir(filepath.Join(stage, "img"), 0o755); err != nil {
		os.RemoveAll(stage)
		return "", err
	}
	return stage, nil
}

// publish moves a finished report from stage into out: the old img/ aside, the new one
// in, then report.html (a rename, atomic), then the old img/ away.
func publish(stage, out string) error {
	img, old := filepath.Join(out, "img"), filepath.Join(stage, "img.old")
	hadImg := exists(img)
	if hadImg {
		if err := os.Rename(img, old); err != nil {
			return err
		}
	}
	if err := os.Rename(filepath.Join(stage, "img"), img); err != nil {
		if hadImg {
			os.Rename(old, img)
		}
		return err
	}
	return os.Rename(filepath.Join(stage, "report.html"), filepath.Join(out, "report.html"))
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.html")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// timeAxis maps ticks to simulated calendar time when the runs' configs agree on
// world.start and world.tick.
type timeAxis struct {
	ok    bool
	start time.Time
	tick  time.Duration
}

func axisFor(runs []*runDir) timeAxis {
	var a timeAxis
	for _, r := range runs {
		if r.Config == nil || r.Config.Tick == 0 || r.Config.Start.IsZero() {
			if len(r.Equity) > 0 || len(r.Market) > 0 {
				return timeAxis{}
			}
			continue
		}
		if !a.ok {
			a = timeAxis{ok: true, start: r.Config.Start, tick: r.Config.Tick}
		} else if !a.start.Equal(r.Config.Start) || a.tick != r.Config.Tick {
			return timeAxis{}
		}
	}
	return a
}

func (a timeAxis) x(tick int64) float64 {
	if !a.ok {
		return float64(tick)
	}
	t := a.start.Add(time.Duration(tick) * a.tick)
	return float64(t.UnixNano()) / 1e9
}

func (a timeAxis) label() string {
	if !a.ok {
		return "tick"
	}
	return "simulated time (UTC)"
}

func (a timeAxis) describe() string {
	if !a.ok {
		return "x axis: tick number"
	}
	return fmt.Sprintf("x axis: simulated time from world.start %s, one tick = %s", a.start.Format(time.RFC3339), a.tick)
}

// order keeps strings in order of first appearance.
type order struct {
	keys []string
	idx  map[string]int
}

func (o *order) add(k string) int {
	if o.idx == nil {
		o.idx = map[string]int{}
	}
	if i, ok := o.idx[k]; ok {
		return i
	}
	o.idx[k] = len(o.keys)
	o.keys = append(o.keys, k)
	return len(o.keys) - 1
}

// fixedMetrics is the order of the metric names of docs/run-dir.md.
var fixedMetrics = []string{"cumulative_return", "sharpe", "sortino", "max_drawdown", "dsr_final"}

// orderMetrics puts the fixed metric names first, in their order, then the others as
// given.
func orderMetrics(ms []string) []string {
	out := make([]string, 0, len(ms))
	has := map[string]bool{}
	for _, m := range ms {
		has[m] = true
	}
	for _, m := range fixedMetrics {
		if has[m] {
			out = append(out, m)
			delete(has, m)
		}
	}
	for _, m := range ms {
		if has[m] {
			out = append(out, m)
			delete(has, m)
		}
	}
	return out
}

// orderCurveMetrics: charts/episodic_return first, then other charts/*, then
// losses/*, then the rest, each part sorted.
func orderCurveMetrics(ms []string) []string {
	rank := func(m string) int {
		switch {
		case m == "charts/episodic_return":
			return 0
		case strings.HasPrefix(m, "charts/"):
			return 1
		case strings.HasPrefix(m, "losses/"):
			return 2
		}
		return 3
	}
	out := append([]string(nil), ms...)
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank(out[i]), rank(out[j]); ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

// metricTitles are the display names of the fixed metrics.
var metricTitles = map[string]string{
	"cumulative_return": "Cumulative return",
	"sharpe":            "Sharpe ratio",
	"sortino":           "Sortino ratio",
	"max_drawdown":      "Maximum drawdown",
	"dsr_final":         "Differential Sharpe ratio (final)",
}

var metricUnits = map[string]string{
	"cumulative_return": "return (fraction of initial wealth)",
	"sharpe":            "Sharpe ratio (annualized)",
	"sortino":           "Sortino ratio (annualized)",
	"max_drawdown":      "max drawdown (fraction, <= 0)",
	"dsr_final":         "moving Sharpe ratio S_T",
}

func metricTitle(m string) string {
	if t, ok := metricTitles[m]; ok {
		return t
	}
	return m
}

func metricUnit(m string) string {
	if t, ok := metricUnits[m]; ok {
		return t
	}
	return m
}
