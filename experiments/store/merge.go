package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ConflictError says that two stores hold different content for the same run id.
type ConflictError struct {
	ID, Name string
	Src      string // the store being merged in
	Dst      string // the store being merged into
	What     string // what differs
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("run %s (%s): %s and %s disagree: %s", e.ID, e.Name, e.Src, e.Dst, e.What)
}

// MergeStats counts what a merge did with the source runs.
type MergeStats struct {
	Added    int // runs not in dst before
	Updated  int // unfinished in dst, finished in a source: the result was copied
	Same     int // already in dst with identical content
	Unfinish int // unfinished in the source and already in dst: left as dst has them
}

type srcRun struct {
	run     Run
	curves  []CurvePoint
	metrics []Metric
}

// Merge copies the runs of srcs into dst, in one transaction on dst: either every source
// merges or dst is left unchanged.
//
// A run id present in dst and in a source must have the same definition (sweep, index,
// name, params, config, seed). When both are finished (done or failed) their status,
// error text, curves and metrics must be identical, bit for bit; a finished run replaces
// an unfinished one (pending or running); an unfinished source run never replaces
// anything. Anything else is a *ConflictError naming the run; every conflict is
// reported. The shard column is provenance and is not compared: a run keeps the shard
// of the store it first came from.
func Merge(ctx context.Context, dst *Store, srcs ...*Store) (MergeStats, error) {
	var stats MergeStats
	loaded := make([][]srcRun, len(srcs))
	for i, src := range srcs {
		runs, err := src.List(ctx)
		if err != nil {
			return stats, err
		}
		for _, r := range runs {
			sr := srcRun{run: r}
			if r.Status.Finished() {
				if sr.curves, err = src.Curves(ctx, r.ID); err != nil {
					return stats, err
				}
				if sr.metrics, err = src.Metrics(ctx, r.ID); err != nil {
					return stats, err
				}
			}
			loaded[i] = append(loaded[i], sr)
		}
	}
	var conflicts []error
	err := dst.inTx(ctx, func(tx *sql.Tx) error {
		for i, src := range srcs {
			for _, sr := range loaded[i] {
				c, err := mergeRun(ctx, tx, &stats, sr)
				if err != nil {
					return fmt.Errorf("store %s: merging run %s from %s: %w", dst.path, sr.run.ID, src.path, err)
				}
				if c != "" {
					conflicts = append(conflicts, &ConflictError{ID: sr.run.ID, Name: sr.run.Name, Src: src.path, Dst: dst.path, What: c})
				}
			}
		}
		if len(conflicts) > 0 {
			return errors.Join(conflicts...)
		}
		return nil
	})
	if err != nil {
		return MergeStats{}, err
	}
	return stats, nil
}

// mergeRun merges one source run into the transaction; it returns a description of a
// conflict, or "".
func mergeRun(ctx context.Context, tx *sql.Tx, stats *MergeStats, sr srcRun) (string, error) {
	r := sr.run
	old, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, r.ID))
	if errors.Is(err, sql.ErrNoRows) {
		if err := insertRun(ctx, tx, r); err != nil {
			return "", err
		}
		if r.Status.Finished() {
			if err := writeResult(ctx, tx, r.ID, Result{Status: r.Status, Error: r.Error, Curves: sr.curves, Metrics: sr.metrics}); err != nil {
				return "", err
			}
		}
		stats.Added++
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if d := sameDefinition(old, r); d != "" {
		return "the run's definition differs (" + d + ")", nil
	}
	switch {
	case !r.Status.Finished():
		stats.Unfinish++
		return "", nil
	case !old.Status.Finished():
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET shard = ? WHERE id = ?`, r.Shard, r.ID); err != nil {
			return "", err
		}
		if err := writeResult(ctx, tx, r.ID, Result{Status: r.Status, Error: r.Error, Curves: sr.curves, Metrics: sr.metrics}); err != nil {
			return "", err
		}
		stats.Updated++
		return "", nil
	}
	switch {
	case old.Status != r.Status:
		return fmt.Sprintf("status %s against %s", r.Status, old.Status), nil
	case old.Error != r.Error:
		return fmt.Sprintf("error %q against %q", r.Error, old.Error), nil
	}
	oc, err := curves(ctx, tx, r.ID)
	if err != nil {
		return "", err
	}
	if !sameCurves(oc, sr.curves) {
		return "curves differ", nil
	}
	om, err := metrics(ctx, tx, r.ID)
	if err != nil {
		return "", err
	}
	if !sameMetrics(om, sr.metrics) {
		return "metrics differ", nil
	}
	stats.Same++
	return "", nil
}
