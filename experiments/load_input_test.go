package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadErr loads src and returns its single *Error, failing the test otherwise.
func loadErr(t *testing.T, src string) *Error {
	t.Helper()
	_, err := Load("c.yaml", []byte(src))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Load(%q) = %v, want an *Error", src, err)
	}
	return e
}

// TestLoadOneDocument: the decoder stops after the first YAML document, so a second
// one used to be ignored without a word (its keys silently not applied).
func TestLoadOneDocument(t *testing.T) {
	e := loadErr(t, "seed: 1\n---\nseed: 2\n")
	if e.Line != 2 || !strings.Contains(e.Msg, "one YAML document") {
		t.Errorf("second document: %v, want line 2 and 'one YAML document'", e)
	}
	e = loadErr(t, "seed: 1\n---\n[\n")
	if e.Line != 3 {
		t.Errorf("broken second document: %v, want line 3", e)
	}
	// A trailing empty document and a leading '---' are one document.
	for _, src := range []string{"seed: 4\n---\n", "---\nseed: 4\n", "seed: 4\n...\n"} {
		c, err := Load("c.yaml", []byte(src))
		if err != nil || c.Seed != 4 {
			t.Errorf("Load(%q) = seed %d, %v; want seed 4", src, c.Seed, err)
		}
	}
}

// TestLoadBadTimeHasLine: world.start is a time.Time, whose parse error the YAML decoder
// reports without a line; the loader must name the key and its line like any other.
func TestLoadBadTimeHasLine(t *testing.T) {
	for _, v := range []string{"yesterday", "2024-01-01 00:00:00+00:00", "2024-13-01T00:00:00Z"} {
		e := loadErr(t, "seed: 1\nworld:\n  start: "+v+"\n")
		if e.Line != 3 || e.Path != "world.start" || !strings.Contains(e.Msg, "RFC 3339") {
			t.Errorf("start %q: %v (line %d, path %q), want line 3, world.start, RFC 3339", v, e, e.Line, e.Path)
		}
	}
	c, err := Load("c.yaml", []byte("world:\n  start: 2023-06-01T12:00:00+02:00\n"))
	if err != nil || c.World.Start.UTC().Hour() != 10 {
		t.Errorf("a valid start: %v, %v", c.World.Start, err)
	}
}

// TestLocate: a config changed after loading and validated again gets its problems
// located in the file like Load's.
func TestLocate(t *testing.T) {
	src := "seed: 1\nworld:\n  scenario:\n    heatwave: {location: nowhere}\n"
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadFile(p)
	if err != nil {
		t.Fatalf("the file is valid under the baseline scenario: %v", err)
	}
	cfg.World.Scenario.Name = "heatwave"
	err = Locate(p, []byte(src), cfg.Validate())
	var e *Error
	if !errors.As(err, &e) || e.File != p || e.Line != 4 || e.Path != "world.scenario.heatwave.location" {
		t.Fatalf("Locate = %v, want %s:4 at world.scenario.heatwave.location", err, p)
	}
	if Locate(p, []byte(src), nil) != nil {
		t.Error("Locate of nil is not nil")
	}
}
