package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// dump renders a whole store as text, floats by their bits, shard excluded (it is
// provenance). Two stores with the same dump hold the same results.
func dump(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	if err := s.Dump(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func finished(t *testing.T, s *Store, r Run, v float64) {
	t.Helper()
	ctx := context.Background()
	if err := s.Add(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, r.ID, Result{Status: StatusDone,
		Curves:  []CurvePoint{{0, "ppo", "loss", v}, {1, "ppo", "loss", v / 2}},
		Metrics: []Metric{{ScopeAgent, "p-1", "provider", "sharpe", v}}}); err != nil {
		t.Fatal(err)
	}
}

func TestMergeUnion(t *testing.T) {
	ctx := context.Background()
	a, b, dst := tempStore(t, "a.db"), tempStore(t, "b.db"), tempStore(t, "dst.db")
	ra, rb, rc := testRun("aa", 0), testRun("bb", 1), testRun("cc", 2)
	ra.Shard, rb.Shard = "0/2", "1/2"
	finished(t, a, ra, 1)
	finished(t, b, rb, math.NaN())
	finished(t, b, rc, 3)
	// The reference: all three runs written straight into one store.
	ref := tempStore(t, "ref.db")
	finished(t, ref, testRun("aa", 0), 1)
	finished(t, ref, testRun("bb", 1), math.NaN())
	finished(t, ref, testRun("cc", 2), 3)

	st, err := Merge(ctx, dst, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if st != (MergeStats{Added: 3}) {
		t.Fatalf("stats %+v", st)
	}
	if got, want := dump(t, dst), dump(t, ref); got != want {
		t.Fatalf("merged:\n%s\nwant:\n%s", got, want)
	}
	if r, _ := dst.Get(ctx, "bb"); r.Shard != "1/2" {
		t.Fatalf("shard provenance lost: %+v", r)
	}
	// Merging the same stores again changes nothing and conflicts with nothing.
	st, err = Merge(ctx, dst, b, a)
	if err != nil || st != (MergeStats{Same: 3}) {
		t.Fatalf("second merge: %+v, %v", st, err)
	}
	if got, want := dump(t, dst), dump(t, ref); got != want {
		t.Fatalf("after the second merge:\n%s\nwant:\n%s", got, want)
	}
}

func TestMergeConflicts(t *testing.T) {
	ctx := context.Background()
	dst := tempStore(t, "dst.db")
	finished(t, dst, testRun("aa", 0), 1)
	finished(t, dst, testRun("bb", 1), 2)
	before := dump(t, dst)

	src := tempStore(t, "src.db")
	finished(t, src, testRun("aa", 0), 1.0000000001) // metric differs
	changed := testRun("bb", 1)
	changed.Config = "seed: 2\n" // definition differs
	finished(t, src, changed, 2)
	finished(t, src, testRun("cc", 2), 3) // new: would be added

	_, err := Merge(ctx, dst, src)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err %v, want a ConflictError", err)
	}
	msg := err.Error()
	for _, frag := range []string{"run aa (x=aa)", "curves differ", "run bb (x=bb)", "definition differs (config)", src.Path(), dst.Path()} {
		if !strings.Contains(msg, frag) {
			t.Errorf("conflict message %q lacks %q", msg, frag)
		}
	}
	if after := dump(t, dst); after != before {
		t.Fatalf("a failed merge changed dst:\n%s\nwas:\n%s", after, before)
	}

	// Same curves but a different error text on a failed run is a conflict too.
	f1, f2 := tempStore(t, "f1.db"), tempStore(t, "f2.db")
	for i, s := range []*Store{f1, f2} {
		if err := s.Add(ctx, testRun("ff", 0)); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "ff", Result{Status: StatusFailed, Error: fmt.Sprint("boom ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Merge(ctx, f1, f2); err == nil || !strings.Contains(err.Error(), `error "boom 1" against "boom 0"`) {
		t.Fatalf("failed runs with different errors: %v", err)
	}
}

func TestMergeFinishedReplacesUnfinished(t *testing.T) {
	ctx := context.Background()
	dst, src := tempStore(t, "dst.db"), tempStore(t, "src.db")
	// dst: aa pending, bb done. src: aa done, bb pending, cc running.
	if err := dst.Add(ctx, testRun("aa", 0)); err != nil {
		t.Fatal(err)
	}
	finished(t, dst, testRun("bb", 1), 2)
	ra := testRun("aa", 0)
	ra.Shard = "1/3"
	finished(t, src, ra, 1)
	cc := testRun("cc", 2)
	cc.Status = StatusRunning
	if err := src.Add(ctx, testRun("bb", 1), cc); err != nil {
		t.Fatal(err)
	}
	st, err := Merge(ctx, dst, src)
	if err != nil {
		t.Fatal(err)
	}
	if st != (MergeStats{Added: 1, Updated: 1, Unfinish: 1}) {
		t.Fatalf("stats %+v", st)
	}
	ref := tempStore(t, "ref.db")
	finished(t, ref, testRun("aa", 0), 1)
	finished(t, ref, testRun("bb", 1), 2)
	if err := ref.Add(ctx, cc); err != nil {
		t.Fatal(err)
	}
	if got, want := dump(t, dst), dump(t, ref); got != want {
		t.Fatalf("merged:\n%s\nwant:\n%s", got, want)
	}
	if r, _ := dst.Get(ctx, "aa"); r.Shard != "1/3" {
		t.Fatalf("the run that finished elsewhere should say where: %+v", r)
	}
}

// TestDump checks the dump's text by hand for one finished run: the run line, then its
// curve points and metric with floats by their bits (0.5 = 0x3fe0000000000000).
func TestDump(t *testing.T) {
	s := tempStore(t, "d.db")
	finished(t, s, testRun("aa", 0), 1)
	want := `run aa demo 0 "x=aa" {"x":1} "seed: 1\n" 1 done ""` + "\n" +
		"  curve 0 ppo loss 3ff0000000000000\n" +
		"  curve 1 ppo loss 3fe0000000000000\n" +
		"  metric agent p-1 provider sharpe 3ff0000000000000\n"
	if got := dump(t, s); got != want {
		t.Fatalf("dump:\n%s\nwant:\n%s", got, want)
	}
}
