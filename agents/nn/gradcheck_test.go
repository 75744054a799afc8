package nn

import (
	"math"
	"testing"

	"github.com/hivegym/hivegym/internal/rng"
)

// TestGradientCheck checks every parameter gradient and every input gradient of a
// 2-hidden-layer MLP, with tanh and with ReLU, against central finite differences. It
// runs the float64 instantiation of the same generic code the float32 backend runs, so
// the check is tight: loss L = Σ c⊙y over a batch of 4 with fixed random c,
// h = 1e-6, |analytic - fd| <= 1e-6·(1 + |fd|). For ReLU, rows with a hidden
// pre-activation within 1e-3 of the kink are dropped first, so no perturbation crosses it.
func TestGradientCheck(t *testing.T) {
	for _, act := range []Activation{Tanh, ReLU} {
		t.Run(string(act), func(t *testing.T) {
			spec := MLPSpec{Name: "g", In: 5, Hidden: []int{8, 6}, Out: 3, Activation: act, HiddenGain: 1, OutGain: 1}
			m, err := newMLP[float64](spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			r := rng.New(7, "gradcheck."+string(act))
			for i := range m.params {
				m.params[i] = 0.6 * r.NormFloat64() // biases too, so none is trivially zero
			}
			var x []float64
			for len(x) < 4*spec.In {
				row := make([]float64, spec.In)
				for i := range row {
					row[i] = r.NormFloat64()
				}
				if act == ReLU && nearKink(m, row, 1e-3) {
					continue
				}
				x = append(x, row...)
			}
			batch := len(x) / spec.In
			c := make([]float64, batch*spec.Out)
			for i := range c {
				c[i] = r.NormFloat64()
			}
			m.grow(batch)
			loss := func() float64 {
				copy(m.acts[0], x)
				y := m.forward(batch)
				var s float64
				for i, v := range y {
					s += c[i] * v
				}
				return s
			}
			loss()
			m.ZeroGrad()
			copy(m.dA, c)
			gin := append([]float64(nil), m.backward(true)...)
			grads := append([]float64(nil), m.grads...)

			const h, tol = 1e-6, 1e-6
			fd := func(v *float64) float64 {
				keep := *v
				*v = keep + h
				up := loss()
				*v = keep - h
				down := loss()
				*v = keep
				return (up - down) / (2 * h)
			}
			checked := 0
			for i := range m.params {
				want := fd(&m.params[i])
				if math.Abs(grads[i]-want) > tol*(1+math.Abs(want)) {
					t.Errorf("parameter %d: analytic %.10g, finite difference %.10g", i, grads[i], want)
				}
				checked++
			}
			for i := range x {
				want := fd(&x[i])
				if math.Abs(gin[i]-want) > tol*(1+math.Abs(want)) {
					t.Errorf("input %d: analytic %.10g, finite difference %.10g", i, gin[i], want)
				}
			}
			if checked != spec.NumParams() {
				t.Fatalf("checked %d parameters, the spec has %d", checked, spec.NumParams())
			}
		})
	}
}

// nearKink reports whether any hidden pre-activation of m on input row is within eps of 0,
// computed with plain loops over m's parameter layout.
func nearKink(m *mlp[float64], row []float64, eps float64) bool {
	a := row
	for l, ly := range m.layers[:len(m.layers)-1] {
		_ = l
		z := make([]float64, ly.out)
		for o := range z {
			s := m.params[ly.b+o]
			for i, v := range a {
				s += m.params[ly.w+o*ly.in+i] * v
			}
			if math.Abs(s) < eps {
				return true
			}
			z[o] = math.Max(s, 0)
		}
		a = z
	}
	return false
}
