// Package data is hivegym's exogenous world: the series that move whatever the agents
// do, and the hardware they run on.
//
// It owns
//
//   - the synthetic generators, one small type per series, advanced one tick at a time
//     by World.Step: ETH (GBM with Merton jumps, optional GARCH(1,1)), HIVE (beta to ETH
//     plus idiosyncratic noise), USDC (1.0 with optional depegs), L1 gas (the exact
//     EIP-1559 integer recursion per 12-second block, blob base fee of EIP-4844), L2 gas
//     (OP-stack EIP-1559 with elasticity 6 and denominator 250, priority fee and the L1
//     data fee), and electricity per location (daily and weekly profile, an
//     Ornstein-Uhlenbeck deviation, compound-Poisson spikes and negative-price hours);
//   - the trailing windows (Ring) agents observe, and the forecasters (EWMA, AR(1)/OU)
//     that turn a window into a point forecast with a prediction interval;
//   - the hardware catalog (embedded catalog.yaml, extendable from the config) and the
//     provider Machine spec, with the parsers behind `hivegym profile`;
//   - scenarios: named overlays on the Config (baseline, token-crash, gas-spike,
//     heatwave, provider-churn, demand-surge);
//   - CSV import of real series (LoadCSV) with validation that names file and line, and
//     resampling to the tick, so that any series can replace a synthetic one;
//   - its section of the run config (Config, DefaultConfig, Validate).
//
// Everything random is drawn from named streams of internal/rng ("eth", "hive",
// "usdc", "gas.l1", "gas.blob", "gas.l2", "elec.<location>"), so one seed fixes every
// path and adding a location never shifts another series. There is no wall clock: the
// calendar starts at Config.Start and advances by Config.Tick.
//
// It must not import any other hivegym package except internal ones, must not print,
// exit or read flags, and must not allocate in World.Step. Prices are float64 USD; gas
// prices are integers in wei per gas, as the chain sees them, with float views for plots.
// Default parameters are public figures from specs/world.md or stated assumptions; each
// says which in a comment, and docs/world.md compares them with the real files in
// examples/data.
package data
