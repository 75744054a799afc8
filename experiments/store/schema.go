package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are the schema's history: migrations[i] takes a store from version i to
// version i+1. Append new ones; never edit one that has shipped.
var migrations = []string{
	// 1: runs, curves, metrics.
	`CREATE TABLE runs (
		id     TEXT PRIMARY KEY,
		sweep  TEXT NOT NULL,
		idx    INTEGER NOT NULL,
		name   TEXT NOT NULL,
		params TEXT NOT NULL,           -- JSON object of the swept values
		config TEXT NOT NULL,           -- resolved config, YAML
		seed   INTEGER NOT NULL,        -- uint64 stored as the int64 with the same bits
		status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
		error  TEXT NOT NULL DEFAULT '',
		shard  TEXT NOT NULL DEFAULT '' -- provenance: "i/n"; ignored by merge
	);
	CREATE INDEX runs_by_sweep ON runs (sweep, idx);
	CREATE TABLE curves (
		run       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		iteration INTEGER NOT NULL,
		grp       TEXT NOT NULL,        -- policy group, or '' for a run-wide curve
		metric    TEXT NOT NULL,
		value     REAL,                 -- NULL is NaN
		PRIMARY KEY (run, grp, metric, iteration)
	) WITHOUT ROWID;
	CREATE TABLE metrics (
		run    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		scope  TEXT NOT NULL CHECK (scope IN ('agent', 'group')),
		key    TEXT NOT NULL,           -- agent id or group name
		role   TEXT NOT NULL,
		metric TEXT NOT NULL,
		value  REAL,                    -- NULL is NaN
		PRIMARY KEY (run, scope, key, metric)
	) WITHOUT ROWID;`,
	// 2: who is running a run, so that two sweeps on one store do not both run it and a
	// run whose process died shows as stale (claim.go).
	`CREATE TABLE claims (
		run   TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
		owner TEXT NOT NULL             -- "host/pid" of the process running it
	) WITHOUT ROWID;`,
}

// SchemaVersion is the schema version this program writes: the number of migrations.
func SchemaVersion() int { return len(migrations) }

// migrate brings the store to len(migs), one transaction per migration.
func (s *Store) migrate(ctx context.Context, migs []string) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	for {
		done := false
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var v int
			err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
			if errors.Is(err, sql.ErrNoRows) {
				if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			switch {
			case v > len(migs):
				return &SchemaError{Path: s.path, Version: v, Known: len(migs)}
			case v == len(migs):
				done = true
				return nil
			}
			if _, err := tx.ExecContext(ctx, migs[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
			_, err = tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v+1)
			return err
		})
		if err != nil {
			var se *SchemaError
			if errors.As(err, &se) {
				return se
			}
			return fmt.Errorf("open store %s: %w", s.path, err)
		}
		if done {
			return nil
		}
	}
}
