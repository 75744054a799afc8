//go:build torch

package torchnn

import (
	"testing"

	"github.com/hivegym/hivegym/agents/nn/nntest"
)

// TestConformance runs the agents/nn backend conformance suite (forward, backward and
// Adam against hand-computed values and a float64 reference MLP, determinism, parameter
// round trips, error cases, learning a sine) on the libtorch backend.
func TestConformance(t *testing.T) { nntest.Run(t, Backend{}) }
