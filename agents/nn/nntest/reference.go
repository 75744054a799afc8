package nntest

import (
	"math"

	"github.com/hivegym/hivegym/agents/nn"
)

// reference is a slow, obviously correct float64 MLP written with plain loops, the oracle
// the backends are compared against. Its own gradients are checked against central
// finite differences in reference_test.go.
type reference struct {
	spec nn.MLPSpec
	w    [][]float64 // per layer, out×in row-major
	b    [][]float64 // per layer, out
}

// newReference builds the reference network from parameters in nn's naming and layout.
func newReference(spec nn.MLPSpec, ps []nn.Param) *reference {
	byName := map[string]nn.Param{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	names := spec.ParamNames()
	r := &reference{spec: spec}
	for l := 0; 2*l < len(names); l++ {
		r.w = append(r.w, toF64(byName[names[2*l]].Data))
		r.b = append(r.b, toF64(byName[names[2*l+1]].Data))
	}
	return r
}

func toF64(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// widths returns In, Hidden..., Out.
func (r *reference) widths() []int {
	return append(append([]int{r.spec.In}, r.spec.Hidden...), r.spec.Out)
}

func (r *reference) act(z float64) float64 {
	if r.spec.Activation == nn.ReLU {
		return math.Max(z, 0)
	}
	return math.Tanh(z)
}

// forward returns the outputs of one input vector and every layer's activations
// (acts[0] = x, acts[l+1] = output of layer l).
func (r *reference) forward(x []float64) (out []float64, acts [][]float64) {
	w := r.widths()
	acts = [][]float64{x}
	for l := 0; l+1 < len(w); l++ {
		in, n := acts[l], w[l+1]
		z := make([]float64, n)
		for o := 0; o < n; o++ {
			s := r.b[l][o]
			for i, xi := range in {
				s += r.w[l][o*w[l]+i] * xi
			}
			if l+2 < len(w) {
				s = r.act(s)
			}
			z[o] = s
		}
		acts = append(acts, z)
	}
	return acts[len(acts)-1], acts
}

// gradients returns dL/dW, dL/db per layer and dL/dx for one sample, given dL/dOutput.
func (r *reference) gradients(x, gOut []float64) (gw, gb [][]float64, gx []float64) {
	w := r.widths()
	_, acts := r.forward(x)
	nl := len(w) - 1
	gw, gb = make([][]float64, nl), make([][]float64, nl)
	dz := append([]float64(nil), gOut...)
	for l := nl - 1; l >= 0; l-- {
		in, out := w[l], w[l+1]
		gw[l], gb[l] = make([]float64, in*out), append([]float64(nil), dz...)
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				gw[l][o*in+i] = dz[o] * acts[l][i]
			}
		}
		dx := make([]float64, in)
		for i := 0; i < in; i++ {
			for o := 0; o < out; o++ {
				dx[i] += dz[o] * r.w[l][o*in+i]
			}
			if l > 0 { // through the nonlinearity that produced acts[l]
				a := acts[l][i]
				if r.spec.Activation == nn.ReLU {
					if a <= 0 {
						dx[i] = 0
					}
				} else {
					dx[i] *= 1 - a*a
				}
			}
		}
		dz = dx
	}
	return gw, gb, dz
}
