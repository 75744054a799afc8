//go:build torch

package experiments

import (
	"testing"

	_ "github.com/hivegym/hivegym/agents/torchnn" // registers the "torch" backend
)

// TestTrainingRaisesReturnTorch: PPO on the tiny market learns on the libtorch backend
// too (issue 8). make test-torch runs it.
func TestTrainingRaisesReturnTorch(t *testing.T) { testTrainingRaisesReturn(t, "torch") }
