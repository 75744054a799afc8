package store

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func tempStore(t *testing.T, name string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testRun(id string, idx int) Run {
	return Run{ID: id, Sweep: "demo", Index: idx, Name: "x=" + id, Params: `{"x":1}`,
		Config: "seed: 1\n", Seed: 1, Status: StatusPending}
}

func TestOpenCreatesLatestSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Version(ctx); err != nil || v != SchemaVersion() || v != 2 {
		t.Fatalf("version %d, %v; want %d", v, err, SchemaVersion())
	}
	if err := s.Add(ctx, testRun("a", 0)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Reopening applies nothing twice (migration 1 would fail on existing tables) and
	// keeps the data.
	s, err = OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.Get(ctx, "a"); err != nil || r.Name != "x=a" {
		t.Fatalf("after reopen: %+v, %v", r, err)
	}
}

func TestMigrationsApplyInOrderOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	m1 := `CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);`
	m2 := `CREATE TABLE b (y INTEGER); INSERT INTO b SELECT x + 10 FROM a;`
	s, err := open(path, []string{m1})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx); v != 1 {
		t.Fatalf("version %d, want 1", v)
	}
	s.Close()
	s, err = open(path, []string{m1, m2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Version(ctx); v != 2 {
		t.Fatalf("version %d, want 2", v)
	}
	// m1 ran once (one row in a) and m2 ran after it (b saw a's row).
	var na, y int
	if err := s.db.QueryRow(`SELECT count(*) FROM a`).Scan(&na); err != nil || na != 1 {
		t.Fatalf("rows in a: %d, %v", na, err)
	}
	if err := s.db.QueryRow(`SELECT y FROM b`).Scan(&y); err != nil || y != 11 {
		t.Fatalf("b.y = %d, %v; want 11", y, err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	good := `CREATE TABLE a (x INTEGER);`
	bad := `CREATE TABLE b (y INTEGER); SELECT * FROM no_such_table;`
	if _, err := open(path, []string{good, bad}); err == nil || !strings.Contains(err.Error(), "migration 2") {
		t.Fatalf("bad migration: err %v, want one naming migration 2", err)
	}
	s, err := open(path, []string{good})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Version(ctx); v != 1 {
		t.Fatalf("version after failed migration %d, want 1", v)
	}
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("table b exists after a rolled-back migration (%d, %v)", n, err)
	}
}

func TestNewerSchemaIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := open(path, append(append([]string(nil), migrations...), `CREATE TABLE future (z INTEGER);`))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path)
	var se *SchemaError
	if !errors.Is(err, ErrNewerSchema) || !errors.As(err, &se) {
		t.Fatalf("err %v, want a SchemaError", err)
	}
	if se.Version != SchemaVersion()+1 || se.Known != SchemaVersion() || !strings.Contains(err.Error(), path) {
		t.Fatalf("SchemaError %+v / %q", se, err)
	}
}

func TestOpenExistingErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenExisting(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("this is not a database\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenExisting(junk); err == nil || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk file: %v", err)
	}
	if _, err := OpenExisting(dir); err == nil {
		t.Fatal("a directory opened as a store")
	}
	if _, err := Open(filepath.Join(dir, "a?b.db")); err == nil {
		t.Fatal("a path with '?' was accepted")
	}
}

func TestAddGetList(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t, "runs.db")
	big := testRun("ff01", 2)
	big.Seed = math.MaxUint64 // beyond int64: stored by its bits
	other := testRun("0a00", 0)
	other.Sweep = "alpha"
	if err := s.Add(ctx, testRun("ab12", 1), big, testRun("ab34", 0), other); err != nil {
		t.Fatal(err)
	}
	runs, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	// Ordered by sweep, then index.
	if got, want := strings.Join(ids, " "), "0a00 ab34 ab12 ff01"; got != want {
		t.Fatalf("List order %q, want %q", got, want)
	}
	r, err := s.Get(ctx, "ff")
	if err != nil || r.Seed != math.MaxUint64 || r.Status != StatusPending || r.Index != 2 || r.Params != `{"x":1}` {
		t.Fatalf("Get(ff) = %+v, %v", r, err)
	}
	if _, err := s.Get(ctx, "ab"); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("Get(ab): %v, want ErrAmbiguous", err)
	}
	if r, err := s.Get(ctx, "ab3"); err != nil || r.ID != "ab34" {
		t.Fatalf("Get(ab3) = %v, %v", r.ID, err)
	}
	if _, err := s.Get(ctx, "cc"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(cc): %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(\"\"): %v, want ErrNotFound", err)
	}
	// Adding an existing id adds nothing, not even the new runs before it.
	err = s.Add(ctx, testRun("new1", 5), testRun("ab12", 1))
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "ab12") {
		t.Fatalf("re-adding: %v", err)
	}
	if _, err := s.Get(ctx, "new1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed Add left run new1 behind: %v", err)
	}
	bad := testRun("zz", 0)
	bad.Status = "weird"
	if err := s.Add(ctx, bad); err == nil {
		t.Fatal("invalid status accepted")
	}
	if err := s.SetStatus(ctx, "nope", StatusRunning, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetStatus on a missing run: %v", err)
	}
}

func TestFinishRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t, "runs.db")
	if err := s.Add(ctx, testRun("r1", 0), testRun("r2", 1)); err != nil {
		t.Fatal(err)
	}
	negZero := math.Copysign(0, -1)
	res := Result{
		Status: StatusDone,
		Curves: []CurvePoint{
			{Iteration: 2, Metric: "loss", Value: 0.25},
			{Iteration: 1, Metric: "loss", Value: math.NaN()},
			{Iteration: 1, Metric: "entropy", Value: math.Inf(1)},
			{Iteration: 1, Group: "clients", Metric: "loss", Value: 7},
		},
		Metrics: []Metric{
			{Scope: ScopeGroup, Key: "providers", Role: "provider", Name: "sharpe", Value: negZero},
			{Scope: ScopeAgent, Key: "p-1", Role: "provider", Name: "sharpe", Value: math.Inf(-1)},
			{Scope: ScopeAgent, Key: "c-1", Role: "client", Name: "sharpe", Value: 1.5},
		},
	}
	if err := s.Finish(ctx, "r1", res); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Curves(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	wantC := []CurvePoint{{1, "", "entropy", math.Inf(1)}, {1, "", "loss", math.NaN()}, {2, "", "loss", 0.25}, {1, "clients", "loss", 7}}
	if !sameCurves(cs, wantC) {
		t.Fatalf("curves %v, want %v", cs, wantC)
	}
	ms, err := s.Metrics(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	wantM := []Metric{
		{ScopeAgent, "c-1", "client", "sharpe", 1.5},
		{ScopeAgent, "p-1", "provider", "sharpe", math.Inf(-1)},
		{ScopeGroup, "providers", "provider", "sharpe", 0}, // SQLite keeps no sign on zero
	}
	if !sameMetrics(ms, wantM) {
		t.Fatalf("metrics %v, want %v", ms, wantM)
	}
	if r, _ := s.Get(ctx, "r1"); r.Status != StatusDone || r.Error != "" {
		t.Fatalf("r1 after Finish: %+v", r)
	}
	// Finishing again replaces everything.
	if err := s.Finish(ctx, "r1", Result{Status: StatusFailed, Error: "boom"}); err != nil {
		t.Fatal(err)
	}
	cs, _ = s.Curves(ctx, "r1")
	ms, _ = s.Metrics(ctx, "r1")
	if r, _ := s.Get(ctx, "r1"); len(cs) != 0 || len(ms) != 0 || r.Status != StatusFailed || r.Error != "boom" {
		t.Fatalf("after the second Finish: %d curves, %d metrics, %+v", len(cs), len(ms), r)
	}
	for name, bad := range map[string]Result{
		"not finished":   {Status: StatusRunning},
		"dup curve":      {Status: StatusDone, Curves: []CurvePoint{{1, "g", "a", 1}, {1, "g", "a", 2}}},
		"empty curve":    {Status: StatusDone, Curves: []CurvePoint{{1, "g", "", 1}}},
		"bad scope":      {Status: StatusDone, Metrics: []Metric{{Scope: "world", Key: "k", Name: "m"}}},
		"empty key":      {Status: StatusDone, Metrics: []Metric{{Scope: ScopeAgent, Name: "m"}}},
		"empty name":     {Status: StatusDone, Metrics: []Metric{{Scope: ScopeAgent, Key: "k"}}},
		"dup metric":     {Status: StatusDone, Metrics: []Metric{{ScopeAgent, "k", "a", "m", 1}, {ScopeAgent, "k", "b", "m", 2}}},
		"missing run id": {Status: StatusDone},
	} {
		id := "r2"
		if name == "missing run id" {
			id = "nope"
		}
		if err := s.Finish(ctx, id, bad); err == nil {
			t.Errorf("%s: Finish accepted %+v", name, bad)
		}
	}
	// A rejected result left r2 untouched.
	if r, _ := s.Get(ctx, "r2"); r.Status != StatusPending {
		t.Fatalf("r2 after rejected results: %+v", r)
	}
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t, "runs.db")
	const n = 16
	var runs []Run
	for i := 0; i < n; i++ {
		runs = append(runs, testRun(string(rune('a'+i)), i))
	}
	if err := s.Add(ctx, runs...); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(id string, v float64) {
			defer wg.Done()
			errs <- s.SetStatus(ctx, id, StatusRunning, "")
			errs <- s.Finish(ctx, id, Result{Status: StatusDone, Curves: []CurvePoint{{0, "", "v", v}}})
		}(runs[i].ID, float64(i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range runs {
		cs, err := s.Curves(ctx, r.ID)
		if err != nil || len(cs) != 1 || cs[0].Value != float64(i) {
			t.Fatalf("run %s: %v, %v", r.ID, cs, err)
		}
	}
}

func TestExportCSV(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t, "runs.db")
	if err := s.Add(ctx, testRun("abc", 0)); err != nil {
		t.Fatal(err)
	}
	err := s.Finish(ctx, "abc", Result{Status: StatusDone,
		Curves: []CurvePoint{{1, "", "return", 0.1}, {0, "", "return", math.NaN()}, {0, "ppo", "loss", 2}},
		Metrics: []Metric{
			{ScopeGroup, "providers, all", "provider", "sharpe", math.Inf(1)},
			{ScopeAgent, "p-1", "provider", "sharpe", -2.5e-7},
		}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.ExportCSV(ctx, "ab", &b); err != nil {
		t.Fatal(err)
	}
	want := "kind,iteration,scope,key,role,metric,value\n" +
		"curve,0,,,,return,NaN\n" +
		"curve,1,,,,return,0.1\n" +
		"curve,0,group,ppo,,loss,2\n" +
		"metric,,agent,p-1,provider,sharpe,-2.5e-07\n" +
		"metric,,group,\"providers, all\",provider,sharpe,+Inf\n"
	if b.String() != want {
		t.Fatalf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := s.ExportCSV(ctx, "zz", &b); !errors.Is(err, ErrNotFound) {
		t.Fatalf("export of a missing run: %v", err)
	}
}
