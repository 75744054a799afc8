// Package agents holds the policies that act in the environment: the Policy interface
// that acts on a batch of decisions (Obs: the rows of one policy group, gathered from one
// or several environments), populations that map agents to policy groups (Population,
// Assignment), the scripted adapter that runs the negotiation strategies of package
// strategy in the market (Scripted, with the protocol steps the strategies leave to the
// environment: Protocol, Start, TopUpGas), and the policies of the learners (PPOPolicy,
// DSRPolicy) and of the random-legal baseline (RandomPolicy).
//
// Subpackages: nn is the network backend interface with its pure-Go implementation;
// checkpoint reads and writes the safetensors format; ppo and dsr are the learners;
// strategy the scripted negotiation strategies; torchnn (build tag torch) is the libtorch
// backend.
//
// Learned policies see only their observation vectors and masks. Scripted policies read
// the structured (message, context) instead (DESIGN.md, "Policies"): the decision and the
// market's read-only views (prices, the thread's history, the agent's machine, wallet and
// costs). Nothing here changes the market: policies answer with actions, and the
// environment applies them. agents must not import experiments or cmd, read files or
// clocks, or draw from a random source it was not given.
package agents
