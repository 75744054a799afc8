package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/tracecheck"
)

func TestSimulateJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "simulate", "--ticks", "200", "--json", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	for _, k := range []string{"deals", "deal_rate", "mean_price_per_gpu_hour_usd", "gpu_utilization", "timeouts",
		"collateral_missing", "slashes", "gas_spent_eth", "gas_spent_usd", "providers", "clients"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("--json lacks %q", k)
		}
	}
	if rep["ticks"].(float64) != 200 || rep["seed"].(float64) != 3 || rep["deals"].(float64) < 50 {
		t.Errorf("report %v", rep)
	}
	prov := rep["providers"].(map[string]any)
	if prov["agents"].(float64) != 100 {
		t.Errorf("providers %v", prov)
	}
	if errOut != "" {
		t.Errorf("stderr not empty without a terminal: %q", errOut)
	}
}

func TestSimulateText(t *testing.T) {
	code, out, _ := runCLI(t, "simulate", "--ticks", "100", "--scenario", "heatwave")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, s := range []string{"deal rate", "mean price per GPU-hour", "GPU utilization", "timeouts", "collateral_missing",
		"slashes", "gas spent", "providers", "clients", "scenario heatwave"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestSimulateTraceReplay(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.jsonl")
	if code, _, errOut := runCLI(t, "simulate", "--ticks", "150", "--trace", trace); code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tracecheck.Check(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "replay", trace)
	if code != 0 || !strings.Contains(out, "the replay matches") {
		t.Fatalf("replay: exit %d: %s %s", code, out, errOut)
	}
	// Tamper with one ledger amount: replay names the line and exits 1.
	lines := strings.Split(string(b), "\n")
	n := 0
	for i, l := range lines {
		if strings.Contains(l, `"kind":"ledger"`) && strings.Contains(l, `"op":"release"`) {
			lines[i] = strings.Replace(l, `"amount":`, `"amount":7`, 1)
			n = i + 1
			break
		}
	}
	tampered := filepath.Join(dir, "tampered.jsonl")
	if err := os.WriteFile(tampered, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "replay", tampered)
	if code != exitFailed || out != "" || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("tampered: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if want := ":" + itoa(n) + ": replay differs: ledger line: amount"; !strings.Contains(errOut, want) {
		t.Errorf("stderr %q does not contain %q", errOut, want)
	}
	// A file that is not a trace is bad input.
	junk := filepath.Join(dir, "junk.jsonl")
	if err := os.WriteFile(junk, []byte("not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "replay", junk)
	wantOneErrorLine(t, code, out, errOut, "junk.jsonl:1", "not a trace")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestSimulateBadConfig(t *testing.T) {
	provider := func(count, model string) string {
		return "market:\n  providers:\n    - name: p\n      count: " + count + "\n      gpu_model: " + model + `
      gpus: 1
      cpu_cores: 192
      ram_gb: 2048
      idle_power_w: 60
      capex_usd_per_hour: 0.1
      locations: [texas]
      failures_per_hour: {min: 0, max: 0.01}
      observation: full
      wallet: {usdc: {min: 1, max: 2}, eth: {min: 0.01, max: 0.02}, hive: {min: 0, max: 0}}
`
	}
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"negative count", provider("-1", "h100-sxm"), []string{"c.yaml:4", "market.providers[0].count", "-1"}},
		{"unknown GPU model", provider("5", "b200"), []string{"c.yaml:5", "market.providers[0].gpu_model", `unknown GPU model "b200"`}},
		{"inconsistent deadlines", "market:\n  validation:\n    delay_ticks: 400\n", []string{"c.yaml:3", "market.validation.delay_ticks", "arbitration_window"}},
		{"ticks per hour", "scheme:\n  ticks_per_hour: 60\n", []string{"c.yaml:2", "scheme.ticks_per_hour"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := writeFile(t, "c.yaml", c.yaml)
			code, out, errOut := runCLI(t, "simulate", "-c", cfg, "--ticks", "10")
			wantOneErrorLine(t, code, out, errOut, c.want...)
		})
	}
	code, out, errOut := runCLI(t, "simulate", "--ticks", "-3")
	wantOneErrorLine(t, code, out, errOut, "--ticks")
	code, out, errOut = runCLI(t, "simulate", "--scenario", "meteor")
	wantOneErrorLine(t, code, out, errOut, "meteor")
}

// TestSimulateInterrupted: a cancelled context (Ctrl-C) stops at a tick boundary, the
// trace gets its final line, the statistics so far are printed, and the exit code is 130.
func TestSimulateInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	trace := filepath.Join(t.TempDir(), "t.jsonl")
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := run(ctx, ios, []string{"simulate", "--trace", trace, "--json"})
	if code != exitInterrupted || !strings.Contains(errOut.String(), "interrupted") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep["interrupted"] != true {
		t.Fatalf("stdout %q: %v", out.String(), err)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"kind":"final","interrupted":true`)) {
		t.Fatal("the trace has no final line marked interrupted")
	}
	if _, err := tracecheck.Check(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "replay", trace); code != 0 {
		t.Fatalf("replay of the interrupted trace: exit %d: %s", code, errOut)
	}
}
