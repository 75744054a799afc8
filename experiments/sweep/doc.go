// Package sweep owns hivegym's experiment sweeps: the sweep file (a base config, a grid
// and random samples over any config key, times seeds), its strict decoding, its
// expansion into runs with resolved and validated configs, and the execution of those
// runs on bounded parallel workers, one shard at a time, with results written to a run
// store (package experiments/store).
//
// # The sweep file
//
//	name: scenarios          # the sweep's name; default: the file name without extension
//	base: base.yaml          # a config file (relative to the sweep file), or an inline mapping
//	grid:                    # dotted config key -> list of values; the Cartesian product
//	  world.scenario.name: [baseline, gas-spike]
//	  metrics.eta: [0.01, 0.05]
//	random:                  # optional: samples drawn from a seeded stream
//	  samples: 4
//	  seed: 0
//	  params:
//	    world.eth.sigma: {uniform: [0.4, 0.9]}
//	    metrics.mar: {log_uniform: [1e-6, 1e-3]}
//	    world.hive.beta: {choices: [1, 1.5, 2]}
//	seeds: [1, 2, 3]         # or {count: 3, start: 1}; default: the base config's seed
//
// Decoding is strict, like the config's (package experiments): an unknown key, an empty
// grid, a grid or random key that is not a key of experiments.Config (checked by walking
// the Config type's yaml tags, so new config sections are sweepable as soon as they
// exist), a value of the wrong type for its key, a duplicate value, and a bad seed list
// are each an *experiments.Error naming the key and its line. A key may index a list:
// world.locations[0].mean_usd_per_kwh.
//
// # Expansion
//
// Runs come in a fixed order: grid points first (grid keys sorted, the first one
// outermost, values in file order), then random samples (a sample equal to an earlier
// one is dropped), then seeds, innermost. Each run's config is the default config,
// overlaid with the base, then with the run's values (edits of the yaml.Node tree) and
// its seed, decoded strictly and validated by experiments.Load. A combination that does
// not validate is not an error of the sweep file: it becomes that run's failure, recorded
// with its error, while the other runs go on.
//
// A run's id is the first 16 hex digits of SHA-256 over the sweep name, the run's params
// (a canonical JSON object of its swept values) and its seed, so a resumed or sharded
// sweep computes the same ids.
//
// # Execution
//
// [Execute] runs one shard of a sweep (runs whose index mod n is i) on a bounded number
// of workers (errgroup), calls a [RunFunc] for each run with a [Recorder] for its curves
// and metrics, and writes each result to the store in index order whatever the order in
// which runs finish. A failing or panicking run is recorded as failed with its error and
// the others go on. Cancelling the context stops new runs from starting; running ones see
// the cancelled context, and a run that returns an error after the cancellation is left
// pending for a later resume, while one that finishes is recorded. With Resume, runs the
// store already holds as done (and failed, unless RetryFailed) are skipped.
//
// # What it must not do
//
// It does not train or simulate: the RunFunc is injected (the CLI supplies it). It holds
// no SQL (the store does), never prints, never reads the clock, and never lets map order
// or completion order change what it writes.
package sweep
