// Package agents holds the policies that act in the environment: the Policy interface
// that acts on a batch of observations, populations that map agents to policies,
// scripted baselines, and learners.
//
// Subpackages: nn is the network backend interface with its pure-Go implementation;
// checkpoint reads and writes the safetensors format; torchnn (build tag torch) is the
// libtorch backend. agents depends on env only through its observation and action
// types; it must not reach into the market or the chain, so a policy sees exactly what
// its observation shows.
package agents
