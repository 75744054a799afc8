package nn_test

import (
	"fmt"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/internal/rng"
)

// A masked categorical over four actions with equal logits, action 1 illegal: the three
// legal actions get probability 1/3 each and the entropy is ln 3.
func ExampleCategorical() {
	var c nn.Categorical
	if err := c.Set([]float32{0.5, 0.5, 0.5, 0.5}, []bool{true, false, true, true}); err != nil {
		fmt.Println(err)
		return
	}
	for a := 0; a < 4; a++ {
		fmt.Printf("P(%d) = %.4f\n", a, c.Prob(a))
	}
	fmt.Printf("entropy = %.4f\n", c.Entropy())
	fmt.Println("sampled a legal action:", c.Legal(c.Sample(rng.New(1, "example"))))
	// Output:
	// P(0) = 0.3333
	// P(1) = 0.0000
	// P(2) = 0.3333
	// P(3) = 0.3333
	// entropy = 1.0986
	// sampled a legal action: true
}

// The learner's side of the contract: forward a batch, compute the loss gradient,
// backward, step. Here the policy is pushed toward action 2 in every state by ascending
// log P(2), the gradient the Categorical helper gives.
func ExampleBackend() {
	be, err := nn.Lookup("go")
	if err != nil {
		fmt.Println(err)
		return
	}
	const obs, actions, batch = 4, 3, 8
	policy, _ := be.NewMLP(nn.PolicySpec("actor", obs, []int{16}, actions), 1)
	opt, _ := be.NewAdam(nn.AdamConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MaxGradNorm: 0.5}, policy)

	x := make([]float32, batch*obs)
	r := rng.New(1, "example.obs")
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	logits := make([]float32, batch*actions)
	grad := make([]float32, batch*actions)
	var dist nn.Categorical
	meanP2 := func() float64 {
		_ = policy.Forward(logits, x, batch)
		var s float64
		for row := 0; row < batch; row++ {
			_ = dist.Set(logits[row*actions:(row+1)*actions], nil)
			s += dist.Prob(2) / batch
		}
		return s
	}
	before := meanP2()
	for step := 0; step < 50; step++ {
		_ = policy.Forward(logits, x, batch)
		clear(grad)
		for row := 0; row < batch; row++ {
			_ = dist.Set(logits[row*actions:(row+1)*actions], nil)
			// loss = -mean log P(2): dLoss/dlogits = -(1/batch) ∂log P(2)/∂logits
			_ = dist.AddGradLogProb(grad[row*actions:(row+1)*actions], 2, -1.0/batch)
		}
		opt.ZeroGrad()
		_ = policy.Backward(nil, grad)
		_, _ = opt.Step()
	}
	fmt.Printf("P(2) starts near 1/3: %v\n", before > 0.30 && before < 0.37)
	fmt.Printf("P(2) after 50 steps > 0.95: %v\n", meanP2() > 0.95)
	// Output:
	// P(2) starts near 1/3: true
	// P(2) after 50 steps > 0.95: true
}
