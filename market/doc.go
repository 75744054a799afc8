// Package market is the marketplace engine of hivegym: the agents (providers and
// clients), their jobs and negotiation threads, the tick loop, and the simulated L2 chain
// that every deal settles on. docs/market.md describes the engine tick by tick.
//
// # The engine
//
// [New] builds a [Market] from a [Setup]: the market section of the config
// ([EngineConfig], with [DefaultEngineConfig] and Validate), the scheme section, and
// what the engine refers to in the world by name (the catalog's GPU models, the
// electricity locations) and the scenario's knobs (provider churn, demand multiplier).
// The market does not import the world (package data): each tick the caller passes the
// exogenous state as a plain [Exo] (token prices in USD, the fee markets, electricity per
// location and a forecast), which keeps the engine testable with hand-set prices.
//
// [Market.Reset] samples an episode's populations from the classes' distributions
// (machines, locations, reliability, arrival rates, wallets), creates the accounts and
// mints the wallets at genesis. A tick is [Market.BeginTick] (electricity bills, provider
// churn, the calendar of deadlines, escrow landings, job completions and failures and
// validations, delivery of last tick's messages, job arrivals, treasury turns), then
// rounds of [Market.Decisions] answered with [Market.Apply] (at most one decision per
// agent per round, so what a decision allows is what Apply accepts), then
// [Market.EndTick] (electricity accrual, every wallet marked to market in USD, per-tick
// returns). [Market.Step] runs a whole tick with a [Policy]. Decisions are structured
// values ([Decision], answered by a [Response]); read-only views (Wallet, WealthUSD,
// Machine, Electricity, Thread, History, Reputation, ProviderCostUSD, ClientValueUSD,
// [Market.Check]) give a policy the context an agent may see. [RandomPolicy] is the
// cost-aware random-legal policy. [TraceWriter] writes the JSON Lines trace of
// specs/cli.md; without one nothing is formatted.
//
// Every protocol rule is the scheme's: the engine steps a thread with each message,
// checks that the chain can apply every effect (funds, gas, capacity, attestation
// deadlines), then maps each effect to one chain op; a refused message changes nothing
// and the sender learns of it through LastError. Data are struct-of-arrays slices
// indexed by dense ids (an agent's id is its account id; threads are the chain's
// thread ids); messages are double-buffered (sent this tick, delivered next); events sit
// in a binary heap; job arrivals are one Poisson draw per tick spread over clients by an
// alias table, so a tick costs in proportion to messages and running jobs, plus one
// tight marking pass over the agents. Nothing allocates per message or per decision in
// steady state. Every random draw comes from a named stream of internal/rng under the
// run seed (market.population, market.arrivals, market.jobs, market.discovery,
// market.failures, market.validation, market.churn), iteration never follows map
// order, so the same seed gives the same run and the same trace bytes.
//
// It must not import data, env or agents, read the clock, print, or panic on bad input
// (a panic marks a broken internal invariant only).
//
// # The chain
//
// The simulated L2 chain that every deal settles on: the ledger, gas, the attestation
// registry and reputation (specs/scheme.md "The simulated chain (an L2)", specs/world.md
// "Gas", DESIGN.md "Core contracts").
//
// What the chain owns:
//
//   - Accounts ([AccountID], dense from 0) derived from each agent's ed25519 public key
//     (address = first 20 bytes of SHA-256(pubkey)), and four system accounts that exist by
//     name for traces: escrow (the registry, which holds payments and collateral),
//     sequencer (receives priority and L1 data fees), burn (EIP-1559 base fees) and mint
//     (the source of new supply).
//   - Balances per asset ([USDC], [ETH] kept in gwei, [HIVE]) as int64 base units. Every
//     add and multiply that could overflow is checked and fails with [ErrOverflow].
//   - Ledger ops: [Chain.Mint], [Chain.Transfer], and per thread (one client, one provider,
//     one job; [Chain.OpenThread]) [Chain.LockEscrow], [Chain.LockCollateral],
//     [Chain.PayProvider], [Chain.RefundClient], [Chain.ReturnCollateral],
//     [Chain.SlashCollateral]. Each validates first and either succeeds or returns a
//     sentinel error and changes nothing. Payment and collateral are each settled at most
//     once.
//   - Gas ([Chain.ChargeGas]): gas units per transaction kind times the tick's L2 base fee
//     plus priority fee, plus the L1 data fee, in wei, charged to the sender in whole gwei.
//   - The attestation registry ([Chain.Attest]): buy <- sell <- validation records linked
//     by refUID, checked like CoopHive's EAS resolver.
//   - Reputation ([Chain.Reputation]): per account counts of deals completed, failed,
//     cancelled and slashed, updated by settlement, readable by every agent in O(1).
//
// Conservation holds after every op: per asset, the balances of all agent accounts plus
// the sequencer, plus what the escrow holds, plus what was burned, equal the total minted
// (genesis included). [Chain.CheckInvariants] verifies it.
//
// # What the chain must not do
//
// It does not decide protocol legality: the scheme package validates messages and
// returns effects, and the market engine maps each effect to exactly one chain op. The
// chain (chain.go, ledger.go, gas.go, registry.go, reputation.go) never refers to the
// scheme (only the engine does), never reads the clock, never draws random numbers,
// never logs and never panics on bad input. Hot-path ops do not allocate in steady state
// (state lives in slices indexed by integer ids; slices grow by amortised doubling and
// [Chain.Reset] keeps their capacity) and failures return bare sentinel errors, so a
// rejected op costs no allocation either.
package market
