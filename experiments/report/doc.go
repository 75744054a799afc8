// Package report writes `hivegym report`: one offline HTML file (report.html, with
// inline CSS and no script) and its figures (img/*.png, drawn by package plots)
// from one or more run directories (docs/run-dir.md) and, for sweeps, a run store.
//
// It owns the reading of the run-directory files for reports (a missing file means
// "nothing to show"; a malformed one is an *experiments.Error naming file and line),
// the aggregation across seeds and runs (means with Student-t 95% intervals from
// internal/confint), the choice of figures and the page. docs/report.md says what
// each section shows and which file it comes from.
//
// It must not print, exit or read flags (cmd/hivegym does), must not run
// simulations or training, and must not write outside the output directory. Its
// output is deterministic: the same inputs give byte-identical files (no clock, no
// map order, no randomness).
package report
