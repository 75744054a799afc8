package nn_test

import (
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/agents/nn/nntest"
)

func TestConformance(t *testing.T) { nntest.Run(t, nn.GoBackend{}) }
