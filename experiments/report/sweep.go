package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/experiments/store"
)

// SweepResults is what the sweep section shows: the runs of one sweep with their
// swept parameter values and final metrics per policy group. FromStore fills it from a
// run store; run directories whose run.json carries "params" fill it too; a caller
// with another source can pass its own in Options.Sweeps.
type SweepResults struct {
	// Name is the sweep's name ("" when unknown).
	Name string
	// Params are the swept config keys (dotted), in display order.
	Params []string
	// Rows are the runs, in the sweep's order.
	Rows []SweepRow
}

// SweepRow is one run of a sweep.
type SweepRow struct {
	// Run names the run (its id or name).
	Run  string
	Seed uint64
	// Values holds the run's value of each of SweepResults.Params, as text (a JSON
	// string unquoted, a number as written); "" when the run does not set it.
	Values []string
	// Status is "done", "failed", "pending" or "running"; only done runs are
	// aggregated, failed ones are listed with Error.
	Status string
	Error  string
	// Metrics are the run's final metrics per group.
	Metrics []SweepMetric
}

// SweepMetric is one final metric of one policy group in one run.
type SweepMetric struct {
	Group  string
	Role   string
	Metric string
	Value  float64
}

// FromStore reads every sweep of a run store: one SweepResults per sweep name, in the
// order of the store's List (sweep name, then index), with each run's params, seed,
// status and final group metrics. A "seed" key in the params is left out of Params:
// seeds are the repetitions the intervals are taken over.
func FromStore(ctx context.Context, st *store.Store) ([]SweepResults, error) {
	runs, err := st.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", st.Path(), err)
	}
	var out []SweepResults
	bySweep := map[string]int{}
	rawParams := map[string][]map[string]json.RawMessage{}
	for _, r := range runs {
		i, ok := bySweep[r.Sweep]
		if !ok {
			i = len(out)
			bySweep[r.Sweep] = i
			out = append(out, SweepResults{Name: r.Sweep})
		}
		params := map[string]json.RawMessage{}
		if strings.TrimSpace(r.Params) != "" {
			if err := json.Unmarshal([]byte(r.Params), &params); err != nil {
				return nil, &experiments.Error{File: st.Path(), Msg: fmt.Sprintf("run %s: params are not a JSON object: %v", r.ID, err)}
			}
		}
		row := SweepRow{Run: r.Name, Seed: r.Seed, Status: string(r.Status), Error: r.Error}
		if row.Run == "" {
			row.Run = r.ID
		}
		if r.Status == store.StatusDone {
			ms, err := st.Metrics(ctx, r.ID)
			if err != nil {
				return nil, fmt.Errorf("report: %s: run %s: %w", st.Path(), r.ID, err)
			}
			for _, m := range ms {
				if m.Scope == store.ScopeGroup {
					row.Metrics = append(row.Metrics, SweepMetric{Group: m.Key, Role: m.Role, Metric: m.Name, Value: m.Value})
				}
			}
		}
		out[i].Rows = append(out[i].Rows, row)
		rawParams[r.Sweep] = append(rawParams[r.Sweep], params)
	}
	for i := range out {
		setParams(&out[i], rawParams[out[i].Name])
	}
	return out, nil
}

// readStore opens the store at path (which must exist; a directory stands for the
// runs.db in it) and reads its sweeps.
func readStore(ctx context.Context, path string) ([]SweepResults, error) {
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		path = filepath.Join(path, fileStore)
		_, err = os.Stat(path)
	}
	if err != nil {
		return nil, &experiments.Error{File: path, Msg: "no such run store"}
	}
	st, err := store.OpenExisting(path)
	if err != nil {
		return nil, &experiments.Error{File: path, Msg: strings.TrimPrefix(err.Error(), path+": ")}
	}
	defer st.Close()
	return FromStore(ctx, st)
}

// setParams fills s.Params (the union of the keys, sorted, "seed" left out) and each
// row's Values from the rows' raw params, which are in row order.
func setParams(s *SweepResults, raw []map[string]json.RawMessage) {
	keys := map[string]bool{}
	for _, p := range raw {
		for k := range p {
			if k != "seed" {
				keys[k] = true
			}
		}
	}
	s.Params = sortedKeys(keys)
	for i := range s.Rows {
		s.Rows[i].Values = make([]string, len(s.Params))
		for j, k := range s.Params {
			if v, ok := raw[i][k]; ok {
				s.Rows[i].Values[j] = paramText(v)
			}
		}
	}
}

// paramText is a JSON value as a label: strings unquoted, others compact.
func paramText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var x any
	if json.Unmarshal(v, &x) == nil {
		if b, err := json.Marshal(x); err == nil {
			// Numbers keep the text they were written with.
			if _, isNum := x.(float64); isNum {
				return strings.TrimSpace(string(v))
			}
			return string(b)
		}
	}
	return strings.TrimSpace(string(v))
}

// sweepFromDirs builds the sweeps of the run directories whose run.json has params,
// one per sweep name (in the order the names first appear), with the group means of
// metrics.json as final metrics.
func sweepFromDirs(runs []*runDir) []SweepResults {
	var out []SweepResults
	idx := map[string]int{}
	var raws [][]map[string]json.RawMessage
	for _, r := range runs {
		if r.Info == nil || r.Info.Params == nil {
			continue
		}
		i, ok := idx[r.Info.Sweep]
		if !ok {
			i = len(out)
			idx[r.Info.Sweep] = i
			out = append(out, SweepResults{Name: r.Info.Sweep})
			raws = append(raws, nil)
		}
		row := SweepRow{Run: r.Label, Seed: r.Info.Seed, Status: r.Info.Status, Error: r.Info.Error}
		if row.Status == "" {
			row.Status = "done"
		}
		if r.Metrics != nil && row.Status == "done" {
			for _, g := range r.Metrics.Groups {
				for _, m := range orderMetrics(sortedKeys(g.Metrics)) {
					row.Metrics = append(row.Metrics, SweepMetric{Group: g.Name, Role: g.Role, Metric: m, Value: float64(g.Metrics[m].Mean)})
				}
			}
		}
		out[i].Rows = append(out[i].Rows, row)
		raws[i] = append(raws[i], r.Info.Params)
	}
	for i := range out {
		setParams(&out[i], raws[i])
	}
	return out
}

// paramAxis is the x axis of one swept parameter: its distinct values in order, and
// whether they are all numbers (then sorted numerically; else in order of first
// appearance).
type paramAxis struct {
	Values  []string
	Numeric bool
	Nums    []float64
	LogX    bool
}

func axisOf(s *SweepResults, p int) paramAxis {
	var ax paramAxis
	seen := map[string]bool{}
	for _, r := range s.Rows {
		v := r.Values[p]
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		ax.Values = append(ax.Values, v)
	}
	ax.Numeric = len(ax.Values) > 0
	nums := make([]float64, len(ax.Values))
	for i, v := range ax.Values {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			ax.Numeric = false
			break
		}
		nums[i] = x
	}
	if ax.Numeric {
		order := make([]int, len(nums))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return nums[order[a]] < nums[order[b]] })
		vals, ns := make([]string, len(order)), make([]float64, len(order))
		for i, o := range order {
			vals[i], ns[i] = ax.Values[o], nums[o]
		}
		ax.Values, ax.Nums = vals, ns
		// A log axis when every value is positive and they span two decades or more.
		ax.LogX = len(ns) >= 3 && ns[0] > 0 && ns[len(ns)-1]/ns[0] >= 100
	}
	return ax
}

// sweepGroups returns the groups, roles and metrics that appear in done rows, in
// order of first appearance (metrics: the fixed order first).
func sweepGroups(s *SweepResults) (groups, roles, metrics []string) {
	gi := map[string]bool{}
	mi := map[string]bool{}
	var ms []string
	for _, r := range s.Rows {
		if r.Status != "done" {
			continue
		}
		for _, m := range r.Metrics {
			if !gi[m.Group] {
				gi[m.Group] = true
				groups = append(groups, m.Group)
				roles = append(roles, m.Role)
			}
			if !mi[m.Metric] {
				mi[m.Metric] = true
				ms = append(ms, m.Metric)
			}
		}
	}
	sort.Strings(ms)
	return groups, roles, orderMetrics(ms)
}

// sweepSamples returns the values of metric for group over the done rows that match
// (value of parameter p == v, or every row when p < 0), in row order.
func sweepSamples(s *SweepResults, p int, v, group, metric string, match func(SweepRow) bool) []float64 {
	var xs []float64
	for _, r := range s.Rows {
		if r.Status != "done" || (p >= 0 && r.Values[p] != v) || (match != nil && !match(r)) {
			continue
		}
		for _, m := range r.Metrics {
			if m.Group == group && m.Metric == metric {
				xs = append(xs, m.Value)
			}
		}
	}
	return xs
}

// validate checks a caller-supplied SweepResults for consistent lengths.
func (s *SweepResults) validate() error {
	for i, r := range s.Rows {
		if len(r.Values) != len(s.Params) {
			return fmt.Errorf("report: sweep %q row %d has %d values for %d params", s.Name, i, len(r.Values), len(s.Params))
		}
	}
	return nil
}
