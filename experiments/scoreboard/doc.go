// Package scoreboard owns hivegym's learning scoreboard: does a trained group beat the
// strongest scripted negotiator for its role? A scoreboard file names scenarios, schemes,
// role setups (providers learning, clients learning, both learning) and training seeds;
// every cell (scenario x scheme x setup) is trained once per seed, and every trained
// learning group is evaluated against every baseline that fits its role (the scripted
// strategies of agents/strategy and the random-legal policy) on the same held-out
// episodes, as paired differences trained minus baseline (experiments.Compare).
//
// # The scoreboard file
//
//	name: default                   # default: the file name without extension
//	base: ../base.yaml              # optional config file (relative to this file); default: the embedded default
//	scenarios: [baseline, gas-spike]
//	schemes: [compute-marketplace, coophive-apiary]   # default: the base's scheme
//	roles: [providers, clients, both]                 # default: all three
//	learner: ppo                    # the kind a learning group gets: ppo (default) or dsr
//	seeds: [1, 2, 3]                # or {count: 3, start: 1}
//	eval:
//	  episodes: 20                  # held-out episodes per policy (default 20)
//	  seed: 9000                    # seed of the held-out episodes (default 9000)
//	  baselines: []                 # default: every baseline that fits the group's role
//
// A role setup rewrites the base's population: in "providers", the provider groups learn
// (a scripted one becomes a `learner` group with scripted protocol steps) and the
// learning client groups become scripted (the role's default strategy); "clients" the
// other way round; in "both" every group learns.
//
// # On the sweep machinery
//
// A scoreboard is a sweep (package experiments/sweep, built with sweep.New) with the grid
// population (labelled by setup in run names) x scheme.scheme x world.scenario.name and
// the scoreboard's seeds: it shards (--shard),
// resumes (--resume) and runs on bounded workers like any sweep, and its results are a
// run store. Each run trains its config (experiments.Train), evaluates it
// (experiments.Eval, every learning group against each baseline aimed at it alone:
// group=baseline) and records, per learning group and baseline, the means and the
// paired differences (RunFunc). Results reads the store back into a Doc.
//
// # Pooling over seeds
//
// Per seed, the paired difference is the mean over the held-out episodes of trained
// minus baseline, with its Student-t 95% interval. Pooled over seeds, it is the mean of
// the seeds' mean differences with the Student-t interval over those K means (K-1
// degrees of freedom; experiments.PoolSeeds): the training seed is the unit of
// replication. The strongest baseline of a group is the one with the highest mean
// cumulative return over all seeds; a cell meets the target when, against it, the
// pooled interval lies above zero on cumulative return and on Sharpe, and each of at
// least two thirds of the seeds has its own interval above zero on both.
//
// # What it must not do
//
// It never prints, exits or reads flags or the clock; the CLI does that.
package scoreboard
