package nntest

import (
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/internal/rng"
)

// PolicyBenchSpec is the policy network the benchmarks use: 64 observation features, two
// tanh hidden layers of 64, 16 action logits.
func PolicyBenchSpec() nn.MLPSpec { return nn.PolicySpec("policy", 64, []int{64, 64}, 16) }

// BenchForward measures Forward on batches of batch random inputs and reports
// decisions/s (one decision per row). The first call, which grows the buffers, is outside
// the timed loop.
func BenchForward(b *testing.B, be nn.Backend, spec nn.MLPSpec, batch int) {
	m, err := be.NewMLP(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	x := randVec(rng.New(1, "nntest.bench"), batch*spec.In, 1)
	out := make([]float32, batch*spec.Out)
	if err := m.Forward(out, x, batch); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := m.Forward(out, x, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(batch)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchBackward measures Backward (parameter gradients only, no input gradient) after one
// Forward on batch rows and reports samples/s.
func BenchBackward(b *testing.B, be nn.Backend, spec nn.MLPSpec, batch int) {
	m, err := be.NewMLP(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	r := rng.New(2, "nntest.bench")
	x := randVec(r, batch*spec.In, 1)
	g := randVec(r, batch*spec.Out, 1)
	out := make([]float32, batch*spec.Out)
	if err := m.Forward(out, x, batch); err != nil {
		b.Fatal(err)
	}
	if err := m.Backward(nil, g); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := m.Backward(nil, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(batch)/b.Elapsed().Seconds(), "samples/s")
}
