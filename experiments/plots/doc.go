// Package plots draws the figures hivegym writes, as PNG (or SVG/PDF) files, on
// gonum.org/v1/plot: line plots of time series with a real calendar axis, plain x-y
// line plots, and the figures of experiment reports — lines with confidence bands,
// smoothing and shaded spans (Lines), learning curves (Curves), equity curves with
// their drawdown periods shaded (Equity), box plots with every sample shown (Boxes),
// bar charts over a numeric or calendar axis (Bars), negotiation offer trajectories
// (Offers) and means with error bars against a parameter (ErrorBars) — laid out alone,
// stacked (SaveStack) or in a grid (SaveGrid).
//
// It owns the look of every figure: tick placement and labels (calendar ticks, and
// 1-2-5 ticks with no more digits than needed), units in the axis labels, one colour
// and dash per series with a legend kept readable over the data, and decimation of
// long series to what a figure can show (keeping each bucket's minimum and maximum, so
// spikes survive). Callers pass plain slices and timestamps. The same input draws the
// same bytes.
//
// It must not import other hivegym packages (data, env, market, ...): it is reused by
// `hivegym series`, reports and docs, and knows nothing about what it draws. It must
// not print or exit; errors are returned.
package plots
