package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go)
)

// Status is where a run is in its life.
type Status string

// The statuses of a run. A sweep adds its runs as pending, marks one running when a worker
// starts it, and finishes it as done or failed. A run interrupted by Ctrl-C goes back to
// pending; one whose process was killed stays running. Both are re-run by a resumed sweep.
const (
	StatusPending Status = "pending"
	StatusRunning Status = "running"
	StatusDone    Status = "done"
	StatusFailed  Status = "failed"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusRunning, StatusDone, StatusFailed:
		return true
	}
	return false
}

// Finished reports whether s is done or failed: the run has a result.
func (s Status) Finished() bool { return s == StatusDone || s == StatusFailed }

// Scope says what a final metric is about: one agent or a group of agents.
type Scope string

// The scopes of a metric.
const (
	ScopeAgent Scope = "agent"
	ScopeGroup Scope = "group"
)

// Run is one row of the runs table: what a run is (its definition) and where it stands.
type Run struct {
	ID     string // unique key; the sweep derives it from (sweep, params, seed)
	Sweep  string // name of the sweep the run belongs to
	Index  int    // position of the run in the sweep's expansion
	Name   string // human-readable name, e.g. "scenario=gas-spike,seed=3"
	Params string // JSON object of the swept values, keyed by dotted config key
	Config string // the resolved config, YAML
	Seed   uint64
	Status Status
	Error  string // why the run failed; empty unless Status is StatusFailed
	Shard  string // "i/n" of the shard that ran it, or ""; provenance only
}

// CurvePoint is one point of a training curve: the value of a metric for a policy group
// (empty for a curve of the whole run) at an iteration.
type CurvePoint struct {
	Iteration int
	Group     string
	Metric    string
	Value     float64
}

// Metric is one final metric of a run, for one agent (Key is its id) or one group (Key
// is the group's name). Role is the agent's or group's role, e.g. provider or client.
type Metric struct {
	Scope Scope
	Key   string
	Role  string
	Name  string
	Value float64
}

// Result is what a finished run leaves in the store.
type Result struct {
	Status  Status // StatusDone or StatusFailed
	Error   string // for StatusFailed
	Curves  []CurvePoint
	Metrics []Metric
}

// Errors of the store. Test for them with errors.Is.
var (
	ErrNotFound    = errors.New("no such run")
	ErrAmbiguous   = errors.New("ambiguous run id prefix")
	ErrExists      = errors.New("run already in the store")
	ErrNewerSchema = errors.New("store written by a newer hivegym")
	ErrNotStore    = errors.New("not a hivegym run store")
)

// SchemaError says that a store's schema version is newer than this program knows.
type SchemaError struct {
	Path    string
	Version int // the store's
	Known   int // this program's latest
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("store %s has schema version %d, but this hivegym knows versions up to %d: use a newer hivegym",
		e.Path, e.Version, e.Known)
}

// Is makes errors.Is(err, ErrNewerSchema) true.
func (e *SchemaError) Is(target error) bool { return target == ErrNewerSchema }

// Store is an open run store. Its methods are safe for concurrent use; they are
// serialized on one database connection.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens the store at path, creating the file if it does not exist, and migrates it
// to the latest schema.
func Open(path string) (*Store, error) { return open(path, migrations) }

// OpenExisting opens the store at path like Open, but a missing file is an error (one
// that wraps os.ErrNotExist) instead of a new empty store, and so is a file that is not
// a run store (ErrNotStore: an empty file, or an SQLite database without the store's
// schema_version table), which is left as it was rather than turned into a store.
func OpenExisting(path string) (*Store, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("open store %s: is a directory", path)
	}
	return openStore(path, migrations, true)
}

func open(path string, migs []string) (*Store, error) { return openStore(path, migs, false) }

func openStore(path string, migs []string, existing bool) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open store %q: the path must be non-empty and must not contain '?' or '#'", path)
	}
	// foreign_keys for ON DELETE CASCADE; busy_timeout so that two processes sharing a
	// store wait for each other; _txlock=immediate takes the write lock when a
	// transaction begins, which avoids the deadlock of two readers upgrading at once.
	dsn := path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One connection: SQLite allows one writer anyway, and the pragmas above are per
	// connection. Callers must read rows to the end before the next query.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	if existing {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).Scan(&n)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		if n == 0 {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w (no schema_version table)", path, ErrNotStore)
		}
	}
	if err := s.migrate(context.Background(), migs); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Version returns the store's schema version: the number of migrations applied.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store %s: schema version: %w", s.path, err)
	}
	return v, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// inTx runs f in a transaction and commits it if f returns nil.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store %s: commit: %w", s.path, err)
	}
	return nil
}

const runColumns = `id, sweep, idx, name, params, config, seed, status, error, shard`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var seed int64
	var status string
	err := sc.Scan(&r.ID, &r.Sweep, &r.Index, &r.Name, &r.Params, &r.Config, &seed, &status, &r.Error, &r.Shard)
	r.Seed = uint64(seed) // stored as the int64 with the same bits
	r.Status = Status(status)
	return r, err
}

func checkRun(r Run) error {
	switch {
	case r.ID == "":
		return errors.New("run with an empty id")
	case !r.Status.Valid():
		return fmt.Errorf("run %s: invalid status %q", r.ID, r.Status)
	case r.Index < 0:
		return fmt.Errorf("run %s: negative index %d", r.ID, r.Index)
	}
	return nil
}

// Add inserts new runs, in the order given, in one transaction. A run whose id is already
// in the store is an error wrapping ErrExists, and then nothing is added.
func (s *Store) Add(ctx context.Context, runs ...Run) error {
	for _, r := range runs {
		if err := checkRun(r); err != nil {
			return fmt.Errorf("store %s: %w", s.path, err)
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range runs {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, r.ID).Scan(&one)
			if err == nil {
				return fmt.Errorf("store %s: run %s (%s): %w", s.path, r.ID, r.Name, ErrExists)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("store %s: %w", s.path, err)
			}
			if err := insertRun(ctx, tx, r); err != nil {
				return fmt.Errorf("store %s: %w", s.path, err)
			}
		}
		return nil
	})
}

func insertRun(ctx context.Context, q querier, r Run) error {
	_, err := q.ExecContext(ctx, `INSERT INTO runs (`+runColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Sweep, r.Index, r.Name, r.Params, r.Config, int64(r.Seed), string(r.Status), r.Error, r.Shard)
	if err != nil {
		return fmt.Errorf("insert run %s: %w", r.ID, err)
	}
	return nil
}

// Get returns the run whose id is ref, or else the only run whose id starts with ref
// (errors wrapping ErrNotFound or ErrAmbiguous otherwise).
func (s *Store) Get(ctx context.Context, ref string) (Run, error) {
	r, err := getRun(ctx, s.db, ref)
	if err != nil {
		return Run{}, fmt.Errorf("store %s: %w", s.path, err)
	}
	return r, nil
}

func getRun(ctx context.Context, q querier, ref string) (Run, error) {
	if ref == "" {
		return Run{}, fmt.Errorf("empty run id: %w", ErrNotFound)
	}
	r, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, ref))
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Run{}, err
	}
	rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 2`,
		len(ref), ref)
	if err != nil {
		return Run{}, err
	}
	runs, err := collectRuns(rows)
	if err != nil {
		return Run{}, err
	}
	switch len(runs) {
	case 0:
		return Run{}, fmt.Errorf("run %q: %w", ref, ErrNotFound)
	case 1:
		return runs[0], nil
	}
	return Run{}, fmt.Errorf("run %q matches %s, %s, ...: %w", ref, runs[0].ID, runs[1].ID, ErrAmbiguous)
}

func collectRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// List returns every run, ordered by sweep name, index and id.
func (s *Store) List(ctx context.Context) ([]Run, error) {
	runs, err := listRuns(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.path, err)
	}
	return runs, nil
}

func listRuns(ctx context.Context, q querier) ([]Run, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY sweep, idx, id`)
	if err != nil {
		return nil, err
	}
	return collectRuns(rows)
}

// SetStatus sets a run's status and error text, leaving its curves and metrics alone.
// It is how a sweep marks a run running, or pending again after an interruption.
func (s *Store) SetStatus(ctx context.Context, id string, st Status, errText string) error {
	if !st.Valid() {
		return fmt.Errorf("store %s: run %s: invalid status %q", s.path, id, st)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET status = ?, error = ? WHERE id = ?`, string(st), errText, id)
	if err != nil {
		return fmt.Errorf("store %s: run %s: %w", s.path, id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store %s: run %s: %w", s.path, id, ErrNotFound)
	}
	return nil
}

// Finish records a run's result in one transaction: it replaces the run's curves and
// metrics by res's and sets its status (done or failed) and error text.
func (s *Store) Finish(ctx context.Context, id string, res Result) error {
	if err := checkResult(res); err != nil {
		return fmt.Errorf("store %s: run %s: %w", s.path, id, err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := writeResult(ctx, tx, id, res); err != nil {
			return fmt.Errorf("store %s: run %s: %w", s.path, id, err)
		}
		return nil
	})
}

func checkResult(res Result) error {
	if !res.Status.Finished() {
		return fmt.Errorf("a result must be done or failed, got %q", res.Status)
	}
	type ck struct {
		g, m string
		i    int
	}
	seen := make(map[ck]bool, len(res.Curves))
	for _, p := range res.Curves {
		if p.Metric == "" {
			return errors.New("curve point with an empty metric name")
		}
		if seen[ck{p.Group, p.Metric, p.Iteration}] {
			return fmt.Errorf("curve %q of group %q has two values at iteration %d", p.Metric, p.Group, p.Iteration)
		}
		seen[ck{p.Group, p.Metric, p.Iteration}] = true
	}
	type mk struct {
		s    Scope
		k, n string
	}
	seenM := make(map[mk]bool, len(res.Metrics))
	for _, m := range res.Metrics {
		switch {
		case m.Scope != ScopeAgent && m.Scope != ScopeGroup:
			return fmt.Errorf("metric %q: scope must be agent or group, got %q", m.Name, m.Scope)
		case m.Key == "":
			return fmt.Errorf("metric %q: empty %s key", m.Name, m.Scope)
		case m.Name == "":
			return fmt.Errorf("%s %q: metric with an empty name", m.Scope, m.Key)
		case seenM[mk{m.Scope, m.Key, m.Name}]:
			return fmt.Errorf("%s %q has two values of metric %q", m.Scope, m.Key, m.Name)
		}
		seenM[mk{m.Scope, m.Key, m.Name}] = true
	}
	return nil
}

func writeResult(ctx context.Context, q querier, id string, res Result) error {
	r, err := q.ExecContext(ctx, `UPDATE runs SET status = ?, error = ? WHERE id = ?`, string(res.Status), res.Error, id)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM curves WHERE run = ?`, id); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM metrics WHERE run = ?`, id); err != nil {
		return err
	}
	if len(res.Curves) > 0 {
		stmt, err := q.PrepareContext(ctx, `INSERT INTO curves (run, iteration, grp, metric, value) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, p := range res.Curves {
			if _, err := stmt.ExecContext(ctx, id, p.Iteration, p.Group, p.Metric, sqlFloat(p.Value)); err != nil {
				return fmt.Errorf("curve %q iteration %d: %w", p.Metric, p.Iteration, err)
			}
		}
	}
	if len(res.Metrics) > 0 {
		stmt, err := q.PrepareContext(ctx, `INSERT INTO metrics (run, scope, key, role, metric, value) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, m := range res.Metrics {
			if _, err := stmt.ExecContext(ctx, id, string(m.Scope), m.Key, m.Role, m.Name, sqlFloat(m.Value)); err != nil {
				return fmt.Errorf("%s %q metric %q: %w", m.Scope, m.Key, m.Name, err)
			}
		}
	}
	return nil
}

// sqlFloat maps NaN, which SQLite cannot store, to NULL.
func sqlFloat(x float64) any {
	if math.IsNaN(x) {
		return nil
	}
	return x
}

func goFloat(x sql.NullFloat64) float64 {
	if !x.Valid {
		return math.NaN()
	}
	return x.Float64
}

// Curves returns a run's curve points ordered by group, metric name and iteration.
func (s *Store) Curves(ctx context.Context, id string) ([]CurvePoint, error) {
	c, err := curves(ctx, s.db, id)
	if err != nil {
		return nil, fmt.Errorf("store %s: run %s: %w", s.path, id, err)
	}
	return c, nil
}

func curves(ctx context.Context, q querier, id string) ([]CurvePoint, error) {
	rows, err := q.QueryContext(ctx, `SELECT iteration, grp, metric, value FROM curves WHERE run = ? ORDER BY grp, metric, iteration`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CurvePoint
	for rows.Next() {
		var p CurvePoint
		var v sql.NullFloat64
		if err := rows.Scan(&p.Iteration, &p.Group, &p.Metric, &v); err != nil {
			return nil, err
		}
		p.Value = goFloat(v)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Metrics returns a run's final metrics ordered by scope, key and metric name.
func (s *Store) Metrics(ctx context.Context, id string) ([]Metric, error) {
	m, err := metrics(ctx, s.db, id)
	if err != nil {
		return nil, fmt.Errorf("store %s: run %s: %w", s.path, id, err)
	}
	return m, nil
}

func metrics(ctx context.Context, q querier, id string) ([]Metric, error) {
	rows, err := q.QueryContext(ctx, `SELECT scope, key, role, metric, value FROM metrics WHERE run = ? ORDER BY scope, key, metric`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Metric
	for rows.Next() {
		var m Metric
		var scope string
		var v sql.NullFloat64
		if err := rows.Scan(&scope, &m.Key, &m.Role, &m.Name, &v); err != nil {
			return nil, err
		}
		m.Scope = Scope(scope)
		m.Value = goFloat(v)
		out = append(out, m)
	}
	return out, rows.Err()
}

// sameDefinition reports what differs between two runs' definitions (everything but
// status, error and shard), or "".
func sameDefinition(a, b Run) string {
	var diff []string
	if a.Sweep != b.Sweep {
		diff = append(diff, "sweep")
	}
	if a.Index != b.Index {
		diff = append(diff, "index")
	}
	if a.Name != b.Name {
		diff = append(diff, "name")
	}
	if a.Params != b.Params {
		diff = append(diff, "params")
	}
	if a.Config != b.Config {
		diff = append(diff, "config")
	}
	if a.Seed != b.Seed {
		diff = append(diff, "seed")
	}
	return strings.Join(diff, ", ")
}

// sameFloat compares bit patterns, so NaN equals NaN and 0 differs from -0: merged
// stores must hold exactly what the runs wrote.
func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

func sameCurves(a, b []CurvePoint) bool {
	return slices.EqualFunc(a, b, func(x, y CurvePoint) bool {
		return x.Iteration == y.Iteration && x.Group == y.Group && x.Metric == y.Metric && sameFloat(x.Value, y.Value)
	})
}

func sameMetrics(a, b []Metric) bool {
	return slices.EqualFunc(a, b, func(x, y Metric) bool {
		return x.Scope == y.Scope && x.Key == y.Key && x.Role == y.Role && x.Name == y.Name && sameFloat(x.Value, y.Value)
	})
}
