package nntest

import (
	"math"
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/internal/rng"
)

// TestReferenceGradients checks the reference MLP, the oracle of the conformance suite,
// against central finite differences in float64: for the loss L = Σ c·y with fixed
// random coefficients c, every parameter and input derivative must agree with
// (L(θ+h) - L(θ-h)) / 2h, h = 1e-6, to 1e-6 relative.
func TestReferenceGradients(t *testing.T) {
	for _, act := range []nn.Activation{nn.Tanh, nn.ReLU} {
		spec := nn.MLPSpec{In: 4, Hidden: []int{5, 3}, Out: 2, Activation: act, HiddenGain: 1, OutGain: 1}
		r := rng.New(1, "reference."+string(act))
		ref := newReference(spec, randomParams(spec, r))
		x := toF64(randVec(r, spec.In, 1))
		c := toF64(randVec(r, spec.Out, 1))
		loss := func() float64 {
			y, _ := ref.forward(x)
			var s float64
			for i := range y {
				s += c[i] * y[i]
			}
			return s
		}
		gw, gb, gx := ref.gradients(x, c)
		const h, tol = 1e-6, 1e-6
		check := func(what string, v *float64, want float64) {
			keep := *v
			*v = keep + h
			up := loss()
			*v = keep - h
			down := loss()
			*v = keep
			fd := (up - down) / (2 * h)
			if math.Abs(fd-want) > tol*(1+math.Abs(fd)) {
				t.Errorf("%s %s: analytic %.10g, finite difference %.10g", act, what, want, fd)
			}
		}
		for l := range ref.w {
			for i := range ref.w[l] {
				check("weight", &ref.w[l][i], gw[l][i])
			}
			for i := range ref.b[l] {
				check("bias", &ref.b[l][i], gb[l][i])
			}
		}
		for i := range x {
			check("input", &x[i], gx[i])
		}
	}
}
