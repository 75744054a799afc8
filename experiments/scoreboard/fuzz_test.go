package scoreboard

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// FuzzLoad: any input either loads into a board with a sweep, or is an
// *experiments.Error naming the file; it never panics.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("scenarios: [baseline]\nseeds: [1]\n"))
	f.Add([]byte("name: x\nscenarios: [gas-spike, heatwave]\nschemes: [coophive-apiary]\nroles: [both]\nlearner: dsr\nseeds: {count: 2, start: 5}\neval: {episodes: 3, seed: 1, baselines: [random]}\n"))
	f.Add([]byte("scenarios: [baseline]\nseeds: [1]\neval:\n  baselines: [budget]\nroles: [providers]\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("scenarios: [baseline, baseline]\n"))
	f.Add([]byte("base: /nonexistent.yaml\nscenarios: [baseline]\nseeds: [1]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if strings.Contains(string(in), "base") {
			return // a base is a file on disk: not this target's business
		}
		b, err := Load("f.yaml", in)
		if err != nil {
			var e *experiments.Error
			if !errors.As(err, &e) || e.File != "f.yaml" {
				t.Fatalf("error %v (%T) is not an *experiments.Error naming f.yaml", err, err)
			}
			return
		}
		if b.Sweep == nil || b.Sweep.NumRuns() != len(b.Cells())*len(b.Seeds) {
			t.Fatalf("board without its sweep: %+v", b)
		}
	})
}

// FuzzSplice: on any document, Splice either refuses (naming the markers) or keeps the
// text before the first begin marker line and after the end marker line that follows it,
// and puts the table between them; it never panics.
func FuzzSplice(f *testing.F) {
	begin, end := MarkdownBegin("s"), MarkdownEnd("s")
	f.Add("a\n" + begin + "\nold\n" + end + "\nb\n")
	f.Add(begin + "\r\n" + end)
	f.Add(begin + "\r\nx\r\n" + end + "\r\nafter\r\n")
	f.Add("`" + begin + "`\n" + begin + "\n" + end + "\n" + end + "\n")
	f.Add(end + "\n" + begin + "\n")
	f.Add("")
	table := begin + "\nT\n" + end + "\n"
	f.Fuzz(func(t *testing.T, doc string) {
		got, err := Splice(doc, "s", table)
		if err != nil {
			if !strings.Contains(err.Error(), begin) {
				t.Fatalf("error %v does not name the markers", err)
			}
			return
		}
		// The slow model: split into lines, find the marker lines by equality.
		lines := strings.SplitAfter(doc, "\n")
		bare := func(l string) string { return strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r") }
		i := slices.IndexFunc(lines, func(l string) bool { return bare(l) == begin })
		j := -1
		if i >= 0 {
			if k := slices.IndexFunc(lines[i:], func(l string) bool { return bare(l) == end }); k >= 0 {
				j = i + k
			}
		}
		if j < 0 {
			t.Fatalf("spliced %q without markers", doc)
		}
		want := strings.Join(lines[:i], "") + table + strings.Join(lines[j+1:], "")
		if got != want {
			t.Fatalf("Splice(%q) = %q, want %q", doc, got, want)
		}
	})
}
