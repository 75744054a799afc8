package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRunsFromBeforeTheReservationAnchor: a run directory written before
// env.actions.reservation_anchor existed (its config.yaml has no such key) anchored every
// offer at the incoming price. LoadRunConfig reads it that way, so it resumes under the
// checkpoint's config hash, while a config a user writes without the key gets today's
// default.
func TestRunsFromBeforeTheReservationAnchor(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Env.Actions.ReservationAnchor = false
	cfg.Training.Iterations = 2
	dir := t.TempDir()
	trainInterruptedAfter(t, cfg, dir, 1)
	path, _ := dropConfigLine(t, dir, "reservation_anchor: false")
	if c, err := LoadFile(path); err != nil || !c.Env.Actions.ReservationAnchor {
		t.Fatalf("LoadFile: reservation_anchor %v (%v), want today's default, true", c.Env.Actions.ReservationAnchor, err)
	}
	rc, err := LoadRunConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Env.Actions.ReservationAnchor {
		t.Fatal("LoadRunConfig of a run without the key: reservation_anchor true, want false")
	}
	if _, err := Train(context.Background(), rc, TrainOptions{Out: dir, Resume: true}); err != nil {
		t.Fatalf("resuming the old run: %v", err)
	}
	// Under today's default the checkpoint is refused: it learned the other anchor.
	today := rc
	today.Env.Actions.ReservationAnchor = true
	_, err = Train(context.Background(), today, TrainOptions{Out: dir, Resume: true})
	t.Logf("resuming under reservation_anchor: true: %v", err)
	if err == nil || !strings.Contains(err.Error(), "config_hash") {
		t.Fatalf("resumed a run trained with the incoming anchor under the reservation anchor: %v", err)
	}
}

// dropConfigLine makes the run in dir look as if an older hivegym wrote it: it removes
// the line "key: value" (line) from its config.yaml, as a key that did not exist yet
// would be missing. It returns the file's path and its contents before.
func dropConfigLine(t *testing.T, dir, line string) (path string, before []byte) {
	t.Helper()
	path = filepath.Join(dir, "config.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old := regexp.MustCompile(`(?m)^\s*`+regexp.QuoteMeta(line)+`\n`).ReplaceAll(b, nil)
	if bytes.Equal(old, b) {
		t.Fatalf("config.yaml has no %q line to drop", line)
	}
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, b
}
