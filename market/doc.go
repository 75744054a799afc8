// Package market is the marketplace engine of hivegym. This part of it is the simulated
// L2 chain that every deal settles on: the ledger, gas, the attestation registry and
// reputation (specs/scheme.md "The simulated chain (an L2)", specs/world.md "Gas",
// DESIGN.md "Core contracts").
//
// # What the chain owns
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
// chain never imports the scheme, never reads the clock, never draws random numbers,
// never logs and never panics on bad input. Hot-path ops do not allocate in steady state
// (state lives in slices indexed by integer ids; slices grow by amortised doubling and
// [Chain.Reset] keeps their capacity) and failures return bare sentinel errors, so a
// rejected op costs no allocation either.
package market
