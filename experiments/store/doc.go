// Package store is the run store of hivegym's experiments: one SQLite file (through the
// pure-Go driver modernc.org/sqlite, so no cgo) that holds the runs of one or more sweeps,
// the resolved config of each run, its per-iteration training curves and its final
// metrics per agent and per group.
//
// # Tables
//
//   - runs: id, sweep name, index in the sweep's expansion, name, params (a JSON object
//     of the swept values), the resolved config (YAML), seed, status (pending, running,
//     done, failed), error text, and the shard that ran it.
//   - curves: (run, iteration, group, metric, value): training curves, per policy group
//     (group empty for a curve of the whole run).
//   - metrics: (run, scope agent|group, key, role, metric, value): final metrics; key is an
//     agent id for scope agent and a group name for scope group.
//   - schema_version: the number of migrations applied.
//
// A NaN value is stored as SQL NULL (SQLite has no NaN) and read back as NaN; infinities
// are stored as such, and -0 reads back as 0. Nothing in the store depends on the wall clock, so a sweep run twice
// gives the same contents. The shard column is provenance: it says which shard wrote a
// run, and [Merge] and content comparisons ignore it.
//
// # Schema versions
//
// The schema is the result of an ordered list of migrations (SQL scripts); a store
// records how many it has applied and [Open] applies the missing ones in order, each in
// its own transaction. Opening a store written by a newer hivegym (more migrations than
// this one knows) is an error ([ErrNewerSchema]) rather than a silent downgrade. A new
// migration is appended to the list, never edited in place.
//
// # What it must not do
//
// All SQL of hivegym lives in this package: callers use the typed API ([Store.Add],
// [Store.Finish], [Store.List], [Merge], [Store.ExportCSV], ...). It does not know what a
// sweep or a config means (run ids, params and configs are opaque strings to it), never
// prints, and never reads the clock.
package store
