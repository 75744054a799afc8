package report

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// cancelAfter is a context whose Err turns to Canceled after n calls: a Ctrl-C in the
// middle of drawing the figures.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n <= 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		names = append(names, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// TestInterruptedReportLeavesNoPartialOutput: Ctrl-C during report used to leave PNGs
// and no report.html. An interrupted report leaves the output directory as it was,
// with no report, or with the previous one whole.
func TestInterruptedReportLeavesNoPartialOutput(t *testing.T) {
	dir := t.TempDir()
	run := writeFixture(t, dir, defaultFixture("a", 1))
	out := filepath.Join(dir, "out")
	full, err := Generate(context.Background(), []string{run}, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Figures) < 3 {
		t.Fatalf("fixture report has %d figures; the test needs several to interrupt between", len(full.Figures))
	}
	before := listDir(t, out)
	html, _ := os.ReadFile(full.Report)

	fresh := filepath.Join(dir, "fresh")
	for _, n := range []int{2, 5, 8} {
		// Into an existing report: it stays as it was.
		_, err := Generate(&cancelAfter{Context: context.Background(), n: n}, []string{run}, out, Options{Title: "other"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("n=%d: err %v, want context.Canceled", n, err)
		}
		if got := listDir(t, out); !slices.Equal(got, before) {
			t.Errorf("n=%d: after an interrupted report, out holds %v, want %v", n, got, before)
		}
		if b, _ := os.ReadFile(full.Report); string(b) != string(html) {
			t.Errorf("n=%d: report.html changed", n)
		}
		// Into a new directory: nothing but the directory.
		_, err = Generate(&cancelAfter{Context: context.Background(), n: n}, []string{run}, fresh, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("n=%d: err %v, want context.Canceled", n, err)
		}
		if got := listDir(t, fresh); !slices.Equal(got, []string{"."}) {
			t.Errorf("n=%d: a fresh interrupted report left %v", n, got)
		}
	}
	// And a finished one replaces the old report whole.
	if _, err := Generate(context.Background(), []string{run}, out, Options{Title: "other"}); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, out); !slices.Equal(got, before) {
		t.Errorf("after a second report, out holds %v, want %v", got, before)
	}
}
