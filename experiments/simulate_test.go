package experiments

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/tracecheck"
)

func simulateTrace(t *testing.T, cfg Config, ticks int) (*SimulateResult, string) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Simulate(context.Background(), cfg, SimulateOptions{Ticks: ticks, Trace: &buf})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return res, p
}

func TestSimulateDefault(t *testing.T) {
	res, path := simulateTrace(t, DefaultConfig(), 300)
	s := res.Stats
	if res.Ticks != 300 || res.Interrupted || res.Agents != 1000 || res.Providers.Agents != 100 || res.Clients.Agents != 900 {
		t.Fatalf("result %+v", res)
	}
	if s.Deals < 100 || s.Completed < 50 || !(s.DealRate() > 0 && s.DealRate() <= 1) || s.GasTxs == 0 || s.ElecUSD <= 0 {
		t.Errorf("implausible statistics: %+v", s)
	}
	if !(s.MeanGPUHourUSD() > 0.1 && s.MeanGPUHourUSD() < 10) {
		t.Errorf("mean price per GPU-hour %g USD, outside the catalog's rent ranges", s.MeanGPUHourUSD())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := tracecheck.Check(f)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Threads != int(s.Threads) || rep.LastTick != 299 {
		t.Errorf("trace: %+v", rep)
	}
}

func TestReplay(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Seed = 42
	_, path := simulateTrace(t, cfg, 120)
	res, err := Replay(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Seed != 42 || res.Ticks != 120 || res.Lines < 1000 {
		t.Errorf("replay result %+v", res)
	}
}

func TestReplayTampered(t *testing.T) {
	_, path := simulateTrace(t, DefaultConfig(), 120)
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	target := -1
	for i, l := range lines {
		if strings.Contains(l, `"kind":"ledger"`) && strings.Contains(l, `"op":"lock"`) {
			lines[i] = strings.Replace(l, `"amount":`, `"amount":9`, 1)
			target = i + 1
			break
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Replay(context.Background(), path)
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("tampered trace: got %v, want a mismatch", err)
	}
	if me.Line != target || !strings.Contains(me.What, "amount") {
		t.Errorf("mismatch %v, want line %d and the amount named", me, target)
	}
	// The checker, which reads only the trace, fails it too.
	if _, err := tracecheck.Check(strings.NewReader(strings.Join(lines, "\n"))); err == nil {
		t.Error("the trace checker passed the tampered trace")
	}
}

func TestReplayNotATrace(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage.jsonl":   "hello\n",
		"nogenesis.jsonl": `{"tick":0,"kind":"message"}` + "\n",
		"badconfig.jsonl": `{"tick":0,"kind":"genesis","seed":1,"ticks":5,"policy":"random","config":"sede: 3\n"}` + "\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Replay(context.Background(), p)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: got %v, want a bad-input *Error", name, err)
		}
	}
	_, err := Replay(context.Background(), filepath.Join(dir, "missing.jsonl"))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Errorf("missing file: got %v", err)
	}
}

// TestSimulateInterrupted: cancelling stops the run at a tick boundary, writes the final
// line marked interrupted, and the partial trace checks out and replays.
func TestSimulateInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf bytes.Buffer
	res, err := Simulate(ctx, DefaultConfig(), SimulateOptions{Ticks: 500, Trace: &buf,
		Progress: func(done, _ int) {
			if done == 40 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) || res == nil || !res.Interrupted || res.Ticks != 40 {
		t.Fatalf("got %+v, %v; want an interrupted result of 40 ticks", res, err)
	}
	b := buf.Bytes()
	last := b[bytes.LastIndexByte(b[:len(b)-1], '\n')+1:]
	if !bytes.Contains(last, []byte(`"kind":"final","interrupted":true`)) {
		t.Fatalf("last line %s", last)
	}
	if _, err := tracecheck.Check(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "t.jsonl")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := Replay(context.Background(), p); err != nil || r.Ticks != 40 {
		t.Fatalf("replay of the interrupted trace: %+v, %v", r, err)
	}
}

func TestConfigCrossErrors(t *testing.T) {
	cases := []struct {
		name, src, path string
		line            int
	}{
		{"ticks per hour", "world:\n  tick: 1m\n", "scheme.ticks_per_hour", 0},
		{"unknown GPU", "market:\n  providers:\n    - {name: p, count: 5, gpu_model: b200, gpus: 1, cpu_cores: 16, ram_gb: 64, locations: [texas], observation: full}\n",
			"market.providers[0].gpu_model", 3},
		{"deadlines", "market:\n  validation:\n    delay_ticks: 400\n", "market.validation.delay_ticks", 3},
		{"negative count", "market:\n  discovery:\n    candidates: -2\n", "market.discovery.candidates", 3},
	}
	for _, c := range cases {
		_, err := Load("f.yaml", []byte(c.src))
		var ce *Error
		if !errors.As(err, &ce) || ce.Path != c.path || (c.line > 0 && ce.Line != c.line) {
			t.Errorf("%s: got %v, want f.yaml:%d: %s", c.name, err, c.line, c.path)
		}
	}
}
