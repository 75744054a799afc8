// Package confint computes the mean of a sample with its two-sided confidence
// interval from Student's t distribution: the interval hivegym reports for a metric
// across seeds (evaluation episodes, sweep repetitions, report tables).
//
// It owns the one formula, so that `hivegym eval`, `hivegym report` and sweeps agree
// to the last bit. It must not import other hivegym packages, print, or keep state.
package confint
