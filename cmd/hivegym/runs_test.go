package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/experiments/sweep"
)

// smallStore runs a two-run sweep with a RunFunc whose values are known, and returns
// the store's directory and the run ids.
func smallStore(t *testing.T) (string, []string) {
	t.Helper()
	clearShardEnv(t)
	withRunFunc(t, func(_ context.Context, r sweep.Run, rec sweep.Recorder) error {
		eta := r.Config.Metrics.Eta
		for it := 0; it < 3; it++ {
			if err := rec.Curve(it, "ppo", "loss", eta*float64(it)); err != nil {
				return err
			}
		}
		if err := rec.Agent("p-1", "provider", "sharpe", 10*eta); err != nil {
			return err
		}
		return rec.Group("providers", "provider", "max_drawdown", -eta)
	})
	sw := writeFile(t, "small.yaml", "name: small\ngrid:\n  metrics.eta: [0.25, 0.5]\nseeds: [4]\n")
	out := filepath.Join(t.TempDir(), "small")
	if code, _, stderr := runCLI(t, "sweep", "-c", sw, "--out", out); code != 0 {
		t.Fatalf("sweep: %d %s", code, stderr)
	}
	st, err := store.OpenExisting(filepath.Join(out, "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.List(context.Background())
	if err != nil || len(runs) != 2 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	return out, []string{runs[0].ID, runs[1].ID}
}

func TestRunsShowAndExport(t *testing.T) {
	out, ids := smallStore(t)
	code, stdout, stderr := runCLI(t, "runs", "show", ids[1][:8], "--store", out)
	if code != 0 {
		t.Fatalf("show: %d %s", code, stderr)
	}
	for _, frag := range []string{"id:      " + ids[1], "sweep:   small (run 1)", "name:    eta=0.5,seed=4", "status:  done",
		`params:  {"metrics.eta":0.5}`, "p-1", "sharpe", "5", "max_drawdown", "-0.5", "ppo", "loss", "0..2"} {
		if !strings.Contains(stdout, frag) {
			t.Errorf("show output lacks %q:\n%s", frag, stdout)
		}
	}
	// --config prints a config that `hivegym config validate` accepts, with the run's values.
	code, stdout, _ = runCLI(t, "runs", "show", ids[0], "--store", out, "--config")
	if code != 0 || !strings.Contains(stdout, "eta: 0.25") || !strings.Contains(stdout, "seed: 4") {
		t.Fatalf("show --config: %d\n%s", code, stdout)
	}
	p := writeFile(t, "run.yaml", stdout)
	if code, _, stderr := runCLI(t, "config", "validate", p); code != 0 {
		t.Fatalf("the run's config does not validate: %s", stderr)
	}

	csvPath := filepath.Join(t.TempDir(), "run.csv")
	if code, _, stderr := runCLI(t, "runs", "export", ids[1], "--store", filepath.Join(out, "runs.db"), "--out", csvPath); code != 0 {
		t.Fatalf("export: %d %s", code, stderr)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// eta = 0.5: loss 0, 0.5, 1; p-1 sharpe 5; providers max_drawdown -0.5.
	want := [][]string{
		{"kind", "iteration", "scope", "key", "role", "metric", "value"},
		{"curve", "0", "group", "ppo", "", "loss", "0"},
		{"curve", "1", "group", "ppo", "", "loss", "0.5"},
		{"curve", "2", "group", "ppo", "", "loss", "1"},
		{"metric", "", "agent", "p-1", "provider", "sharpe", "5"},
		{"metric", "", "group", "providers", "provider", "max_drawdown", "-0.5"},
	}
	if len(rows) != len(want) {
		t.Fatalf("CSV rows %v, want %v", rows, want)
	}
	for i := range want {
		if strings.Join(rows[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("row %d = %v, want %v", i, rows[i], want[i])
		}
	}
	// To stdout by default.
	code, stdout, _ = runCLI(t, "runs", "export", ids[1], "--store", out)
	if code != 0 || stdout != string(b) {
		t.Fatalf("export to stdout: %d %q", code, stdout)
	}
}

func TestRunsBadInput(t *testing.T) {
	out, ids := smallStore(t)
	missing := filepath.Join(t.TempDir(), "nope.db")
	for _, args := range [][]string{
		{"runs", "list", "--store", missing},
		{"runs", "show", ids[0], "--store", missing},
		{"runs", "export", ids[0], "--store", missing},
		{"runs", "merge", "--out", filepath.Join(t.TempDir(), "m.db"), missing},
	} {
		code, stdout, stderr := runCLI(t, args...)
		wantOneErrorLine(t, code, stdout, stderr, missing, "no such store")
	}
	code, stdout, stderr := runCLI(t, "runs", "show", "ffffffffffff", "--store", out)
	wantOneErrorLine(t, code, stdout, stderr, "ffffffffffff", "no such run")
	code, stdout, stderr = runCLI(t, "runs", "export", "", "--store", out)
	wantOneErrorLine(t, code, stdout, stderr, "no such run")
	junk := writeFile(t, "junk.db", strings.Repeat("not sqlite\n", 200))
	code, stdout, stderr = runCLI(t, "runs", "list", "--store", junk)
	wantOneErrorLine(t, code, stdout, stderr, junk)
	code, stdout, stderr = runCLI(t, "runs", "merge", out)
	wantOneErrorLine(t, code, stdout, stderr, "out")
	code, stdout, stderr = runCLI(t, "runs", "frob")
	wantOneErrorLine(t, code, stdout, stderr, `unknown command "frob"`)
}

func TestRunsMergeConflict(t *testing.T) {
	out, ids := smallStore(t)
	// A second store with the same sweep but another result for run 0.
	other := filepath.Join(t.TempDir(), "other.db")
	src, err := store.OpenExisting(filepath.Join(out, "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := store.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := store.Merge(ctx, dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Finish(ctx, ids[0], store.Result{Status: store.StatusFailed, Error: "out of memory"}); err != nil {
		t.Fatal(err)
	}
	src.Close()
	dst.Close()
	merged := filepath.Join(t.TempDir(), "m.db")
	code, stdout, stderr := runCLI(t, "runs", "merge", "--out", merged, out, other)
	if code != exitFailed || stdout != "" || !strings.Contains(stderr, ids[0]) || !strings.Contains(stderr, "status failed against done") {
		t.Fatalf("conflicting merge: %d %q %q", code, stdout, stderr)
	}
	// Nothing was merged, and the store the merge would have created is not left behind
	// (it used to be, empty).
	if _, err := os.Stat(merged); !os.IsNotExist(err) {
		t.Errorf("a failed merge left %s (stat: %v)", merged, err)
	}
	// Into an existing store: it is left as it was.
	code, _, _ = runCLI(t, "runs", "merge", "--out", merged, out)
	if code != 0 {
		t.Fatal("merge of one store failed")
	}
	code, _, _ = runCLI(t, "runs", "merge", "--out", merged, other)
	if code != exitFailed {
		t.Fatalf("conflicting merge into an existing store: exit %d", code)
	}
	code, stdout, _ = runCLI(t, "runs", "list", "--store", merged)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("%d runs", len(ids))) {
		t.Fatalf("after a failed merge into an existing store: %d %q", code, stdout)
	}
}

// TestRunsListShowsStaleRuns: after kill -9 a sweep's runs stayed "running" in runs list
// forever. A running run whose process is gone shows as stale.
func TestRunsListShowsStaleRuns(t *testing.T) {
	out, ids := smallStore(t)
	st, err := store.OpenExisting(filepath.Join(out, "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	host, _ := os.Hostname()
	dead := host + "/" + strconv.Itoa(1<<30) // a pid that cannot exist: a killed sweep
	for i, owner := range []string{dead, store.Owner()} {
		if err := st.SetStatus(ctx, ids[i], store.StatusPending, ""); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.Claim(ctx, ids[i], owner, store.Alive); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
	}
	st.Close()
	code, stdout, stderr := runCLI(t, "runs", "list", "--store", out)
	if code != 0 {
		t.Fatalf("runs list: %d %s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	var staleLine, liveLine string
	for _, l := range lines {
		if strings.HasPrefix(l, ids[0]) {
			staleLine = l
		}
		if strings.HasPrefix(l, ids[1]) {
			liveLine = l
		}
	}
	if !strings.Contains(staleLine, " stale ") || !strings.Contains(staleLine, dead+" is gone") {
		t.Errorf("the killed sweep's run: %q, want stale naming %s", staleLine, dead)
	}
	if !strings.Contains(liveLine, " running ") || strings.Contains(liveLine, "stale") {
		t.Errorf("a live process's run: %q, want running", liveLine)
	}
	if !strings.Contains(stdout, "2 running (1 stale)") {
		t.Errorf("summary line: %q", stdout)
	}
}
