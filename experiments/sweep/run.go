package sweep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hivegym/hivegym/experiments/store"
	"golang.org/x/sync/errgroup"
)

// RunFunc runs one run of a sweep: it trains, simulates or evaluates run.Config (seeded
// with run.Seed) and records curves and final metrics through rec. It must be safe to
// call from several goroutines at once (each call gets its own run and recorder), and
// its results must depend only on run.Config.
//
// ctx is cancelled when the sweep is interrupted: the function should stop at the end
// of its current unit of work (an iteration, an episode) and either return nil, and the
// run is recorded as done, or return an error (ctx.Err() is fine), and the run is left
// pending for a resumed sweep, with nothing it recorded kept.
type RunFunc func(ctx context.Context, run Run, rec Recorder) error

// Recorder receives a run's results. Nothing reaches the store before the RunFunc
// returns, so an interrupted run leaves nothing behind. Its methods may be called
// concurrently. A misuse (an empty name, a value recorded twice) returns an error and
// also fails the run.
type Recorder interface {
	// Curve records the value of a training curve at an iteration, for a policy group
	// (group "" for a curve of the whole run).
	Curve(iteration int, group, metric string, value float64) error
	// Agent records a final metric of one agent (id such as "p-3"; role such as
	// provider or client).
	Agent(id, role, metric string, value float64) error
	// Group records a final metric of a group of agents (name such as "providers").
	Group(name, role, metric string, value float64) error
}

// Options control Execute.
type Options struct {
	// Workers is the number of runs executed at once; less than 1 means 1.
	Workers int
	// Shard selects the runs to execute; the zero Shard selects all.
	Shard Shard
	// Resume continues a store that already holds runs of this sweep: runs it holds as
	// done, or as failed unless RetryFailed, are skipped; pending and running ones (left
	// by an interrupted or killed sweep) are run again, unless another live process
	// has claimed them (store.Claim): two sweeps resumed on one store share its runs.
	// Without Resume, a store that already holds any of the runs is an error
	// (ErrStoreHasRuns).
	Resume bool
	// RetryFailed, with Resume, runs the failed runs again too.
	RetryFailed bool
	// Owner names this sweep in the store's claims; "" means store.Owner() (host/pid).
	Owner string
	// Started, when set, is called once the store is ready and before any run starts,
	// with the runs of the shard, those skipped and those to run (Pending).
	Started func(Summary)
	// Progress, when set, is called once per run recorded in the store, in index order,
	// never concurrently.
	Progress func(Progress)
}

// Progress reports one recorded run.
type Progress struct {
	Run    Run
	Status store.Status // done or failed
	Error  string       // for failed
	// Finished counts the runs recorded so far by this Execute call, this one included;
	// Total is the number it set out to execute.
	Finished, Total int
}

// Summary counts what Execute did with the runs of its shard.
type Summary struct {
	Runs    int // runs in the shard
	Done    int // finished as done by this call
	Failed  int // finished as failed by this call
	Skipped int // finished before this call (Resume)
	Pending int // not finished: interrupted, or never started
	// Elsewhere counts the runs another live process had claimed (a second sweep on
	// the same store); this call left them to it. They are not in Pending.
	Elsewhere int
}

// ErrStoreHasRuns is returned by Execute without Resume when the store already holds runs
// of the sweep.
var ErrStoreHasRuns = errors.New("the store already holds runs of this sweep")

// ErrStoreMismatch is returned when the store holds a run with the same id but a
// different definition: the sweep file or its base changed since the store was written.
var ErrStoreMismatch = errors.New("the store holds a different run under the same id")

// ErrInvalidCell is returned by Execute, before any run starts or the store is
// written, when a cell of the grid (any shard's) resolves to an invalid config.
var ErrInvalidCell = errors.New("a cell of the grid is not a valid config")

// Execute runs the runs of sw that belong to opts.Shard with fn on opts.Workers
// goroutines and records them in st. A cell whose config is invalid stops the sweep
// before it starts (ErrInvalidCell). A run's failure (an error from fn, a panic) is
// recorded and does not stop the others; Execute's error is for the
// sweep as a whole: a store error, an interruption (ctx's error), or one of
// ErrStoreHasRuns and ErrStoreMismatch. The summary is valid in every case.
func Execute(ctx context.Context, sw *Sweep, st *store.Store, fn RunFunc, opts Options) (Summary, error) {
	if fn == nil {
		return Summary{}, errors.New("sweep: nil RunFunc")
	}
	if opts.Shard.Count < 0 || (opts.Shard.Count > 0 && (opts.Shard.Index < 0 || opts.Shard.Index >= opts.Shard.Count)) {
		return Summary{}, fmt.Errorf("sweep: invalid shard %d/%d", opts.Shard.Index, opts.Shard.Count)
	}
	workers := max(opts.Workers, 1)
	plan := sw.plan(opts.Shard)
	sum := Summary{Runs: len(plan), Pending: len(plan)}
	runs, err := resolveAll(ctx, sw, plan, workers)
	if err != nil {
		return sum, err
	}
	// Every cell of the grid, in every shard, must be a valid config before any run
	// starts: a value out of range is a mistake in the sweep file, not a failed run.
	all := runs
	if opts.Shard.Count > 0 {
		if all, err = resolveAll(ctx, sw, sw.plan(Shard{}), workers); err != nil {
			return sum, err
		}
	}
	var bad []string
	for _, r := range all {
		if r.Err != nil {
			bad = append(bad, fmt.Sprintf("run %s: %v", r.Name, r.Err))
		}
	}
	if len(bad) > 0 {
		more := ""
		if len(bad) > 3 {
			more = fmt.Sprintf(" (and %d more)", len(bad)-3)
			bad = bad[:3]
		}
		return sum, fmt.Errorf("%w: %s%s", ErrInvalidCell, strings.Join(bad, "; "), more)
	}

	existing, err := st.List(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return sum, ctx.Err()
		}
		return sum, err
	}
	have := make(map[string]store.Run, len(existing))
	for _, r := range existing {
		have[r.ID] = r
	}
	var todo []Run
	var add []store.Run
	held := 0
	for _, r := range runs {
		rec := storeRun(r, opts.Shard)
		old, ok := have[r.ID]
		if !ok {
			add = append(add, rec)
			todo = append(todo, r)
			continue
		}
		held++
		if d := definitionDiff(old, rec); d != "" {
			return sum, fmt.Errorf("%w: run %s (%s) in %s: %s differ; the sweep file or its base changed since the store was written; use another output directory",
				ErrStoreMismatch, r.ID, r.Name, st.Path(), d)
		}
		if old.Status == store.StatusDone || (old.Status == store.StatusFailed && !opts.RetryFailed) {
			sum.Skipped++
			sum.Pending--
			continue
		}
		todo = append(todo, r)
	}
	if held > 0 && !opts.Resume {
		shard := ""
		if opts.Shard.Count > 0 {
			shard = " in shard " + opts.Shard.String()
		}
		return sum, fmt.Errorf("%w: %s has %d of its %d runs%s; resume the sweep (--resume) or use another output directory",
			ErrStoreHasRuns, st.Path(), held, len(runs), shard)
	}
	if err := st.Add(ctx, add...); err != nil {
		if ctx.Err() != nil {
			return sum, ctx.Err()
		}
		return sum, err
	}
	if opts.Started != nil {
		opts.Started(sum)
	}

	// The store is written with a context that an interruption does not cancel, so that
	// what finished is recorded.
	wctx := context.WithoutCancel(ctx)
	runCtx, cancelRuns := context.WithCancel(ctx)
	defer cancelRuns()
	c := &committer{ctx: wctx, st: st, todo: todo, results: make([]*result, len(todo)), progress: opts.Progress, sum: &sum}

	owner := cmp.Or(opts.Owner, store.Owner())
	var g errgroup.Group
	g.SetLimit(workers)
	for p, r := range todo {
		if runCtx.Err() != nil {
			break
		}
		g.Go(func() error {
			if runCtx.Err() != nil {
				return nil
			}
			var res *result
			if r.Err != nil {
				res = &result{status: store.StatusFailed, err: r.Err.Error()}
			} else {
				ok, err := st.Claim(wctx, r.ID, owner, store.Alive)
				if err != nil {
					cancelRuns()
					return err
				}
				if ok {
					res = runOne(runCtx, fn, r)
				} else {
					res = &result{elsewhere: true}
				}
			}
			if err := c.put(p, res); err != nil {
				cancelRuns()
				return err
			}
			return nil
		})
	}
	werr := g.Wait()
	if err := c.flush(); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return sum, werr
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	return sum, nil
}

// resolveAll resolves the configs of the planned runs on the workers (a strict decode
// and validation each), stopping early when ctx is cancelled.
func resolveAll(ctx context.Context, sw *Sweep, plan []planned, workers int) ([]Run, error) {
	runs := make([]Run, len(plan))
	var g errgroup.Group
	g.SetLimit(workers)
	for i, p := range plan {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			runs[i] = sw.resolve(p)
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return runs, nil
}

func storeRun(r Run, shard Shard) store.Run {
	return store.Run{ID: r.ID, Sweep: r.Sweep, Index: r.Index, Name: r.Name, Params: r.Params,
		Config: r.ConfigYAML, Seed: r.Seed, Status: store.StatusPending, Shard: shard.String()}
}

func definitionDiff(a, b store.Run) string {
	var d []string
	if a.Sweep != b.Sweep || a.Index != b.Index || a.Name != b.Name {
		d = append(d, "sweep, index or name")
	}
	if a.Params != b.Params || a.Seed != b.Seed {
		d = append(d, "params or seed")
	}
	if a.Config != b.Config {
		d = append(d, "configs")
	}
	if len(d) == 0 {
		return ""
	}
	return strings.Join(d, ", ")
}

// result is a run's outcome before it is written.
type result struct {
	status      store.Status // done, failed, or pending (interrupted)
	err         string
	interrupted bool
	elsewhere   bool // claimed by another process: not run here
	res         store.Result
}

// runOne calls fn and turns its outcome into a result: a panic or an error is a failure,
// unless the sweep was interrupted, in which case the run goes back to pending.
func runOne(ctx context.Context, fn RunFunc, r Run) (res *result) {
	rec := &recorder{}
	defer func() {
		if p := recover(); p != nil {
			res = &result{status: store.StatusFailed, err: fmt.Sprintf("panic: %v", p)}
		}
	}()
	err := fn(ctx, r, rec)
	switch {
	case err != nil && ctx.Err() != nil:
		return &result{status: store.StatusPending, interrupted: true}
	case err != nil:
		return &result{status: store.StatusFailed, err: err.Error()}
	}
	if rerr := rec.error(); rerr != nil {
		return &result{status: store.StatusFailed, err: "recording results: " + rerr.Error()}
	}
	return &result{status: store.StatusDone, res: store.Result{Status: store.StatusDone, Curves: rec.curves, Metrics: rec.metrics}}
}

// committer writes results in the order of todo, whatever the order they arrive in.
type committer struct {
	ctx      context.Context
	st       *store.Store
	todo     []Run
	progress func(Progress)
	sum      *Summary

	mu       sync.Mutex
	results  []*result
	next     int
	finished int
}

func (c *committer) put(p int, r *result) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results[p] = r
	for c.next < len(c.results) && c.results[c.next] != nil {
		if err := c.write(c.next); err != nil {
			return err
		}
		c.next++
	}
	return nil
}

// flush writes the results that wait behind a run that never finished (interrupted).
func (c *committer) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ; c.next < len(c.results); c.next++ {
		if c.results[c.next] == nil {
			continue
		}
		if err := c.write(c.next); err != nil {
			return err
		}
	}
	return nil
}

func (c *committer) write(p int) error {
	r, run := c.results[p], c.todo[p]
	if r.elsewhere {
		c.sum.Pending--
		c.sum.Elsewhere++
		return nil
	}
	if r.interrupted {
		return c.st.SetStatus(c.ctx, run.ID, store.StatusPending, "")
	}
	res := r.res
	if r.status == store.StatusFailed {
		res = store.Result{Status: store.StatusFailed, Error: r.err}
	}
	if err := c.st.Finish(c.ctx, run.ID, res); err != nil {
		return err
	}
	c.sum.Pending--
	if r.status == store.StatusDone {
		c.sum.Done++
	} else {
		c.sum.Failed++
	}
	c.finished++
	if c.progress != nil {
		c.progress(Progress{Run: run, Status: r.status, Error: r.err, Finished: c.finished, Total: len(c.todo)})
	}
	return nil
}

// recorder buffers a run's results in memory.
type recorder struct {
	mu      sync.Mutex
	curves  []store.CurvePoint
	metrics []store.Metric
	seenC   map[curveKey]bool
	seenM   map[metricKey]bool
	err     error
}

type curveKey struct {
	group, metric string
	it            int
}

type metricKey struct {
	scope     store.Scope
	key, name string
}

func (r *recorder) fail(err error) error {
	if r.err == nil {
		r.err = err
	}
	return err
}

func (r *recorder) error() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *recorder) Curve(iteration int, group, metric string, value float64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := curveKey{group, metric, iteration}
	switch {
	case metric == "":
		return r.fail(fmt.Errorf("curve point at iteration %d with an empty metric name", iteration))
	case r.seenC[k]:
		return r.fail(fmt.Errorf("curve %q of group %q recorded twice at iteration %d", metric, group, iteration))
	}
	if r.seenC == nil {
		r.seenC = map[curveKey]bool{}
	}
	r.seenC[k] = true
	r.curves = append(r.curves, store.CurvePoint{Iteration: iteration, Group: group, Metric: metric, Value: value})
	return nil
}

func (r *recorder) Agent(id, role, metric string, value float64) error {
	return r.metric(store.ScopeAgent, id, role, metric, value)
}

func (r *recorder) Group(name, role, metric string, value float64) error {
	return r.metric(store.ScopeGroup, name, role, metric, value)
}

func (r *recorder) metric(scope store.Scope, key, role, name string, value float64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := metricKey{scope, key, name}
	switch {
	case key == "" || name == "":
		return r.fail(fmt.Errorf("%s metric %q of %q: empty %s name or metric name", scope, name, key, scope))
	case r.seenM[k]:
		return r.fail(fmt.Errorf("%s %q: metric %q recorded twice", scope, key, name))
	}
	if r.seenM == nil {
		r.seenM = map[metricKey]bool{}
	}
	r.seenM[k] = true
	r.metrics = append(r.metrics, store.Metric{Scope: scope, Key: key, Role: role, Name: name, Value: value})
	return nil
}
