package experiments

// Writers of the run directory (docs/run-dir.md), shared by train, eval and simulate:
// run.json, config.yaml, metrics.json, and the long-format CSV files. Numbers in CSV are
// Go's shortest round-trip form, non-finite values NaN, +Inf, -Inf; every writer is
// deterministic (fixed row and key order).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hivegym/hivegym/internal/confint"
	"github.com/hivegym/hivegym/internal/jsonfloat"
	"go.yaml.in/yaml/v3"
)

// Run statuses of run.json.
const (
	StatusDone        = "done"
	StatusInterrupted = "interrupted"
	StatusFailed      = "failed"
)

// RunInfo is run.json.
type RunInfo struct {
	Kind     string     `json:"kind"`
	Name     string     `json:"name"`
	Seed     uint64     `json:"seed"`
	Ticks    int        `json:"ticks"`
	Episodes int        `json:"episodes"`
	Status   string     `json:"status"`
	Error    string     `json:"error,omitempty"`
	Groups   []RunGroup `json:"groups"`
	// Sweep and Params name the sweep a run belongs to and its swept values
	// (docs/run-dir.md); empty outside sweeps.
	Sweep  string                     `json:"sweep,omitempty"`
	Params map[string]json.RawMessage `json:"params,omitempty"`
}

// RunGroup is one policy group of run.json.
type RunGroup struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	Kind   string `json:"kind"`
	Agents int    `json:"agents"`
}

// WriteRunJSON writes dir/run.json.
func WriteRunJSON(dir string, info RunInfo) error {
	return writeJSONFile(filepath.Join(dir, "run.json"), info)
}

// ReadRunJSON reads dir/run.json.
func ReadRunJSON(dir string) (RunInfo, error) {
	var info RunInfo
	path := filepath.Join(dir, "run.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return info, &Error{File: path, Msg: readErrMsg(err)}
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, &Error{File: path, Msg: "not a run.json: " + err.Error()}
	}
	return info, nil
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes b to path through a temporary file and a rename, so a reader
// (or an interrupted run) never sees half a file.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// WriteConfigYAML writes the resolved config (seed included) to dir/config.yaml, with a
// comment line on top; `hivegym config validate` accepts it and LoadFile reads it back.
func WriteConfigYAML(dir string, cfg Config, comment string) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("config to YAML: %w", err)
	}
	head := "# " + comment + "\n"
	return writeFileAtomic(filepath.Join(dir, "config.yaml"), append([]byte(head), b...))
}

// Metric names of metrics.json and episodes.csv, in their fixed order.
const (
	MetricCumulativeReturn = "cumulative_return"
	MetricSharpe           = "sharpe"
	MetricSortino          = "sortino"
	MetricMaxDrawdown      = "max_drawdown"
	MetricDSRFinal         = "dsr_final"
)

// EvalMetrics lists the metric names in their fixed order.
var EvalMetrics = []string{MetricCumulativeReturn, MetricSharpe, MetricSortino, MetricMaxDrawdown, MetricDSRFinal}

// Interval is a metric's mean over episodes with its 95% confidence interval.
type Interval struct {
	Mean jsonfloat.Float    `json:"mean"`
	CI95 [2]jsonfloat.Float `json:"ci95"`
	// N is the number of finite episode samples behind the mean.
	N int `json:"n"`
}

// IntervalOf returns the mean of xs with its Student-t 95% interval (confint.Mean95,
// non-finite samples left out).
func IntervalOf(xs []float64) Interval {
	iv := confint.Mean95(xs)
	return Interval{Mean: jsonfloat.Float(iv.Mean), CI95: [2]jsonfloat.Float{jsonfloat.Float(iv.Lo), jsonfloat.Float(iv.Hi)}, N: iv.N}
}

// MetricsGroup is one policy group of metrics.json.
type MetricsGroup struct {
	Name    string              `json:"name"`
	Role    string              `json:"role"`
	Kind    string              `json:"kind"`
	Metrics map[string]Interval `json:"metrics"`
}

// MetricsDoc is metrics.json, the `hivegym eval --json` document.
type MetricsDoc struct {
	Groups []MetricsGroup `json:"groups"`
}

// WriteMetricsJSON writes dir/metrics.json.
func WriteMetricsJSON(dir string, doc MetricsDoc) error {
	return writeJSONFile(filepath.Join(dir, "metrics.json"), doc)
}

// csvFile is a buffered CSV writer of one run-directory file.
type csvFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	buf  []byte
	err  error
}

func createCSV(path, header string) (*csvFile, error) {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return nil, err
	}
	c := &csvFile{path: path, f: f, w: bufio.NewWriterSize(f, 1<<16)}
	c.w.WriteString(header)
	c.w.WriteByte('\n')
	return c, nil
}

// row writes one line of cells: strings as they are (they never need quoting here),
// floats in shortest form, integers in decimal.
func (c *csvFile) row(cells ...any) {
	c.buf = c.buf[:0]
	for i, x := range cells {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		switch v := x.(type) {
		case string:
			c.buf = append(c.buf, v...)
		case float64:
			c.buf = AppendCSVFloat(c.buf, v)
		case int:
			c.buf = strconv.AppendInt(c.buf, int64(v), 10)
		case int64:
			c.buf = strconv.AppendInt(c.buf, v, 10)
		case uint64:
			c.buf = strconv.AppendUint(c.buf, v, 10)
		default:
			panic(fmt.Sprintf("experiments: csv cell of type %T", x))
		}
	}
	c.buf = append(c.buf, '\n')
	if _, err := c.w.Write(c.buf); err != nil && c.err == nil {
		c.err = err
	}
}

func (c *csvFile) close() error {
	err := c.w.Flush()
	if c.err != nil {
		err = c.err
	}
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(c.path+".tmp", c.path)
}

// AppendCSVFloat appends x as docs/run-dir.md asks: shortest round-trip form, NaN,
// +Inf, -Inf.
func AppendCSVFloat(b []byte, x float64) []byte {
	if s, ok := jsonfloat.NonFinite(x); ok {
		return append(b, s...)
	}
	return strconv.AppendFloat(b, x, 'g', -1, 64)
}
