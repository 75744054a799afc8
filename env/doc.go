// Package env is the gym-style multi-agent environment over the market, in the
// PettingZoo parallel style: Reset(seed) once, then Step(actions) returns, for every
// agent that must decide, its observation (the structured (message, context) and its
// float32 vector encoding with a legal-action mask), the reward accrued since its
// previous decision, and terminated and truncated flags reported separately.
//
// env owns observation encoding, action decoding, legal-action masks, reward functions
// and vectorized environments (K independent markets on K goroutines, with results
// identical to stepping them one after another). It must not implement market rules,
// protocol legality or learning: those belong to market, scheme and agents.
//
// # How it works
//
// An [Env] composes the exogenous world (data.World) and the market engine
// (market.Market), built from [Settings] (the world, scheme, market and env sections;
// [Settings.Validate] checks each and how they fit: ticks per hour, catalog GPU models
// and locations named by the market, consistent deadlines). Every tick the world steps
// and its prices, fee markets and electricity (with an EWMA forecast per location) go to
// the market; the market poses rounds of decisions, at most one per agent; each round is
// a [Batch]. Decisions are events, not a fixed cadence: an agent appears in a batch only
// when it has something to decide (a message to answer, a job to request, a treasury
// turn), and the rewards of every tick between two of its decisions are summed and
// handed to it with the later batch entry (semi-Markov credit; the sum telescopes, so
// with the wealth-change reward an agent's rewards add up to its wealth change).
//
// Observations are ObsDim float32 features (the Feat* constants, docs/env.md), the same
// layout for every agent; [Env.Space] gives an agent's spaces, with the features it may
// not see (an IoT-class provider sees only on-chain data; clients have no electricity)
// always zero. The discrete action space (Act* constants, price multipliers, treasury
// swaps) is the same for every agent; its mask marks an action legal exactly when the
// market would accept the response it decodes to (market.Market.Check: a dry run of the
// scheme and the chain), and waiting is always legal. A continuous price multiplier is an
// option. Scripted policies may skip the vectors (SetEncoding(false)) and answer with
// structured market responses. [RandomLegal] is the cost-aware random-legal policy.
// Rewards are wealth change, log return, differential Sharpe ratio or differential
// downside deviation ratio (package metrics), scaled and clipped. [Vec] steps K
// environments on worker goroutines; each is owned by one goroutine at a time and results
// are gathered in index order, so the number of workers never changes a result.
//
// It draws no random numbers of its own: the world and the market own their seeded
// streams, and a policy brings its own.
package env
