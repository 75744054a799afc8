package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// metricsJSON runs `hivegym metrics --json` on a CSV with the given content and decodes
// the document into raw values, so that "NaN"/"+Inf" strings are visible as such.
func metricsJSON(t *testing.T, csv string, extra ...string) map[string]json.RawMessage {
	t.Helper()
	p := writeFile(t, "r.csv", csv)
	args := append([]string{"metrics", "--returns", p, "--periods-per-year", "252", "--json"}, extra...)
	code, out, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	return m
}

func num(t *testing.T, m map[string]json.RawMessage, key string) float64 {
	t.Helper()
	var x float64
	if err := json.Unmarshal(m[key], &x); err != nil {
		t.Fatalf("%s = %s is not a number", key, m[key])
	}
	return x
}

func TestMetricsJSONKeysAndValues(t *testing.T) {
	m := metricsJSON(t, "return\n0.1\nNaN\n-0.05\n")
	keys := []string{"n", "cumulative_return", "annual_return", "annual_volatility", "sharpe", "sortino",
		"downside_risk", "max_drawdown", "calmar", "dsr_final"}
	if len(m) != len(keys) {
		t.Errorf("got %d keys, want %d: %v", len(m), len(keys), m)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	// By hand, with the NaN row dropped except where rows are counted:
	// cumulative = 1.1 * 0.95 - 1 = 0.045; N = 3 rows.
	// mean = (0.1 - 0.05)/2 = 0.025; deviations ±0.075, sample var = 2*0.075²/1 = 0.01125.
	// Sharpe = 0.025 / sqrt(0.01125) * sqrt(252).
	// Downside: min(r,0)² over the 2 valid rows = (0 + 0.0025)/2 = 0.00125; dr = sqrt(0.00125)*sqrt(252).
	// Sortino = mean * 252 / dr. Wealth 1 -> 1.1 -> 1.045: max drawdown = 1.045/1.1 - 1 = -0.05.
	// CAGR = 1.045^(252/3) - 1; Calmar = CAGR / 0.05.
	cagr := math.Pow(1.045, 252.0/3) - 1
	dr := math.Sqrt(0.00125) * math.Sqrt(252)
	want := map[string]float64{
		"n":                 3,
		"cumulative_return": 0.045,
		"annual_return":     cagr,
		"annual_volatility": math.Sqrt(0.01125) * math.Sqrt(252),
		"sharpe":            0.025 / math.Sqrt(0.01125) * math.Sqrt(252),
		"downside_risk":     dr,
		"sortino":           0.025 * 252 / dr,
		"max_drawdown":      -0.05,
		"calmar":            cagr / 0.05,
	}
	for k, w := range want {
		if got := num(t, m, k); math.Abs(got-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %.12g, want %.12g", k, got, w)
		}
	}
}

func TestMetricsEdgeCases(t *testing.T) {
	cases := []struct {
		name, csv, key, want string
	}{
		{"constant series has +Inf Sharpe", "0.01\n0.01\n0.01\n0.01\n", "sharpe", `"+Inf"`},
		{"constant loss has -Inf Sharpe", "-0.01\n-0.01\n-0.01\n", "sharpe", `"-Inf"`},
		{"no loss has +Inf Sortino", "0.01\n0.02\n0.03\n", "sortino", `"+Inf"`},
		{"single row has NaN Sharpe", "0.01\n", "sharpe", `"NaN"`},
		{"no drawdown has NaN Calmar", "0.01\n0.02\n", "calmar", `"NaN"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := metricsJSON(t, c.csv)
			if got := string(m[c.key]); got != c.want {
				t.Errorf("%s = %s, want %s", c.key, got, c.want)
			}
		})
	}
}

func TestMetricsTable(t *testing.T) {
	p := writeFile(t, "r.csv", "0.01\n-0.02\n0.03\n")
	code, out, stderr := runCLI(t, "metrics", "--returns", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"3 rows, 0 missing", "Sharpe ratio", "max drawdown", "-2.00%"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestMetricsBadInput(t *testing.T) {
	bad := writeFile(t, "bad.csv", "return\n0.01\nabc\n")
	code, out, stderr := runCLI(t, "metrics", "--returns", bad)
	wantOneErrorLine(t, code, out, stderr, bad+":3:", `not a number: "abc"`)

	code, out, stderr = runCLI(t, "metrics", "--returns", "/nonexistent/r.csv")
	wantOneErrorLine(t, code, out, stderr, "/nonexistent/r.csv", "no such file")

	code, out, stderr = runCLI(t, "metrics")
	wantOneErrorLine(t, code, out, stderr, `"returns" not set`)

	ok := writeFile(t, "ok.csv", "0.01\n")
	code, out, stderr = runCLI(t, "metrics", "--returns", ok, "--periods-per-year", "0")
	wantOneErrorLine(t, code, out, stderr, "--periods-per-year must be a positive number")
	code, out, stderr = runCLI(t, "metrics", "--returns", ok, "--eta", "abc")
	wantOneErrorLine(t, code, out, stderr, "invalid argument", "--eta")
}

// TestMetricsEmptyAndHuge: an empty or header-only file exited 0 with NaNs; a huge
// cumulative return printed 130 digits; 1e400 said "not a number".
func TestMetricsEmptyAndHuge(t *testing.T) {
	for _, src := range []string{"", "return\n"} {
		p := writeFile(t, "r.csv", src)
		code, out, stderr := runCLI(t, "metrics", "--returns", p)
		wantOneErrorLine(t, code, out, stderr, p, "no returns to score")
	}
	p := writeFile(t, "r.csv", "return\n0.1\n1e400\n")
	code, out, stderr := runCLI(t, "metrics", "--returns", p)
	wantOneErrorLine(t, code, out, stderr, p+":3:", "out of range")

	// 200 periods of +300%: the cumulative return is 4^200 - 1, about 2.58e120.
	p = writeFile(t, "r.csv", "return\n"+strings.Repeat("3\n", 200))
	code, out, stderr = runCLI(t, "metrics", "--returns", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 80 && !strings.Contains(line, p) {
			t.Errorf("table line of %d characters: %q", len(line), line)
		}
	}
	if !strings.Contains(out, "e+122%") {
		t.Errorf("cumulative return not in exponent form (want 2.582e+122%%):\n%s", out)
	}
}
