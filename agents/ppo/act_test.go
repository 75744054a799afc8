package ppo

import (
	"errors"
	"math"
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/internal/rng"
)

// biasedLearner returns a learner whose actor strongly prefers action 0 (its output
// bias is +20 there), so that masking, not chance, is what keeps action 0 out.
func biasedLearner(t *testing.T, obsDim, nActions int) *Learner {
	t.Helper()
	l, err := New("masks", DefaultConfig(), obsDim, nActions, 5)
	if err != nil {
		t.Fatal(err)
	}
	ps := l.actor.Params()
	last := ps[len(ps)-1] // the logits' bias
	last.Data[0] = 20
	if err := l.actor.SetParams(ps); err != nil {
		t.Fatal(err)
	}
	return l
}

// The policy never samples a masked action: 200 batches of 64 rows with random masks,
// action 0 (which the actor favours by e^20) masked in most rows, and a row with a
// single legal action always gets that action with log-probability 0.
func TestActNeverSamplesMasked(t *testing.T) {
	const d, k, batch = 4, 7, 64
	l := biasedLearner(t, d, k)
	r := rng.New(1, "masks")
	obs, masks := make([]float32, batch*d), make([]bool, batch*k)
	actions, logps, values := make([]int, batch), make([]float32, batch), make([]float32, batch)
	greedy := make([]int, batch)
	var zeroPicked, zeroLegal int
	for it := 0; it < 200; it++ {
		for i := range obs {
			obs[i] = float32(r.NormFloat64())
		}
		for row := 0; row < batch; row++ {
			m := masks[row*k : (row+1)*k]
			legal := 0
			for j := range m {
				m[j] = r.IntN(3) == 0
				if j == 0 {
					m[j] = r.IntN(10) == 0
				}
				if m[j] {
					legal++
				}
			}
			if legal == 0 || row == 0 {
				clear(m)
				m[1+r.IntN(k-1)] = true // a row with exactly one legal action
			}
		}
		must(t, l.Act(obs, masks, batch, r, actions, logps, values))
		must(t, l.Greedy(obs, masks, batch, greedy))
		for row := 0; row < batch; row++ {
			m := masks[row*k : (row+1)*k]
			if !m[actions[row]] {
				t.Fatalf("batch %d row %d: sampled masked action %d (mask %v)", it, row, actions[row], m)
			}
			if !m[greedy[row]] {
				t.Fatalf("batch %d row %d: greedy chose masked action %d", it, row, greedy[row])
			}
			if row == 0 && logps[row] != 0 {
				t.Fatalf("the only legal action has log-probability %g, want 0", logps[row])
			}
			if m[0] {
				zeroLegal++
				if actions[row] == 0 {
					zeroPicked++
				}
			}
		}
	}
	// Where action 0 is legal the bias makes it almost certain: the mask is what kept it
	// out elsewhere.
	if zeroLegal == 0 || float64(zeroPicked) < 0.99*float64(zeroLegal) {
		t.Errorf("action 0 picked %d times of %d where legal, want nearly always", zeroPicked, zeroLegal)
	}

	all := make([]bool, k)
	if err := l.Act(obs[:d], all, 1, r, actions[:1], nil, nil); !errors.Is(err, nn.ErrNoLegalAction) {
		t.Errorf("row with no legal action: %v, want nn.ErrNoLegalAction", err)
	}
	if err := l.Greedy(obs[:d], all, 1, actions[:1]); !errors.Is(err, nn.ErrNoLegalAction) {
		t.Errorf("greedy, row with no legal action: %v", err)
	}
}

// Act's outputs for a row do not depend on the rest of the batch, its log-probabilities
// are the categorical's of the actor's logits, its values the critic's, and the
// sampled frequencies follow the probabilities.
func TestActOutputs(t *testing.T) {
	const d, k, batch = 5, 4, 32
	l, err := New("act", DefaultConfig(), d, k, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Make the policy far from uniform so that frequencies are informative.
	ps := l.actor.Params()
	copy(ps[len(ps)-1].Data, []float32{1, 0, -1, 0.5})
	must(t, l.actor.SetParams(ps))

	r := rng.New(2, "obs")
	obs := make([]float32, batch*d)
	for i := range obs {
		obs[i] = float32(r.NormFloat64())
	}
	masks := make([]bool, batch*k)
	for i := range masks {
		masks[i] = i%k != 3 || i/k%2 == 0 // action 3 masked in odd rows
	}
	actions, logps, values := make([]int, batch), make([]float32, batch), make([]float32, batch)
	must(t, l.Act(obs, masks, batch, rng.New(3, "a"), actions, logps, values))
	one, lp1, v1 := make([]int, 1), make([]float32, 1), make([]float32, 1)
	logits := make([]float32, k)
	var dist nn.Categorical
	for row := 0; row < batch; row++ {
		x, m := obs[row*d:(row+1)*d], masks[row*k:(row+1)*k]
		must(t, l.Act(x, m, 1, rng.New(1, "b"), one, lp1, v1))
		if v1[0] != values[row] {
			t.Errorf("row %d: value %g alone, %g in the batch", row, v1[0], values[row])
		}
		must(t, l.actor.Forward(logits, x, 1))
		must(t, dist.Set(logits, m))
		if want := float32(dist.LogProb(actions[row])); logps[row] != want {
			t.Errorf("row %d: log-probability %g, want %g", row, logps[row], want)
		}
	}

	// Frequencies over 20000 draws of one row against its probabilities: each within
	// 5 standard errors sqrt(p(1-p)/n).
	const n = 20000
	x, m := obs[:d], masks[:k]
	must(t, l.actor.Forward(logits, x, 1))
	must(t, dist.Set(logits, m))
	counts := make([]int, k)
	ar := rng.New(4, "freq")
	for i := 0; i < n; i++ {
		must(t, l.Act(x, m, 1, ar, one, nil, nil))
		counts[one[0]]++
	}
	for a, c := range counts {
		p := dist.Prob(a)
		if se := math.Sqrt(p * (1 - p) / n); math.Abs(float64(c)/n-p) > 5*se+1e-12 {
			t.Errorf("action %d: frequency %.4f, probability %.4f", a, float64(c)/n, p)
		}
	}
}

// A steady state of Act allocates nothing.
func TestActAllocs(t *testing.T) {
	const d, k, batch = 8, 5, 128
	l, err := New("allocs", DefaultConfig(), d, k, 1)
	if err != nil {
		t.Fatal(err)
	}
	obs := make([]float32, batch*d)
	actions, logps, values := make([]int, batch), make([]float32, batch), make([]float32, batch)
	r := rng.New(1, "allocs")
	must(t, l.Act(obs, nil, batch, r, actions, logps, values))
	if n := testing.AllocsPerRun(20, func() {
		if err := l.Act(obs, nil, batch, r, actions, logps, values); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Act allocates %g times per call", n)
	}
}

func TestActShapeErrors(t *testing.T) {
	l, err := New("shapes", DefaultConfig(), 3, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rng.New(1, "x")
	obs := make([]float32, 6)
	a, lp, v := make([]int, 2), make([]float32, 2), make([]float32, 2)
	for name, err := range map[string]error{
		"short obs":     l.Act(obs[:5], nil, 2, r, a, lp, v),
		"short mask":    l.Act(obs, make([]bool, 3), 2, r, a, lp, v),
		"short actions": l.Act(obs, nil, 2, r, a[:1], lp, v),
		"short logps":   l.Act(obs, nil, 2, r, a, lp[:1], v),
		"long values":   l.Act(obs, nil, 2, r, a, lp, make([]float32, 3)),
		"negative":      l.Act(obs, nil, -1, r, a, lp, v),
		"greedy":        l.Greedy(obs, nil, 2, a[:1]),
		"value":         l.Value(obs, 2, v[:1]),
	} {
		if !errors.Is(err, ErrShape) {
			t.Errorf("%s: %v, want ErrShape", name, err)
		}
	}
	if err := l.Act(obs, nil, 2, nil, a, lp, v); err == nil {
		t.Error("Act without a random source succeeded")
	}
	if err := l.Act(nil, nil, 0, r, nil, nil, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
	if _, err := New("x", DefaultConfig(), 0, 2, 1); !errors.Is(err, ErrShape) {
		t.Errorf("no observation: %v", err)
	}
}
