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
package env
