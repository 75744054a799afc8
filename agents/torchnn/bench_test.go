//go:build torch

package torchnn

import (
	"flag"
	"fmt"
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/agents/nn/nntest"
)

// threads sets libtorch's intra-op thread count for the benchmarks (0 leaves libtorch's
// default); the pure-Go backend is single-threaded by design.
var threads = flag.Int("torchnn.threads", 0, "libtorch intra-op threads for the benchmarks (0: libtorch's default)")

// benchBackends returns both backends, the pure-Go one first, so that one benchmark run
// prints them side by side.
func benchBackends(b *testing.B) []nn.Backend {
	if *threads > 0 {
		if err := SetNumThreads(*threads); err != nil {
			b.Fatal(err)
		}
	}
	return []nn.Backend{nn.GoBackend{}, Backend{}}
}

var benchBatches = []int{1, 64, 1024}

// BenchmarkForward: the policy net 64 → 64 → 64 → 16 (tanh) of agents/nn's benchmarks,
// forward passes in decisions/s (rows per second) at batch 1, 64 and 1024.
func BenchmarkForward(b *testing.B) {
	for _, be := range benchBackends(b) {
		for _, batch := range benchBatches {
			b.Run(fmt.Sprintf("backend=%s/batch=%d", be.Name(), batch), func(b *testing.B) {
				nntest.BenchForward(b, be, nntest.PolicyBenchSpec(), batch)
			})
		}
	}
}

// BenchmarkBackward: parameter gradients of the same net in samples/s.
func BenchmarkBackward(b *testing.B) {
	for _, be := range benchBackends(b) {
		for _, batch := range benchBatches {
			b.Run(fmt.Sprintf("backend=%s/batch=%d", be.Name(), batch), func(b *testing.B) {
				nntest.BenchBackward(b, be, nntest.PolicyBenchSpec(), batch)
			})
		}
	}
}

// BenchmarkAdamStep: one clipped Adam step over the policy net's 9.3k parameters, in
// params/s.
func BenchmarkAdamStep(b *testing.B) {
	spec := nntest.PolicyBenchSpec()
	for _, be := range benchBackends(b) {
		b.Run("backend="+be.Name(), func(b *testing.B) {
			m, err := be.NewMLP(spec, 1)
			if err != nil {
				b.Fatal(err)
			}
			opt, err := be.NewAdam(nn.DefaultAdam(), m)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := opt.Step(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*float64(spec.NumParams())/b.Elapsed().Seconds(), "params/s")
		})
	}
}
