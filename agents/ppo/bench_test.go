package ppo

import (
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// benchSizes: the realistic size of the brief: 64 observation floats, two hidden layers
// of 64, 16 actions.
const benchObs, benchActions = 64, 16

func benchLearner(b *testing.B) *Learner {
	l, err := New("bench", DefaultConfig(), benchObs, benchActions, 1)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// benchBatch returns random observations and masks (each action legal with
// probability 3/4, action 0 always) for n rows.
func benchBatch(n int) ([]float32, []bool) {
	r := rng.New(1, "bench.obs")
	obs, masks := make([]float32, n*benchObs), make([]bool, n*benchActions)
	for i := range obs {
		obs[i] = float32(r.NormFloat64())
	}
	for i := range masks {
		masks[i] = i%benchActions == 0 || r.IntN(4) > 0
	}
	return obs, masks
}

// fillFrom makes b a copy of src's decisions, reusing b's storage.
func (b *Buffer) fillFrom(src *Buffer) {
	b.agent, b.tick = append(b.agent[:0], src.agent...), append(b.tick[:0], src.tick...)
	b.obs, b.masks = append(b.obs[:0], src.obs...), append(b.masks[:0], src.masks...)
	b.states = append(b.states[:0], src.states...)
	b.actions, b.logps = append(b.actions[:0], src.actions...), append(b.logps[:0], src.logps...)
	b.values, b.rewards = append(b.values[:0], src.values...), append(b.rewards[:0], src.rewards...)
	b.dt, b.next = append(b.dt[:0], src.dt...), append(b.next[:0], src.next...)
	b.state, b.boot = append(b.state[:0], src.state...), append(b.boot[:0], src.boot...)
	b.adv, b.ret = append(b.adv[:0], src.adv...), append(b.ret[:0], src.ret...)
	b.openAt, b.nOpen = append(b.openAt[:0], src.openAt...), src.nOpen
}

// BenchmarkPPOUpdate: one update on 2048 decisions (64 agents deciding 32 times each,
// dt of 1 to 3 ticks), 4 epochs of 4 minibatches of 512, CleanRL's defaults. samples/s
// counts the rollout's decisions (each is passed over 4 times).
func BenchmarkPPOUpdate(b *testing.B) {
	const agents, perAgent = 64, 32
	l := benchLearner(b)
	obs, masks := benchBatch(agents)
	r := rng.New(2, "bench.act")
	actions, logps, values := make([]int, agents), make([]float32, agents), make([]float32, agents)
	tmpl := l.NewBuffer()
	for step := 0; step < perAgent; step++ {
		if err := l.Act(obs, masks, agents, r, actions, logps, values); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < agents; i++ {
			tick := int64(step*3 + i%3)
			if err := tmpl.Add(i, tick, obs[i*benchObs:(i+1)*benchObs], masks[i*benchActions:(i+1)*benchActions], actions[i], logps[i], values[i]); err != nil {
				b.Fatal(err)
			}
			if err := tmpl.Reward(i, tick, r.NormFloat64()); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := 0; i < agents; i++ {
		if err := tmpl.End(i, perAgent*3+3, i%2 == 0, 0.5); err != nil {
			b.Fatal(err)
		}
	}
	if tmpl.Finished() != agents*perAgent {
		b.Fatalf("%d finished decisions", tmpl.Finished())
	}
	buf := l.NewBuffer()
	buf.fillFrom(tmpl)
	if _, err := l.Update(buf); err != nil { // warm the scratch buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		buf.fillFrom(tmpl)
		b.StartTimer()
		if _, err := l.Update(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*agents*perAgent/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkAct: sampled actions, log-probabilities and values for a batch of 1024
// agents, one forward pass of each network.
func BenchmarkAct(b *testing.B) {
	const batch = 1024
	l := benchLearner(b)
	obs, masks := benchBatch(batch)
	r := rng.New(2, "bench.act")
	actions, logps, values := make([]int, batch), make([]float32, batch), make([]float32, batch)
	if err := l.Act(obs, masks, batch, r, actions, logps, values); err != nil { // grow the buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Act(obs, masks, batch, r, actions, logps, values); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*batch/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkActCentral: BenchmarkAct with a centralized critic reading 9 state floats
// beside each observation (the env's StateDim): the cost of assembling the critic's
// input rows and of its wider first layer.
func BenchmarkActCentral(b *testing.B) {
	const batch, stateDim = 1024, 9
	l, err := NewCentralized("bench", DefaultConfig(), benchObs, stateDim, benchActions, 1)
	if err != nil {
		b.Fatal(err)
	}
	obs, masks := benchBatch(batch)
	state := make([]float32, batch*stateDim)
	for i := range state {
		state[i] = float32(i%7) / 7
	}
	r := rng.New(2, "bench.act")
	actions, logps, values := make([]int, batch), make([]float32, batch), make([]float32, batch)
	if err := l.ActState(obs, state, masks, batch, r, actions, logps, values); err != nil { // grow the buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.ActState(obs, state, masks, batch, r, actions, logps, values); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*batch/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkBuffer: recording decisions, one Add, one Reward and every 8th an End per
// decision, 64-float observations (the glue's per-decision bookkeeping).
func BenchmarkBuffer(b *testing.B) {
	l := benchLearner(b)
	buf := l.NewBuffer()
	obs, masks := benchBatch(1)
	const agents = 256
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		if buf.Len() >= 4096 {
			buf.Reset()
		}
		i, tick := n%agents, int64(n/agents)
		if err := buf.Add(i, tick, obs, masks, 0, -1, 0.5); err != nil {
			b.Fatal(err)
		}
		if err := buf.Reward(i, tick, 0.1); err != nil {
			b.Fatal(err)
		}
		if n%8 == 0 {
			if err := buf.End(i, tick+1, false, 0.5); err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
