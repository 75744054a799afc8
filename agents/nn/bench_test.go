package nn_test

import (
	"fmt"
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/agents/nn/nntest"
)

// BenchmarkPolicyForward: the policy net 64 → 64 → 64 → 16 (tanh), decisions/s at batch 1
// (one agent acting) and 1024 (a vectorized env acting at once).
func BenchmarkPolicyForward(b *testing.B) {
	for _, batch := range []int{1, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			nntest.BenchForward(b, nn.GoBackend{}, nntest.PolicyBenchSpec(), batch)
		})
	}
}

// BenchmarkBackward: parameter gradients of the same net, samples/s at minibatch sizes 64
// and 1024.
func BenchmarkBackward(b *testing.B) {
	for _, batch := range []int{64, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			nntest.BenchBackward(b, nn.GoBackend{}, nntest.PolicyBenchSpec(), batch)
		})
	}
}

// BenchmarkAdamStep: one clipped Adam step over the policy net's 9.3k parameters.
func BenchmarkAdamStep(b *testing.B) {
	m, _ := nn.GoBackend{}.NewMLP(nntest.PolicyBenchSpec(), 1)
	opt, err := nn.GoBackend{}.NewAdam(nn.DefaultAdam(), m)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := opt.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(nntest.PolicyBenchSpec().NumParams())/b.Elapsed().Seconds(), "params/s")
}
