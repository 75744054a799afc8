package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// runCLI runs the CLI in-process and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := run(context.Background(), ios, args)
	return code, out.String(), errOut.String()
}

// writeFile writes content to a file in a fresh temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantOneErrorLine checks the bad-input contract of specs/cli.md: exit 2, nothing on
// stdout, one line on stderr that contains every fragment, and no Go stack trace.
func wantOneErrorLine(t *testing.T, code int, stdout, stderr string, fragments ...string) {
	t.Helper()
	if code != exitBadInput {
		t.Errorf("exit code %d, want %d (stderr %q)", code, exitBadInput, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %q", stdout)
	}
	if n := strings.Count(stderr, "\n"); n != 1 {
		t.Errorf("stderr has %d lines, want 1: %q", n, stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(stderr, f) {
			t.Errorf("stderr %q does not contain %q", stderr, f)
		}
	}
	if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, ".go:") {
		t.Errorf("stderr looks like a stack trace: %q", stderr)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version", "--json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Go == "" {
		t.Fatalf("version --json: code %d, out %q", code, out)
	}
}

func TestConfigDefault(t *testing.T) {
	code, out, _ := runCLI(t, "config", "default")
	if code != 0 || out != string(experiments.DefaultYAML()) {
		t.Fatalf("config default: code %d, output differs from the embedded default", code)
	}
	p := writeFile(t, "c.yaml", out)
	code, out, stderr := runCLI(t, "config", "validate", p)
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("validate(default): code %d, out %q, err %q", code, out, stderr)
	}
}

func TestConfigValidateUnknownKey(t *testing.T) {
	p := writeFile(t, "bad.yaml", "seed: 7\nmetrics:\n  eta: 0.1\n  sharpness: 3\n")
	code, out, stderr := runCLI(t, "config", "validate", p)
	wantOneErrorLine(t, code, out, stderr, p+":4:", `unknown key "sharpness"`, "metrics.sharpness")
}

func TestUnknownCommandAndFlag(t *testing.T) {
	code, out, stderr := runCLI(t, "frobnicate")
	wantOneErrorLine(t, code, out, stderr, "unknown command")
	code, out, stderr = runCLI(t, "metrics", "--returns", "x.csv", "--bogus")
	wantOneErrorLine(t, code, out, stderr, "unknown flag: --bogus")
	code, out, stderr = runCLI(t, "config", "frob")
	wantOneErrorLine(t, code, out, stderr, `unknown command "frob"`)
	code, out, stderr = runCLI(t, "config", "validate")
	wantOneErrorLine(t, code, out, stderr, "accepts 1 arg")
}
