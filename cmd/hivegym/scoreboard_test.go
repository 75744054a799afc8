package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/scoreboard"
	"github.com/hivegym/hivegym/experiments/store"
	"go.yaml.in/yaml/v3"
)

// tinyScoreboard writes a tiny base config (one provider class of 6, one client class
// of 60, 144-tick episodes, one training iteration) and a scoreboard over it: one
// scenario, one scheme, providers learning and both learning, seeds 1 and 2, three
// held-out episodes, two baselines. It returns the scoreboard file.
func tinyScoreboard(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	c := experiments.DefaultConfig()
	c.Market.Providers = c.Market.Providers[:1]
	c.Market.Providers[0].Count = 6
	c.Market.Clients = c.Market.Clients[:1]
	c.Market.Clients[0].Count = 60
	c.Env.EpisodeTicks = 144
	c.Training.Iterations = 1
	c.Training.NumEnvs = 2
	c.Training.Workers = 1
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tiny.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	sb := `name: tiny
base: tiny.yaml
scenarios: [gas-spike]
schemes: [compute-marketplace]
roles: [providers, both]
seeds: [1, 2]
eval:
  episodes: 3
  seed: 7
  baselines: [random, boulware]
`
	p := filepath.Join(dir, "tiny-scoreboard.yaml")
	if err := os.WriteFile(p, []byte(sb), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readAll(t *testing.T, dir string, names ...string) string {
	t.Helper()
	var b strings.Builder
	for _, n := range names {
		x, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("== " + n + "\n")
		b.Write(x)
	}
	return b.String()
}

// TestScoreboardTiny runs the tiny scoreboard with 1 and 2 workers (identical output),
// sharded and merged (equal to unsharded), and checks the paired differences, their
// pooling over seeds and the strongest baseline against a slow computation from the
// per-episode values of an evaluation redone here.
func TestScoreboardTiny(t *testing.T) {
	clearShardEnv(t)
	file := tinyScoreboard(t)
	tmp := t.TempDir()
	outs := map[string]string{}
	for _, w := range []string{"1", "2"} {
		out := filepath.Join(tmp, "w"+w)
		code, stdout, stderr := runCLI(t, "scoreboard", "-c", file, "--workers", w, "--out", out)
		if code != 0 {
			t.Fatalf("workers %s: exit %d\n%s", w, code, stderr)
		}
		outs[w] = stdout + readAll(t, out, scoreboard.FileJSON, scoreboard.FileCSV, scoreboard.FileCellsCSV)
	}
	if outs["1"] != outs["2"] {
		t.Fatalf("output differs between --workers 1 and 2:\n%s\n----\n%s", outs["1"], outs["2"])
	}
	for _, want := range []string{"gas-spike", "providers", "clients", "pooled", "strongest"} {
		if !strings.Contains(outs["1"], want) {
			t.Errorf("output lacks %q:\n%s", want, outs["1"])
		}
	}

	// Sharded, merged, read back without running: the same table and JSON.
	for i, sh := range []string{"0/2", "1/2"} {
		if code, _, stderr := runCLI(t, "scoreboard", "-c", file, "--shard", sh, "--out", filepath.Join(tmp, "s", string(rune('a'+i)))); code != 0 {
			t.Fatalf("shard %s: exit %d\n%s", sh, code, stderr)
		}
	}
	merged := filepath.Join(tmp, "merged")
	if err := os.MkdirAll(merged, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "runs", "merge", "--out", filepath.Join(merged, "runs.db"),
		filepath.Join(tmp, "s", "a", "runs.db"), filepath.Join(tmp, "s", "b", "runs.db")); code != 0 {
		t.Fatalf("merge: exit %d\n%s", code, stderr)
	}
	for _, format := range []string{"", "--json"} {
		args := []string{"scoreboard", "-c", file, "--out", merged, "--no-run"}
		ref := []string{"scoreboard", "-c", file, "--out", filepath.Join(tmp, "w1"), "--no-run"}
		if format != "" {
			args, ref = append(args, format), append(ref, format)
		}
		_, got, stderr := runCLI(t, args...)
		_, want, _ := runCLI(t, ref...)
		if got != want || got == "" {
			t.Fatalf("merged shards %s differ from unsharded (%s):\n%s\n----\n%s", format, stderr, got, want)
		}
	}

	// --splice replaces the table between this scoreboard's markers in a document, and only
	// that: another scoreboard's table stays.
	other := scoreboard.MarkdownBegin("other") + "\nother table\n" + scoreboard.MarkdownEnd("other") + "\n"
	md := writeFile(t, "doc.md", "# Doc\n\n"+scoreboard.MarkdownBegin("tiny")+"\nold table\n"+scoreboard.MarkdownEnd("tiny")+"\n\nafter\n"+other)
	code, mdOut, stderr := runCLI(t, "scoreboard", "-c", file, "--out", filepath.Join(tmp, "w1"), "--no-run", "--markdown", "--splice", md)
	if code != 0 {
		t.Fatalf("--splice: exit %d %s", code, stderr)
	}
	spliced, _ := os.ReadFile(md)
	if want := "# Doc\n\n" + mdOut + "\nafter\n" + other; string(spliced) != want || !strings.Contains(mdOut, "| gas-spike | compute-marketplace | providers learn | providers |") {
		t.Fatalf("spliced document:\n%s\nwant:\n%s", spliced, want)
	}

	// The report's scoreboard section.
	rep := filepath.Join(tmp, "report")
	if code, _, stderr := runCLI(t, "report", filepath.Join(tmp, "w1"), "--out", rep); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	html, _ := os.ReadFile(filepath.Join(rep, "report.html"))
	for _, want := range []string{"Learning scoreboard", "Scoreboard tiny", "gas-spike", "boulware"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	// The slow computation: redo seed 2 of the providers cell from its stored config.
	var doc scoreboard.Doc
	js, _ := os.ReadFile(filepath.Join(tmp, "w1", scoreboard.FileJSON))
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Runs != 4 || doc.Done != 4 || len(doc.Rows) != 3 {
		t.Fatalf("runs %d done %d rows %d, want 4, 4 and 3 (providers; providers and clients)", doc.Runs, doc.Done, len(doc.Rows))
	}
	st, err := store.OpenExisting(filepath.Join(tmp, "w1", "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, _ := st.List(context.Background())
	b, err := scoreboard.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// per[seed index][baseline] = per-episode (trained, baseline) cumulative returns.
	type pair struct{ x, y []float64 }
	per := make([]map[string]pair, 2)
	for _, r := range runs {
		if r.Index >= 2 { // the providers cell: indexes 0 and 1
			continue
		}
		cfg, err := experiments.Load("stored", []byte(r.Config))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := experiments.Train(context.Background(), cfg, experiments.TrainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		eo := b.EvalOptions(&cfg)
		eo.Trained = tr.Trained
		eo.Out = filepath.Join(tmp, "slow", r.ID)
		ev, err := experiments.Eval(context.Background(), cfg, eo)
		if err != nil {
			t.Fatal(err)
		}
		// Per-episode values from episodes.csv, paired by seed.
		csvb, err := os.ReadFile(filepath.Join(eo.Out, "episodes.csv"))
		if err != nil {
			t.Fatal(err)
		}
		val := map[string]float64{} // "seed,group" -> cumulative return
		for _, l := range strings.Split(strings.TrimSpace(string(csvb)), "\n")[1:] {
			f := strings.Split(l, ",")
			if f[2] == experiments.MetricCumulativeReturn {
				x, err := strconv.ParseFloat(f[3], 64)
				if err != nil {
					t.Fatal(err)
				}
				val[f[0]+","+f[1]] = x
			}
		}
		per[r.Index] = map[string]pair{}
		for _, bl := range []string{"random", "boulware"} {
			var p pair
			for _, seed := range ev.Seeds {
				k := strconv.FormatUint(seed, 10)
				p.x = append(p.x, val[k+",providers"])
				p.y = append(p.y, val[k+",providers/"+bl])
			}
			per[r.Index][bl] = p
		}
	}
	row := doc.Rows[0]
	if row.Setup != "providers" || row.Group != "providers" {
		t.Fatalf("first row %s/%s", row.Setup, row.Group)
	}
	// Strongest: the baseline with the highest mean over seeds and episodes.
	best, bestMean := "", math.Inf(-1)
	for _, bl := range []string{"random", "boulware"} {
		sum, n := 0.0, 0
		for s := range 2 {
			for _, y := range per[s][bl].y {
				sum += y
				n++
			}
		}
		if sum/float64(n) > bestMean {
			best, bestMean = bl, sum/float64(n)
		}
	}
	if row.Strongest != best {
		t.Errorf("strongest %q, slow computation says %q", row.Strongest, best)
	}
	const t2, t1 = 4.302652729749464, 12.706204736174698 // t(0.975, 2) and t(0.975, 1), from a table
	for _, br := range row.Baselines {
		var seedMeans []float64
		for s := range 2 {
			p := per[s][br.Baseline]
			if len(p.x) != 3 || len(p.y) != 3 {
				t.Fatalf("episodes %d %d", len(p.x), len(p.y))
			}
			d := []float64{p.x[0] - p.y[0], p.x[1] - p.y[1], p.x[2] - p.y[2]}
			mean := (d[0] + d[1] + d[2]) / 3
			ss := 0.0
			wins := 0
			for i, v := range d {
				ss += (v - mean) * (v - mean)
				if p.x[i] > p.y[i] {
					wins++
				}
			}
			hw := t2 * math.Sqrt(ss/2) / math.Sqrt(3)
			got := br.Seeds[s].Diff[experiments.MetricCumulativeReturn]
			if !close(float64(got.Mean), mean) || !close(float64(got.CI95[0]), mean-hw) || !close(float64(got.CI95[1]), mean+hw) || got.Wins != wins || got.N != 3 {
				t.Errorf("%s seed %d: got %+v, slow: mean %g ± %g, wins %d", br.Baseline, s+1, got, mean, hw, wins)
			}
			seedMeans = append(seedMeans, mean)
		}
		m := (seedMeans[0] + seedMeans[1]) / 2
		hw := t1 * math.Abs(seedMeans[0]-seedMeans[1]) / math.Sqrt2 / math.Sqrt2 // sd of two values = |a-b|/sqrt2
		got := br.Pooled[experiments.MetricCumulativeReturn]
		if !close(float64(got.Mean), m) || !close(float64(got.CI95[0]), m-hw) || got.Episodes != 6 || got.Seeds != 2 {
			t.Errorf("%s pooled: got %+v, slow: %g ± %g", br.Baseline, got, m, hw)
		}
	}
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// TestScoreboardBadFile checks that a bad scoreboard file is one line naming the file,
// the line and the key, with exit code 2.
func TestScoreboardBadFile(t *testing.T) {
	for _, tc := range []struct{ src, line, key string }{
		{"scenarios: [baseline, gas-spik]\nseeds: [1]\n", ":1:", "scenarios"},
		{"scenarios: [baseline]\nseeds: [1, 1]\n", ":2:", "seeds"},
		{"scenarios: [baseline]\nseeds: [1]\neval:\n  episodes: 1\n", ":4:", "eval.episodes"},
		{"scenarios: [baseline]\nseeds: [1]\nroles: [sellers]\n", ":3:", "roles"},
		{"scenarios: [baseline]\nseeds: [1]\nroles: [clients]\neval:\n  baselines: [cost-plus]\n", ":5:", "eval.baselines"},
		{"scenarios: [baseline]\nseeds: [1]\nepisodes: 3\n", ":3:", "episodes"},
		{"scenarios: [baseline]\n", ":1:", "seeds"},
	} {
		p := writeFile(t, "bad.yaml", tc.src)
		code, stdout, stderr := runCLI(t, "scoreboard", "-c", p, "--out", t.TempDir())
		wantOneErrorLine(t, code, stdout, stderr, p+tc.line, tc.key)
	}
}

// cancelOn is a writer that cancels a context once it has seen a string.
type cancelOn struct {
	buf    strings.Builder
	what   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.what) {
		c.cancel()
	}
	return len(p), nil
}

// TestScoreboardInterrupted: a scoreboard interrupted after its first run exits 130 with
// the finished run kept; --resume runs the rest, and the result equals an uninterrupted
// scoreboard's, byte for byte.
func TestScoreboardInterrupted(t *testing.T) {
	clearShardEnv(t)
	file := tinyScoreboard(t)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "sb")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errOut := &cancelOn{what: "[1/4] done", cancel: cancel}
	var stdout strings.Builder
	code := run(ctx, &IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: errOut}, []string{"scoreboard", "-c", file, "--out", out})
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d: %s", code, exitInterrupted, errOut.buf.String())
	}
	if !strings.Contains(stdout.String(), "1 done") && !strings.Contains(stdout.String(), "2 done") {
		t.Errorf("the partial table does not count the finished runs: %s", stdout.String())
	}
	code, resumed, stderr := runCLI(t, "scoreboard", "-c", file, "--out", out, "--resume", "--json")
	if code != 0 {
		t.Fatalf("resume: exit %d %s", code, stderr)
	}
	_, fresh, _ := runCLI(t, "scoreboard", "-c", file, "--out", filepath.Join(tmp, "fresh"), "--json")
	if resumed != fresh {
		t.Fatalf("interrupted and resumed differs from uninterrupted:\n%s\n----\n%s", resumed, fresh)
	}
}
