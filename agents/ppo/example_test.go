package ppo_test

import (
	"fmt"

	"github.com/hivegym/hivegym/agents/ppo"
	"github.com/hivegym/hivegym/internal/rng"
)

// The environment glue's side of PPO on a two-armed bandit seen by four agents of one
// group: act in one batch, record each decision, credit its reward, end the (one-step)
// episode, and update when the rollout is full. Arm 1 pays 1, arm 0 pays 0.
func Example() {
	cfg := ppo.DefaultConfig()
	cfg.LearningRate = 0.01
	cfg.Hidden = []int{16}
	l, err := ppo.New("providers", cfg, 1, 2, 42)
	if err != nil {
		fmt.Println(err)
		return
	}
	buf := l.NewBuffer()
	act := rng.New(42, "act")
	const agents = 4
	obs := []float32{1, 1, 1, 1} // one feature per agent
	actions, logps, values := make([]int, agents), make([]float32, agents), make([]float32, agents)
	var last ppo.Stats
	for tick := int64(0); tick < 256; tick++ {
		if err := l.Act(obs, nil, agents, act, actions, logps, values); err != nil {
			fmt.Println(err)
			return
		}
		for i := 0; i < agents; i++ {
			_ = buf.Add(i, tick, obs[i:i+1], nil, actions[i], logps[i], values[i])
			_ = buf.Reward(i, tick, float64(actions[i])) // the reward of this tick
			_ = buf.End(i, tick+1, true, 0)              // the episode terminates
		}
		if buf.Finished() >= 64 {
			if last, err = l.Update(buf); err != nil {
				fmt.Println(err)
				return
			}
		}
	}
	greedy := make([]int, 1)
	_ = l.Greedy(obs[:1], nil, 1, greedy)
	fmt.Println("updates:", l.Updates(), "greedy arm:", greedy[0])
	for _, m := range last.List() {
		fmt.Println(m.Name)
	}
	// Output:
	// updates: 16 greedy arm: 1
	// losses/policy_loss
	// losses/value_loss
	// losses/entropy
	// losses/old_approx_kl
	// losses/approx_kl
	// losses/clipfrac
	// losses/explained_variance
	// charts/learning_rate
	// losses/init_kl
}
