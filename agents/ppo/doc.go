// Package ppo is hivegym's proximal policy optimization learner: PPO-clip with GAE in
// CleanRL's style, over masked categorical actions, with semi-Markov credit assignment
// for event-driven decisions and independent learners with parameter sharing.
//
// # Reading order
//
// ppo.go holds the algorithm top to bottom, as CleanRL's ppo.py: the hyperparameters
// (Config, with CleanRL's defaults and YAML keys), the Learner (one actor and one critic
// MLP from an nn backend, one Adam optimizer over both), acting (Act, Greedy, Value), the
// advantage estimate (GAE over each agent's own decision sequence, discounted by elapsed
// ticks), the Update (epochs of shuffled minibatches, clipped surrogate, clipped value
// loss, entropy bonus, per-minibatch advantage normalization, global-norm gradient
// clipping, optional target-KL stop) and the per-sample losses with their gradients.
// buffer.go is the rollout storage; checkpoint.go the safetensors checkpoints.
//
// # Data flow
//
// The learner is environment-agnostic: it sees flat float32 observation rows, boolean
// legal-action masks and integer actions. One policy group (agents sharing parameters)
// has one Learner and one Buffer; several groups learn side by side, each with its own.
// Per decision batch the glue calls
//
//	l.Act(obs, masks, n, actRNG, actions, logps, values)      // one forward pass per network
//	for each row i: buf.Add(agentKey[i], tick, obs_i, mask_i, actions[i], logps[i], values[i])
//
// per reward buf.Reward(agentKey, tick, r), at an episode's end buf.End(agentKey, tick,
// terminated, value) (value from l.Value for truncations), and when buf.Finished()
// reaches the rollout size, stats, err := l.Update(buf). See Buffer for the semantics.
//
// A group with a centralized critic (NewCentralized, MAPPO's agent-specific global state)
// passes the rows' state beside the observations: ActState, buf.AddState and ValueState
// instead of Act, Add and Value. The actor never reads it.
//
// # Metrics
//
// Update returns Stats: CleanRL's metric names in a fixed order (MetricPolicyLoss ...
// MetricLearningRate), as a slice of name/value pairs, never a map, so logs are
// byte-identical run to run.
//
// # Determinism
//
// The initial weights come from streams of the seed and the group name; the minibatch
// shuffles from a stream of the seed, the group name and the update count; actions from
// the *rand.Rand the caller passes. There is no global random source and no map
// iteration in any computation. With the go backend, Act and Update run the actor's and
// the critic's passes on two goroutines; they share no state and each does exactly what
// it would in series, so scheduling cannot change a result. The same seed and the same
// inputs give bit-identical parameters, and a learner restored from a checkpoint continues exactly as
// the uninterrupted run.
//
// # What this package must not do
//
// It knows nothing of the market, the scheme or the meaning of observations and actions;
// it reads no files and chooses no paths (Save and Restore take an io.Writer and an
// io.Reader); it does not compute rewards (the environment does); it never panics on bad
// input: shapes, configs and checkpoints are checked and reported as errors.
package ppo
