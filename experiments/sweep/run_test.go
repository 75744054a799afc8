package sweep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/internal/rng"
	"golang.org/x/sync/errgroup"
)

// grid2x2x3 is the acceptance sweep: a 2 x 2 grid times 3 seeds.
const grid2x2x3 = `name: accept
grid:
  world.scenario.name: [baseline, gas-spike]
  metrics.eta: [0.01, 0.05]
seeds: [1, 2, 3]
`

// testRun is a cheap RunFunc whose results depend only on the config: four curve points
// and two final metrics drawn from a stream of the seed and scenario, scaled by eta.
func testRun(ctx context.Context, run Run, rec Recorder) error {
	c := run.Config
	r := rng.New(c.Seed, "test/"+c.World.Scenario.Name)
	for it := 0; it < 4; it++ {
		if err := rec.Curve(it, "ppo", "loss", c.Metrics.Eta*r.Float64()); err != nil {
			return err
		}
	}
	if err := rec.Agent("p-1", "provider", "sharpe", r.NormFloat64()); err != nil {
		return err
	}
	return rec.Group("providers", "provider", "sharpe", math.NaN())
}

func openStore(t *testing.T, name string) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// dump renders a whole store as text, floats by their bits, shard excluded (it is
// provenance): two stores with the same dump hold the same runs, configs and results.
func dump(t *testing.T, s *store.Store) string {
	t.Helper()
	var b strings.Builder
	if err := s.Dump(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func statusCounts(t *testing.T, s *store.Store) map[store.Status]int {
	t.Helper()
	runs, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := map[store.Status]int{}
	for _, r := range runs {
		n[r.Status]++
	}
	return n
}

func TestExecuteTwelveRuns(t *testing.T) {
	ctx := context.Background()
	sw := mustLoad(t, grid2x2x3)
	st := openStore(t, "runs.db")
	var order []int
	sum, err := Execute(ctx, sw, st, testRun, Options{Workers: 2, Progress: func(p Progress) {
		order = append(order, p.Run.Index)
		if p.Finished != len(order) || p.Total != 12 || p.Status != store.StatusDone {
			t.Errorf("progress %+v", p)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Runs: 12, Done: 12}) {
		t.Fatalf("summary %+v", sum)
	}
	if n := statusCounts(t, st); n[store.StatusDone] != 12 || len(n) != 1 {
		t.Fatalf("statuses %v, want 12 done", n)
	}
	for i, idx := range order {
		if idx != i {
			t.Fatalf("runs recorded in order %v, want index order", order)
		}
	}
	// Run 7 is eta 0.05 (second value of the outer key), baseline, seed 2: its values
	// recomputed by hand from the same stream.
	runs, _ := st.List(ctx)
	r7 := runs[7]
	if r7.Index != 7 || r7.Seed != 2 || r7.Params != `{"metrics.eta":0.05,"world.scenario.name":"baseline"}` {
		t.Fatalf("run 7: %+v", r7)
	}
	r := rng.New(2, "test/baseline")
	cs, _ := st.Curves(ctx, r7.ID)
	if len(cs) != 4 {
		t.Fatalf("run 7 has %d curve points", len(cs))
	}
	for it := 0; it < 4; it++ {
		if want := 0.05 * r.Float64(); cs[it].Iteration != it || cs[it].Value != want || cs[it].Group != "ppo" {
			t.Errorf("run 7 curve point %d = %+v, want value %g", it, cs[it], want)
		}
	}
	ms, _ := st.Metrics(ctx, r7.ID)
	if want := r.NormFloat64(); len(ms) != 2 || ms[0].Key != "p-1" || ms[0].Value != want || !math.IsNaN(ms[1].Value) {
		t.Errorf("run 7 metrics %+v, want p-1 sharpe %g and a NaN", ms, want)
	}
}

func TestShardsMergedEqualUnsharded(t *testing.T) {
	ctx := context.Background()
	sw := mustLoad(t, grid2x2x3)
	whole := openStore(t, "whole.db")
	if _, err := Execute(ctx, sw, whole, testRun, Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	var shards []*store.Store
	for i := 0; i < 2; i++ {
		st := openStore(t, fmt.Sprintf("shard-%d.db", i))
		sum, err := Execute(ctx, sw, st, testRun, Options{Workers: 2, Shard: Shard{Index: i, Count: 2}})
		if err != nil {
			t.Fatal(err)
		}
		if sum != (Summary{Runs: 6, Done: 6}) {
			t.Fatalf("shard %d: %+v", i, sum)
		}
		runs, _ := st.List(ctx)
		for _, r := range runs {
			if r.Index%2 != i || r.Shard != fmt.Sprintf("%d/2", i) {
				t.Fatalf("shard %d holds run %d (shard %q)", i, r.Index, r.Shard)
			}
		}
		shards = append(shards, st)
	}
	merged := openStore(t, "merged.db")
	if _, err := store.Merge(ctx, merged, shards...); err != nil {
		t.Fatal(err)
	}
	got, want := dump(t, merged), dump(t, whole)
	if got != want {
		t.Fatalf("merged shards:\n%s\nunsharded:\n%s", got, want)
	}
	if strings.Count(want, "run ") != 12 || strings.Count(want, "curve ") != 48 || strings.Count(want, "metric ") != 24 {
		t.Fatalf("the unsharded store is not the full sweep:\n%s", want)
	}
}

func TestSameSweepTwiceIsIdentical(t *testing.T) {
	ctx := context.Background()
	sw := mustLoad(t, grid2x2x3)
	a, b := openStore(t, "a.db"), openStore(t, "b.db")
	if _, err := Execute(ctx, sw, a, testRun, Options{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	sw2 := mustLoad(t, grid2x2x3)
	if _, err := Execute(ctx, sw2, b, testRun, Options{Workers: 3}); err != nil {
		t.Fatal(err)
	}
	if dump(t, a) != dump(t, b) {
		t.Fatal("the same sweep gave different stores")
	}
}

func TestInterruptThenResumeRunsOnlyTheMissing(t *testing.T) {
	ctx := context.Background()
	sw := mustLoad(t, grid2x2x3)
	ref := openStore(t, "ref.db")
	if _, err := Execute(ctx, sw, ref, testRun, Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}

	for _, k := range []int{1, 5, 11} {
		t.Run(fmt.Sprint("cancel after ", k), func(t *testing.T) {
			st := openStore(t, "runs.db")
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var calls atomic.Int64
			first := func(ctx context.Context, run Run, rec Recorder) error {
				if err := testRun(ctx, run, rec); err != nil {
					return err
				}
				if calls.Add(1) == int64(k) {
					cancel() // Ctrl-C: this run has finished its unit and returns nil
					return nil
				}
				return ctx.Err() // a run that sees the interruption stops
			}
			sum, err := Execute(cctx, sw, st, first, Options{Workers: 2})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			n := statusCounts(t, st)
			done := n[store.StatusDone]
			if done < k || done != sum.Done || n[store.StatusRunning] != 0 || n[store.StatusFailed] != 0 ||
				done+n[store.StatusPending] != 12 || sum.Pending != 12-done {
				t.Fatalf("after the interruption: %v, summary %+v", n, sum)
			}
			// Interrupted runs left nothing behind.
			runs, _ := st.List(ctx)
			for _, r := range runs {
				if cs, _ := st.Curves(ctx, r.ID); r.Status == store.StatusPending && len(cs) > 0 {
					t.Fatalf("pending run %d has curves", r.Index)
				}
			}

			var resumed atomic.Int64
			again := func(ctx context.Context, run Run, rec Recorder) error {
				resumed.Add(1)
				return testRun(ctx, run, rec)
			}
			if _, err := Execute(ctx, sw, st, again, Options{Workers: 2}); !errors.Is(err, ErrStoreHasRuns) {
				t.Fatalf("without Resume: %v, want ErrStoreHasRuns", err)
			}
			sum, err = Execute(ctx, sw, st, again, Options{Workers: 2, Resume: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := int(resumed.Load()); got != 12-done {
				t.Fatalf("resume called the RunFunc %d times, want %d (the missing runs)", got, 12-done)
			}
			if sum != (Summary{Runs: 12, Done: 12 - done, Skipped: done}) {
				t.Fatalf("resume summary %+v", sum)
			}
			if dump(t, st) != dump(t, ref) {
				t.Fatal("interrupted + resumed store differs from an uninterrupted one")
			}
		})
	}
}

func TestResumeRerunsKilledRuns(t *testing.T) {
	// A process killed mid-run leaves its runs "running": resume runs them again.
	ctx := context.Background()
	sw := mustLoad(t, grid2x2x3)
	st := openStore(t, "runs.db")
	if _, err := Execute(ctx, sw, st, testRun, Options{}); err != nil {
		t.Fatal(err)
	}
	runs, _ := st.List(ctx)
	for _, i := range []int{3, 8} {
		if err := st.SetStatus(ctx, runs[i].ID, store.StatusRunning, ""); err != nil {
			t.Fatal(err)
		}
	}
	var calls []int
	var mu sync.Mutex
	sum, err := Execute(ctx, sw, st, func(ctx context.Context, run Run, rec Recorder) error {
		mu.Lock()
		calls = append(calls, run.Index)
		mu.Unlock()
		return testRun(ctx, run, rec)
	}, Options{Resume: true})
	if err != nil || fmt.Sprint(calls) != "[3 8]" || sum.Skipped != 10 || sum.Done != 2 {
		t.Fatalf("resume after a kill: calls %v, %+v, %v", calls, sum, err)
	}
}

func TestFailingRunsAreRecorded(t *testing.T) {
	ctx := context.Background()
	// gas-spike + seed 2 fails in the RunFunc, seed 3 panics.
	sw := mustLoad(t, "name: fail\ngrid:\n  world.scenario.name: [baseline, gas-spike]\nseeds: [1, 2, 3]\n")
	st := openStore(t, "runs.db")
	var calls atomic.Int64
	fn := func(ctx context.Context, run Run, rec Recorder) error {
		calls.Add(1)
		if run.Config.World.Scenario.Name == "gas-spike" {
			switch run.Seed {
			case 2:
				return errors.New("the market diverged")
			case 3:
				panic("a bug in the runner")
			}
		}
		return testRun(ctx, run, rec)
	}
	sum, err := Execute(ctx, sw, st, fn, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Runs: 6, Done: 4, Failed: 2}) || calls.Load() != 6 {
		t.Fatalf("summary %+v, %d calls; want 4 done, 2 failed, 6 calls", sum, calls.Load())
	}
	runs, _ := st.List(ctx)
	for _, r := range runs {
		var want string
		switch r.Index {
		case 4:
			want = "the market diverged"
		case 5:
			want = "panic: a bug in the runner"
		}
		if want == "" {
			if r.Status != store.StatusDone || r.Error != "" {
				t.Errorf("run %d: %s %q, want done", r.Index, r.Status, r.Error)
			}
			continue
		}
		if r.Status != store.StatusFailed || r.Error != want {
			t.Errorf("run %d: %s %q, want failed %q", r.Index, r.Status, r.Error, want)
		}
	}
	// Resume skips failed runs unless asked to retry them.
	calls.Store(0)
	if sum, err := Execute(ctx, sw, st, fn, Options{Resume: true}); err != nil || calls.Load() != 0 || sum.Skipped != 6 {
		t.Fatalf("resume: %+v, %v, %d calls", sum, err, calls.Load())
	}
	sum, err = Execute(ctx, sw, st, fn, Options{Resume: true, RetryFailed: true})
	if err != nil || calls.Load() != 2 || sum != (Summary{Runs: 6, Failed: 2, Skipped: 4}) {
		t.Fatalf("retry: %+v, %v, %d calls", sum, err, calls.Load())
	}
}

// TestInvalidCellStopsTheSweepBeforeItStarts: eta 2 (out of range) used to start the
// sweep and fail its runs one by one. Every cell is checked first, in every shard: a
// shard whose own cells are fine still refuses a grid with a bad cell elsewhere.
func TestInvalidCellStopsTheSweepBeforeItStarts(t *testing.T) {
	ctx := context.Background()
	sw := mustLoad(t, "name: bad\ngrid:\n  metrics.eta: [0.01, 2]\nseeds: [1, 2]\n")
	for _, shard := range []Shard{{}, {Index: 0, Count: 2}, {Index: 1, Count: 2}} {
		st := openStore(t, "runs.db")
		var calls atomic.Int64
		fn := func(ctx context.Context, run Run, rec Recorder) error { calls.Add(1); return testRun(ctx, run, rec) }
		_, err := Execute(ctx, sw, st, fn, Options{Shard: shard})
		if !errors.Is(err, ErrInvalidCell) || !strings.Contains(err.Error(), "run eta=2,seed=1: invalid config: metrics.eta: must be in (0, 1), got 2") {
			t.Errorf("shard %v: err %v, want ErrInvalidCell naming run eta=2,seed=1 and the key", shard, err)
		}
		if runs, _ := st.List(ctx); len(runs) != 0 || calls.Load() != 0 {
			t.Errorf("shard %v: %d runs in the store, %d started; want none", shard, len(runs), calls.Load())
		}
	}
}

func TestRecorderMisuseFailsTheRun(t *testing.T) {
	ctx := context.Background()
	sw := mustLoad(t, "grid:\n  metrics.eta: [0.1]\n")
	st := openStore(t, "runs.db")
	_, err := Execute(ctx, sw, st, func(ctx context.Context, run Run, rec Recorder) error {
		if rec.Agent("p-1", "provider", "sharpe", 1) != nil {
			t.Error("first record refused")
		}
		_ = rec.Agent("p-1", "provider", "sharpe", 2) // ignored error: still fails the run
		return nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := st.List(ctx)
	if runs[0].Status != store.StatusFailed || !strings.Contains(runs[0].Error, `metric "sharpe" recorded twice`) {
		t.Fatalf("run: %s %q", runs[0].Status, runs[0].Error)
	}
}

func TestResultsRecordedInIndexOrder(t *testing.T) {
	// Run 0 finishes last; it is still recorded first.
	ctx := context.Background()
	sw := mustLoad(t, "grid:\n  metrics.eta: [0.1, 0.2, 0.3]\n")
	st := openStore(t, "runs.db")
	var wg sync.WaitGroup
	wg.Add(2)
	var order []int
	_, err := Execute(ctx, sw, st, func(ctx context.Context, run Run, rec Recorder) error {
		if run.Index == 0 {
			wg.Wait() // until runs 1 and 2 have returned
		} else {
			defer wg.Done()
		}
		return rec.Curve(0, "", "eta", run.Config.Metrics.Eta)
	}, Options{Workers: 3, Progress: func(p Progress) { order = append(order, p.Run.Index) }})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[0 1 2]" {
		t.Fatalf("recorded in order %v", order)
	}
}

func TestResumeDetectsAChangedSweep(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	base := filepath.Join(dir, "base.yaml")
	write := func(s string) {
		if err := os.WriteFile(base, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("world:\n  eth:\n    sigma: 0.5\n")
	src := []byte("name: chg\nbase: base.yaml\ngrid:\n  metrics.eta: [0.1, 0.2]\n")
	sw, err := Load(filepath.Join(dir, "s.yaml"), src)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, "runs.db")
	if _, err := Execute(ctx, sw, st, testRun, Options{}); err != nil {
		t.Fatal(err)
	}
	write("world:\n  eth:\n    sigma: 0.6\n") // same params and ids, another config
	sw, err = Load(filepath.Join(dir, "s.yaml"), src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(ctx, sw, st, testRun, Options{Resume: true}); !errors.Is(err, ErrStoreMismatch) {
		t.Fatalf("err %v, want ErrStoreMismatch", err)
	}
}

func TestExecuteBadOptions(t *testing.T) {
	sw := mustLoad(t, "grid:\n  metrics.eta: [0.1]\n")
	st := openStore(t, "runs.db")
	if _, err := Execute(context.Background(), sw, st, nil, Options{}); err == nil {
		t.Error("nil RunFunc accepted")
	}
	if _, err := Execute(context.Background(), sw, st, testRun, Options{Shard: Shard{Index: 2, Count: 2}}); err == nil {
		t.Error("shard 2/2 accepted")
	}
}

// TestTwoResumedSweepsShareTheStore: two `sweep --resume` on one store used to both run
// every pending run. Each run is claimed in the store first, so together they run each
// run once; a run whose claimant died is taken over.
func TestTwoResumedSweepsShareTheStore(t *testing.T) {
	ctx := context.Background()
	sw := mustLoad(t, "name: share\ngrid:\n  metrics.eta: [0.01, 0.02, 0.03, 0.04]\nseeds: [1, 2, 3]\n")
	path := filepath.Join(t.TempDir(), "runs.db")
	var mu sync.Mutex
	ran := map[string]int{}
	fn := func(ctx context.Context, run Run, rec Recorder) error {
		mu.Lock()
		ran[run.ID]++
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // let the other sweep reach the same runs
		return testRun(ctx, run, rec)
	}
	// The store holds the runs as pending, as a first sweep interrupted before any ran.
	st0, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	interrupted, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Execute(interrupted, sw, st0, fn, Options{}); err == nil {
		t.Fatal("a cancelled sweep returned no error")
	}
	st0.Close()

	sums := make([]Summary, 2)
	var g errgroup.Group
	for i := range sums {
		g.Go(func() error {
			st, err := store.Open(path)
			if err != nil {
				return err
			}
			defer st.Close()
			sums[i], err = Execute(ctx, sw, st, fn, Options{Resume: true, Workers: 2, Owner: fmt.Sprintf("host/%d", 100+i)})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 12 {
		t.Fatalf("%d distinct runs ran, want 12", len(ran))
	}
	for id, n := range ran {
		if n != 1 {
			t.Errorf("run %s ran %d times", id, n)
		}
	}
	if d := sums[0].Done + sums[1].Done; d != 12 || sums[0].Pending+sums[1].Pending != 0 {
		t.Errorf("summaries %+v and %+v: want 12 done between them, none pending", sums[0], sums[1])
	}
}
