package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeRunDir writes a small run directory by hand (docs/run-dir.md): run.json, two
// groups with three episodes each, and an equity curve.
func writeRunDir(t *testing.T, dir string) string {
	t.Helper()
	d := filepath.Join(dir, "eval-1")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"run.json": `{"kind":"eval","name":"eval-1","seed":1,"ticks":4,"episodes":3,"status":"done",` +
			`"groups":[{"name":"providers","role":"provider","kind":"ppo","agents":2},{"name":"clients","role":"client","kind":"scripted","agents":3}]}`,
		"episodes.csv": "seed,group,metric,value\n1,providers,sharpe,1\n1,clients,sharpe,-1\n2,providers,sharpe,2\n2,clients,sharpe,0\n3,providers,sharpe,6\n3,clients,sharpe,1\n",
		"equity.csv":   "seed,tick,group,wealth\n1,0,providers,1\n1,1,providers,1.01\n1,2,providers,0.99\n1,3,providers,1.02\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	run := writeRunDir(t, dir)
	code, out, stderr := runCLI(t, "report", run)
	want := filepath.Join(run, "report.html")
	if code != 0 || out != want+"\n" {
		t.Fatalf("report: code %d, stdout %q, stderr %q", code, out, stderr)
	}
	page, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{`id="overview"`, `id="metrics"`, `id="equity"`, `id="distributions"`} {
		if !strings.Contains(string(page), id) {
			t.Errorf("report lacks %s", id)
		}
	}
	if strings.Contains(string(page), `id="learning"`) {
		t.Errorf("report has learning curves without curves.csv")
	}
	// --json with --out.
	out2 := filepath.Join(dir, "rep")
	code, out, stderr = runCLI(t, "report", run, "--out", out2, "--json")
	var doc reportJSON
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("--json: code %d, stdout %q, stderr %q", code, out, stderr)
	}
	if doc.Report != filepath.Join(out2, "report.html") || len(doc.Figures) != 2 {
		t.Errorf("--json document %+v, want the report in %s and 2 figures (equity, distributions)", doc, out2)
	}
	for _, f := range doc.Figures {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("figure %s: %v", f, err)
		}
	}
}

// TestReportDefaultOut: several run directories go to report/ in the working
// directory.
func TestReportDefaultOut(t *testing.T) {
	dir := t.TempDir()
	a := writeRunDir(t, filepath.Join(dir, "a"))
	b := writeRunDir(t, filepath.Join(dir, "b"))
	t.Chdir(dir)
	code, out, stderr := runCLI(t, "report", a, b)
	if code != 0 || out != filepath.Join("report", "report.html")+"\n" {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "report", "report.html")); err != nil {
		t.Error(err)
	}
}

func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	run := writeRunDir(t, dir)
	bad := filepath.Join(run, "episodes.csv")
	if err := os.WriteFile(bad, []byte("seed,group,metric,value\n1,providers,sharpe,1\n2,providers,sharpe,oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "report", run)
	wantOneErrorLine(t, code, out, stderr, bad+":3:", `not a number: "oops"`)

	code, out, stderr = runCLI(t, "report", filepath.Join(dir, "missing"))
	wantOneErrorLine(t, code, out, stderr, "missing", "no such run directory")

	code, out, stderr = runCLI(t, "report")
	wantOneErrorLine(t, code, out, stderr, "at least one run directory")

	good := writeRunDir(t, filepath.Join(dir, "good"))
	code, out, stderr = runCLI(t, "report", good, "--store", filepath.Join(dir, "nope.db"))
	wantOneErrorLine(t, code, out, stderr, "nope.db", "no such run store")

	code, out, stderr = runCLI(t, "report", good, "--threads", "0")
	wantOneErrorLine(t, code, out, stderr, "--threads")
}
