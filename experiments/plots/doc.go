// Package plots draws the figures hivegym writes: line plots of time series with a
// real calendar axis, and plain x-y line plots, as PNG (or SVG/PDF) files, on
// gonum.org/v1/plot.
//
// It owns the look of every figure: calendar tick placement and labels, units in the
// axis labels, one colour and dash per series with a legend, and decimation of long
// series to what a figure can show (keeping each bucket's minimum and maximum, so
// spikes survive). Callers pass plain slices and timestamps.
//
// It must not import other hivegym packages (data, env, market, ...): it is reused by
// `hivegym series`, reports and docs, and knows nothing about what it draws. It must
// not print or exit; errors are returned.
package plots
