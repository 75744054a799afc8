package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// TestLoadOneDocument: a sweep file (or a base config it names) with a second YAML
// document is an error at the line it starts on; the decoder used to stop after the
// first document and drop the rest silently.
func TestLoadOneDocument(t *testing.T) {
	const sw = "name: s\ngrid:\n  metrics.eta: [0.1, 0.2]\nseeds: [1]\n"
	base := filepath.Join(t.TempDir(), "base.yaml")
	if err := os.WriteFile(base, []byte("seed: 3\n---\nseed: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, src, file string
		line            int
	}{
		{"sweep file", sw + "---\nname: t\n", "s.yaml", 5},
		{"base file", "base: " + base + "\n" + sw, base, 2},
	} {
		_, err := Load("s.yaml", []byte(tc.src))
		var e *experiments.Error
		if !errors.As(err, &e) || e.File != tc.file || e.Line != tc.line || !strings.Contains(e.Msg, "one YAML document") {
			t.Errorf("%s: Load = %v, want %s:%d and 'one YAML document'", tc.name, err, tc.file, tc.line)
		}
	}
	if s, err := Load("s.yaml", []byte(sw+"---\n")); err != nil || len(s.plan(Shard{})) != 2 {
		t.Errorf("a trailing empty document: %v", err)
	}
}
