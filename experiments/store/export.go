package store

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// CSVHeader is the header line of ExportCSV.
var CSVHeader = []string{"kind", "iteration", "scope", "key", "role", "metric", "value"}

// ExportCSV writes the curves and final metrics of the run id (or unique id prefix, as
// for Get) to w as one
// long-format CSV table (header CSVHeader): first one "curve" row per curve point
// (iteration, metric, value, and scope "group" with the group's name as key, or both
// empty for a run-wide curve; role empty), ordered by group, metric and iteration, then one "metric" row per final metric (scope, key, role, metric, value;
// iteration empty), ordered by scope, key and metric. Values are written in the shortest
// form that reads back to the same float64; non-finite ones as NaN, +Inf, -Inf.
func (s *Store) ExportCSV(ctx context.Context, id string, w io.Writer) error {
	r, err := getRun(ctx, s.db, id)
	if err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	cs, err := s.Curves(ctx, r.ID)
	if err != nil {
		return err
	}
	ms, err := s.Metrics(ctx, r.ID)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, p := range cs {
		scope := ""
		if p.Group != "" {
			scope = string(ScopeGroup)
		}
		if err := cw.Write([]string{"curve", strconv.Itoa(p.Iteration), scope, p.Group, "", p.Metric, formatFloat(p.Value)}); err != nil {
			return err
		}
	}
	for _, m := range ms {
		if err := cw.Write([]string{"metric", "", string(m.Scope), m.Key, m.Role, m.Name, formatFloat(m.Value)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// formatFloat is strconv's shortest round-trip form: NaN, +Inf and -Inf for non-finite
// values.
func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Dump writes a canonical text rendering of the whole store to w: every run (id, sweep,
// index, name, params, config, seed, status, error) in List order, each followed by its
// curve points and final metrics, floats by their IEEE 754 bits. The shard column is left
// out: it is provenance, not a result. Two stores with the same dump hold the same runs,
// configs and results, which is how sharded-and-merged sweeps are compared with whole
// ones.
func (s *Store) Dump(ctx context.Context, w io.Writer) error {
	runs, err := s.List(ctx)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if _, err := fmt.Fprintf(w, "run %s %s %d %q %s %q %d %s %q\n", r.ID, r.Sweep, r.Index, r.Name, r.Params, r.Config, r.Seed, r.Status, r.Error); err != nil {
			return err
		}
		cs, err := s.Curves(ctx, r.ID)
		if err != nil {
			return err
		}
		for _, p := range cs {
			if _, err := fmt.Fprintf(w, "  curve %d %s %s %x\n", p.Iteration, p.Group, p.Metric, math.Float64bits(p.Value)); err != nil {
				return err
			}
		}
		ms, err := s.Metrics(ctx, r.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if _, err := fmt.Fprintf(w, "  metric %s %s %s %s %x\n", m.Scope, m.Key, m.Role, m.Name, math.Float64bits(m.Value)); err != nil {
				return err
			}
		}
	}
	return nil
}
