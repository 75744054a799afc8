package scoreboard

import (
	"encoding/json"
	"fmt"
	"io"

	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/internal/jsonfloat"
)

// Files the scoreboard writes next to its run store.
const (
	FileJSON     = "scoreboard.json"
	FileCSV      = "scoreboard.csv"
	FileCellsCSV = "cells.csv"
)

// MarkdownBegin and MarkdownEnd are the markers around the table of the scoreboard named
// name in a Markdown file, so that one file (docs/training.md) can hold the tables of
// several scoreboards, each spliced by its own.
func MarkdownBegin(name string) string { return "<!-- scoreboard:begin " + name + " -->" }

// MarkdownEnd: see MarkdownBegin.
func MarkdownEnd(name string) string { return "<!-- scoreboard:end " + name + " -->" }

// setupTitle is a setup's name in tables.
func setupTitle(s string) string {
	switch s {
	case SetupProviders:
		return "providers learn"
	case SetupClients:
		return "clients learn"
	case SetupBoth:
		return "both learn"
	}
	return s
}

// pp formats a difference of cumulative returns in percentage points.
func pp(x jsonfloat.Float) string {
	if s, ok := jsonfloat.NonFinite(float64(x)); ok {
		return s
	}
	return strconv.FormatFloat(100*float64(x), 'f', 3, 64)
}

func g3(x jsonfloat.Float) string {
	if s, ok := jsonfloat.NonFinite(float64(x)); ok {
		return s
	}
	return strconv.FormatFloat(float64(x), 'g', 3, 64)
}

func fmtMetric(m string, x jsonfloat.Float) string {
	if m == experiments.MetricCumulativeReturn {
		return pp(x)
	}
	return g3(x)
}

func ci(m string, mean jsonfloat.Float, c [2]jsonfloat.Float) string {
	return fmt.Sprintf("%s [%s, %s]", fmtMetric(m, mean), fmtMetric(m, c[0]), fmtMetric(m, c[1]))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// WriteText writes the readable table: per learning group of each cell, its strongest
// baseline and, per seed and pooled, the paired differences and wins.
func (d *Doc) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "scoreboard %s: %d runs (%d done, %d failed, %d pending); %d held-out episodes from seed %d per policy\n",
		d.Scoreboard, d.Runs, d.Done, d.Failed, d.Pending, d.Episodes, d.EvalSeed)
	fmt.Fprintf(w, "trained minus strongest baseline, paired by episode: cum. return in percentage points, Sharpe; [95%% CI]; pooled = mean over seeds, t interval over seeds\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tscheme\tsetup\tgroup\tstrongest\tseed\tΔ cum. return (pp)\tΔ Sharpe\twins\ttarget\t")
	for _, r := range d.Rows {
		b := r.StrongestRow()
		lead := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", r.Scenario, r.Scheme, r.Setup, r.Group, orDash(r.Strongest))
		if b == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t%s\t\n", lead, yesNo(r.Meets))
			continue
		}
		for _, s := range b.Seeds {
			if s.Diff == nil {
				fmt.Fprintf(tw, "%s\t%d\t%s\t\t\t\t\n", lead, s.Seed, s.Status)
				continue
			}
			cr, sh := s.Diff[experiments.MetricCumulativeReturn], s.Diff[experiments.MetricSharpe]
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d/%d\t\t\n", lead, s.Seed,
				ci(experiments.MetricCumulativeReturn, cr.Mean, cr.CI95), ci(experiments.MetricSharpe, sh.Mean, sh.CI95), cr.Wins, cr.N)
		}
		cr, sh := b.Pooled[experiments.MetricCumulativeReturn], b.Pooled[experiments.MetricSharpe]
		fmt.Fprintf(tw, "%s\tpooled\t%s\t%s\t%d/%d\t%s\t\n", lead,
			ci(experiments.MetricCumulativeReturn, cr.Mean, cr.CI95), ci(experiments.MetricSharpe, sh.Mean, sh.CI95), cr.Wins, cr.Episodes, yesNo(r.Meets))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteMarkdown writes the pooled results as a Markdown table between the scoreboard's
// MarkdownBegin and MarkdownEnd markers, for docs/training.md.
func (d *Doc) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString(MarkdownBegin(d.Scoreboard) + "\n")
	fmt.Fprintf(&b, "Scoreboard `%s`: %d of %d runs done; seeds %s; %d held-out episodes (seed %d) per policy. "+
		"Δ is trained minus the strongest baseline, paired by episode, pooled over seeds (mean of the seeds' means, "+
		"95%% t interval over seeds); cumulative return in percentage points. Seeds > 0: seeds whose own intervals "+
		"lie above zero on both metrics.\n\n",
		d.Scoreboard, d.Done, d.Runs, seedList(d.Seeds), d.Episodes, d.EvalSeed)
	b.WriteString("| scenario | scheme | setup | group | strongest baseline | Δ cum. return (pp) [95% CI] | Δ Sharpe [95% CI] | wins | seeds > 0 | target |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range d.Rows {
		row := []string{r.Scenario, r.Scheme, setupTitle(r.Setup), r.Group, orDash(r.Strongest)}
		if s := r.StrongestRow(); s != nil {
			cr, sh := s.Pooled[experiments.MetricCumulativeReturn], s.Pooled[experiments.MetricSharpe]
			row = append(row, ci(experiments.MetricCumulativeReturn, cr.Mean, cr.CI95), ci(experiments.MetricSharpe, sh.Mean, sh.CI95),
				fmt.Sprintf("%d/%d", cr.Wins, cr.Episodes), fmt.Sprintf("%d/%d", r.SeedsAbove, len(d.Seeds)))
		} else {
			row = append(row, "-", "-", "-", fmt.Sprintf("0/%d", len(d.Seeds)))
		}
		mark := "no"
		if r.Meets {
			mark = "**yes**"
		}
		row = append(row, mark)
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString(MarkdownEnd(d.Scoreboard) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func seedList(s []uint64) string {
	var parts []string
	for _, x := range s {
		parts = append(parts, strconv.FormatUint(x, 10))
	}
	return strings.Join(parts, ", ")
}

// Splice replaces the text between the markers of the scoreboard named name (markers
// included) in doc with table, which must carry the markers itself. A marker counts only
// on a line of its own (its line ending, "\n" or "\r\n", goes with it), so prose that
// quotes one is left alone.
func Splice(doc, name, table string) (string, error) {
	begin, end := MarkdownBegin(name), MarkdownEnd(name)
	i, off := -1, 0
	for line := range strings.Lines(doc) {
		bare := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		switch {
		case i < 0 && bare == begin:
			i = off
		case i >= 0 && bare == end:
			return doc[:i] + table + doc[off+len(line):], nil
		}
		off += len(line)
	}
	return "", fmt.Errorf("no %s ... %s markers, each on a line of its own: put them where scoreboard %s's table goes", begin, end, name)
}

// WriteFiles writes scoreboard.json, scoreboard.csv (every baseline, per seed and
// pooled, one metric a row) and cells.csv (each group's strongest baseline, pooled)
// into dir.
func (d *Doc) WriteFiles(dir string) error {
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, FileJSON), append(js, '\n')); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("scenario,scheme,setup,group,role,baseline,strongest,seed,metric,trained,baseline_mean,diff_mean,diff_lo,diff_hi,wins,losses,ties,episodes\n")
	for _, r := range d.Rows {
		for _, bl := range r.Baselines {
			lead := []string{r.Scenario, r.Scheme, r.Setup, r.Group, r.Role, bl.Baseline, strconv.FormatBool(bl.Baseline == r.Strongest)}
			for _, s := range bl.Seeds {
				if s.Diff == nil {
					continue
				}
				for _, m := range ScoreMetrics {
					df := s.Diff[m]
					csvRow(&b, append(lead, strconv.FormatUint(s.Seed, 10), m, num(s.Trained[m]), num(s.Baseline[m]),
						num(df.Mean), num(df.CI95[0]), num(df.CI95[1]), itoa(df.Wins), itoa(df.Losses), itoa(df.Ties), itoa(df.N)))
				}
			}
			for _, m := range ScoreMetrics {
				p := bl.Pooled[m]
				csvRow(&b, append(lead, "pooled", m, num(r.Trained[m]), num(bl.Mean[m]),
					num(p.Mean), num(p.CI95[0]), num(p.CI95[1]), itoa(p.Wins), itoa(p.Losses), itoa(p.Ties), itoa(p.Episodes)))
			}
		}
	}
	if err := writeFile(filepath.Join(dir, FileCSV), []byte(b.String())); err != nil {
		return err
	}
	b.Reset()
	b.WriteString("scenario,scheme,setup,group,role,strongest,seeds_done,seeds_above,meets_target,diff_cumulative_return,diff_cumulative_return_lo,diff_cumulative_return_hi,diff_sharpe,diff_sharpe_lo,diff_sharpe_hi,wins,episodes\n")
	for _, r := range d.Rows {
		row := []string{r.Scenario, r.Scheme, r.Setup, r.Group, r.Role, r.Strongest, itoa(r.SeedsDone), itoa(r.SeedsAbove), strconv.FormatBool(r.Meets)}
		if s := r.StrongestRow(); s != nil {
			cr, sh := s.Pooled[experiments.MetricCumulativeReturn], s.Pooled[experiments.MetricSharpe]
			row = append(row, num(cr.Mean), num(cr.CI95[0]), num(cr.CI95[1]), num(sh.Mean), num(sh.CI95[0]), num(sh.CI95[1]), itoa(cr.Wins), itoa(cr.Episodes))
		} else {
			row = append(row, "NaN", "NaN", "NaN", "NaN", "NaN", "NaN", "0", "0")
		}
		csvRow(&b, row)
	}
	return writeFile(filepath.Join(dir, FileCellsCSV), []byte(b.String()))
}

func csvRow(b *strings.Builder, cells []string) {
	b.WriteString(strings.Join(cells, ","))
	b.WriteByte('\n')
}

func num(x jsonfloat.Float) string {
	return string(experiments.AppendCSVFloat(nil, float64(x)))
}

func itoa(n int) string { return strconv.Itoa(n) }

// writeFile writes b to path through a temporary file and a rename.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadDoc reads a scoreboard.json (the report's scoreboard section).
func ReadDoc(path string) (*Doc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d Doc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, &experiments.Error{File: path, Msg: err.Error()}
	}
	return &d, nil
}
