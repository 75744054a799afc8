// Package tournament runs cross-play tournaments between trained policy groups and
// scripted strategies, and rates the entrants.
//
// A tournament file (docs/tournaments.md) lists entrants per role — trained groups from
// run directories or checkpoint files, and strategies of agents/strategy with their
// parameters, or the random-legal policy — and the scenarios and schemes to play under.
// The matchups are head-to-head (one provider entrant against one client entrant, every
// pair) and mixed populations (every entrant of a role sharing one market, in
// configured shares, against each entrant of the other role). Every matchup plays the
// same held-out episode seeds (experiments.Eval), so results are paired across
// matchups.
//
// The matchups are the runs of a sweep (experiments/sweep.New) whose grid is the
// population, the scheme and the scenario: workers, shards, resuming and merging work as
// they do for sweeps, and the per-episode results live in the run store (curves with the
// episode as the iteration). Results reads a store back into payoff matrices with 95%
// intervals and Bradley-Terry ratings with bootstrap intervals (ratings.go).
//
// The package does not train; it reads checkpoints and checks that their observation and
// action spaces are those of the tournament's environments.
package tournament
