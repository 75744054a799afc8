package nntest

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/internal/rng"
)

// Run runs the conformance suite against backend b. Every backend's tests call it:
//
//	func TestConformance(t *testing.T) { nntest.Run(t, nn.GoBackend{}) }
//
// Numbers are compared with a float64 reference MLP written plainly in this package
// (itself checked against finite differences), with tolerances fit for float32.
func Run(t *testing.T, b nn.Backend) {
	t.Run("Init", func(t *testing.T) { testInit(t, b) })
	t.Run("InvalidSpec", func(t *testing.T) { testInvalidSpec(t, b) })
	t.Run("ForwardMatchesReference", func(t *testing.T) { testForward(t, b) })
	t.Run("BackwardMatchesReference", func(t *testing.T) { testBackward(t, b) })
	t.Run("Deterministic", func(t *testing.T) { testDeterministic(t, b) })
	t.Run("Params", func(t *testing.T) { testParams(t, b) })
	t.Run("ShapeErrors", func(t *testing.T) { testShapeErrors(t, b) })
	t.Run("AdamHandComputed", func(t *testing.T) { testAdam(t, b) })
	t.Run("ClipBoundaries", func(t *testing.T) { testClip(t, b) })
	t.Run("AdamErrors", func(t *testing.T) { testAdamErrors(t, b) })
	t.Run("AdamStateResume", func(t *testing.T) { testAdamResume(t, b) })
	t.Run("LearnsSine", func(t *testing.T) { testLearnsSine(t, b) })
}

// Tolerances. fwdTol bounds |got-want| / (1+|want|) for outputs and gradients computed in
// float32 against the float64 reference: values are O(1) sums of at most a few dozen
// float32 products, whose rounding error is ~1e-6.
const fwdTol = 2e-5

func close32(got float32, want, tol float64) bool {
	return math.Abs(float64(got)-want) <= tol*(1+math.Abs(want))
}

// testSpecs are small networks of every shape the suite covers: two hidden layers with
// tanh and with ReLU, a wide-then-narrow one, and a linear model.
func testSpecs() []nn.MLPSpec {
	return []nn.MLPSpec{
		{Name: "tanh", In: 5, Hidden: []int{7, 6}, Out: 3, Activation: nn.Tanh, HiddenGain: nn.HiddenGain, OutGain: 1},
		{Name: "relu", In: 5, Hidden: []int{7, 6}, Out: 3, Activation: nn.ReLU, HiddenGain: nn.HiddenGain, OutGain: 1},
		{Name: "", In: 3, Hidden: []int{70}, Out: 2, Activation: nn.Tanh, HiddenGain: 1, OutGain: 0.5},
		{Name: "lin", In: 4, Out: 2, Activation: nn.Tanh, OutGain: 1},
	}
}

func mustMLP(t *testing.T, b nn.Backend, spec nn.MLPSpec, seed uint64) nn.Module {
	t.Helper()
	m, err := b.NewMLP(spec, seed)
	if err != nil {
		t.Fatalf("NewMLP(%+v): %v", spec, err)
	}
	return m
}

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(scale * r.NormFloat64())
	}
	return v
}

// randomParams gives every parameter, biases included, a N(0, 0.5²) value, so no
// gradient is trivially zero.
func randomParams(spec nn.MLPSpec, r *rand.Rand) []nn.Param {
	var ps []nn.Param
	for i, name := range spec.ParamNames() {
		shape := spec.ParamShapes()[i]
		p := nn.Param{Name: name, Shape: shape}
		p.Data = randVec(r, p.Size(), 0.5)
		ps = append(ps, p)
	}
	return ps
}

func paramsEqual(a, b []nn.Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].Shape) != len(b[i].Shape) || len(a[i].Data) != len(b[i].Data) {
			return false
		}
		for j := range a[i].Shape {
			if a[i].Shape[j] != b[i].Shape[j] {
				return false
			}
		}
		for j := range a[i].Data {
			if math.Float32bits(a[i].Data[j]) != math.Float32bits(b[i].Data[j]) {
				return false
			}
		}
	}
	return true
}

func testInit(t *testing.T, b nn.Backend) {
	for _, spec := range testSpecs() {
		want, err := nn.InitParams(spec, 7)
		if err != nil {
			t.Fatal(err)
		}
		m := mustMLP(t, b, spec, 7)
		if !paramsEqual(m.Params(), want) {
			t.Errorf("%q: initial parameters differ from nn.InitParams", spec.Name)
		}
		if !paramsEqual(mustMLP(t, b, spec, 7).Params(), want) {
			t.Errorf("%q: same seed gave different parameters", spec.Name)
		}
		if paramsEqual(mustMLP(t, b, spec, 8).Params(), want) {
			t.Errorf("%q: seeds 7 and 8 gave identical parameters", spec.Name)
		}
		got := m.Spec()
		if got.Name != spec.Name || got.In != spec.In || got.Out != spec.Out || len(got.Hidden) != len(spec.Hidden) || got.Activation != spec.Activation {
			t.Errorf("Spec() = %+v, want %+v", got, spec)
		}
	}
}

func testInvalidSpec(t *testing.T, b nn.Backend) {
	bad := []nn.MLPSpec{
		{In: 0, Out: 1, Activation: nn.Tanh, OutGain: 1},
		{In: 1, Out: 1, Hidden: []int{0}, Activation: nn.Tanh, HiddenGain: 1, OutGain: 1},
		{In: 1, Out: 1, Activation: "sigmoid", OutGain: 1},
		{In: 1, Out: 1, Activation: nn.ReLU, OutGain: 0},
		{In: 1, Out: 1, Hidden: []int{2}, Activation: nn.ReLU, HiddenGain: math.NaN(), OutGain: 1},
	}
	for _, spec := range bad {
		if m, err := b.NewMLP(spec, 1); err == nil {
			t.Errorf("NewMLP(%+v) = %v, want an error", spec, m)
		}
	}
}

// checkAgainstReference runs forward and backward on a batch and compares outputs,
// parameter gradients and input gradients with the reference.
func checkAgainstReference(t *testing.T, m nn.Module, ref *reference, x, gOut []float32, batch int) {
	t.Helper()
	spec := m.Spec()
	out := make([]float32, batch*spec.Out)
	if err := m.Forward(out, x, batch); err != nil {
		t.Fatal(err)
	}
	m.ZeroGrad()
	gin := make([]float32, batch*spec.In)
	if err := m.Backward(gin, gOut); err != nil {
		t.Fatal(err)
	}
	// Reference: sum the per-sample gradients.
	names := spec.ParamNames()
	wantG := map[string][]float64{}
	for r := 0; r < batch; r++ {
		xr := toF64(x[r*spec.In : (r+1)*spec.In])
		o, _ := ref.forward(xr)
		for j, v := range o {
			if !close32(out[r*spec.Out+j], v, fwdTol) {
				t.Fatalf("batch %d row %d output %d = %g, reference %g", batch, r, j, out[r*spec.Out+j], v)
			}
		}
		gw, gb, gx := ref.gradients(xr, toF64(gOut[r*spec.Out:(r+1)*spec.Out]))
		for l := range gw {
			acc := func(name string, g []float64) {
				if wantG[name] == nil {
					wantG[name] = make([]float64, len(g))
				}
				for i, v := range g {
					wantG[name][i] += v
				}
			}
			acc(names[2*l], gw[l])
			acc(names[2*l+1], gb[l])
		}
		for i, v := range gx {
			if !close32(gin[r*spec.In+i], v, fwdTol) {
				t.Fatalf("batch %d row %d input gradient %d = %g, reference %g", batch, r, i, gin[r*spec.In+i], v)
			}
		}
	}
	for _, g := range m.Grads() {
		want := wantG[g.Name]
		if len(want) != len(g.Data) {
			t.Fatalf("gradient %q has %d values, want %d", g.Name, len(g.Data), len(want))
		}
		for i, v := range g.Data {
			if !close32(v, want[i], fwdTol*math.Sqrt(float64(batch))) {
				t.Fatalf("batch %d: gradient %s[%d] = %g, reference %g", batch, g.Name, i, v, want[i])
			}
		}
	}
}

func testForward(t *testing.T, b nn.Backend) {
	// Forward is checked inside checkAgainstReference; here also at growing and
	// shrinking batch sizes, so buffer reuse is exercised.
	r := rng.New(1, "nntest.forward")
	for _, spec := range testSpecs() {
		m := mustMLP(t, b, spec, 3)
		ps := randomParams(spec, r)
		if err := m.SetParams(ps); err != nil {
			t.Fatal(err)
		}
		ref := newReference(spec, ps)
		for _, batch := range []int{1, 33, 4, 100, 2} {
			x := randVec(r, batch*spec.In, 1)
			out := make([]float32, batch*spec.Out)
			if err := m.Forward(out, x, batch); err != nil {
				t.Fatal(err)
			}
			for row := 0; row < batch; row++ {
				want, _ := ref.forward(toF64(x[row*spec.In : (row+1)*spec.In]))
				for j, v := range want {
					if !close32(out[row*spec.Out+j], v, fwdTol) {
						t.Fatalf("%q batch %d row %d output %d = %g, reference %g", spec.Name, batch, row, j, out[row*spec.Out+j], v)
					}
				}
			}
		}
	}
}

func testBackward(t *testing.T, b nn.Backend) {
	r := rng.New(2, "nntest.backward")
	for _, spec := range testSpecs() {
		t.Run(spec.Name, func(t *testing.T) {
			m := mustMLP(t, b, spec, 4)
			ps := randomParams(spec, r)
			if err := m.SetParams(ps); err != nil {
				t.Fatal(err)
			}
			ref := newReference(spec, ps)
			for _, batch := range []int{1, 17, 3} {
				x := randVec(r, batch*spec.In, 1)
				gOut := randVec(r, batch*spec.Out, 1)
				checkAgainstReference(t, m, ref, x, gOut, batch)
			}
			// Backward accumulates: a second call on the same forward doubles the
			// gradients; ZeroGrad clears them.
			batch := 5
			x := randVec(r, batch*spec.In, 1)
			gOut := randVec(r, batch*spec.Out, 1)
			out := make([]float32, batch*spec.Out)
			if err := m.Forward(out, x, batch); err != nil {
				t.Fatal(err)
			}
			m.ZeroGrad()
			if err := m.Backward(nil, gOut); err != nil {
				t.Fatal(err)
			}
			once := m.Grads()
			if err := m.Backward(nil, gOut); err != nil {
				t.Fatal(err)
			}
			twice := m.Grads()
			for i := range once {
				for j, v := range once[i].Data {
					if !close32(twice[i].Data[j], 2*float64(v), 1e-6) {
						t.Fatalf("%s[%d]: after two backward passes %g, want 2×%g", once[i].Name, j, twice[i].Data[j], v)
					}
				}
			}
			m.ZeroGrad()
			for _, g := range m.Grads() {
				for j, v := range g.Data {
					if v != 0 {
						t.Fatalf("after ZeroGrad %s[%d] = %g", g.Name, j, v)
					}
				}
			}
		})
	}
}

func testDeterministic(t *testing.T, b nn.Backend) {
	spec := nn.PolicySpec("policy", 16, []int{32, 32}, 6)
	r := rng.New(3, "nntest.det")
	batch := 50
	x := randVec(r, batch*spec.In, 1)
	run := func(m nn.Module) []float32 {
		out := make([]float32, batch*spec.Out)
		if err := m.Forward(out, x, batch); err != nil {
			t.Fatal(err)
		}
		return out
	}
	m1, m2 := mustMLP(t, b, spec, 11), mustMLP(t, b, spec, 11)
	a, c, d := run(m1), run(m1), run(m2)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(c[i]) || math.Float32bits(a[i]) != math.Float32bits(d[i]) {
			t.Fatalf("output %d: %g, %g (same module again), %g (same seed): not bit-identical", i, a[i], c[i], d[i])
		}
	}
}

func testParams(t *testing.T, b nn.Backend) {
	spec := testSpecs()[0]
	m := mustMLP(t, b, spec, 5)
	r := rng.New(4, "nntest.params")
	ps := randomParams(spec, r)
	if err := m.SetParams(ps); err != nil {
		t.Fatal(err)
	}
	got := m.Params()
	if !paramsEqual(got, ps) {
		t.Fatal("Params after SetParams differ")
	}
	// Params returns a copy.
	got[0].Data[0] += 1
	if !paramsEqual(m.Params(), ps) {
		t.Fatal("mutating the result of Params changed the module")
	}
	// Order does not matter.
	rev := append([]nn.Param(nil), ps...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if err := m.SetParams(rev); err != nil {
		t.Fatalf("SetParams in reverse order: %v", err)
	}
	clone := func() []nn.Param {
		out := make([]nn.Param, len(ps))
		for i, p := range ps {
			out[i] = nn.Param{Name: p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), p.Data...)}
		}
		return out
	}
	bad := map[string]func([]nn.Param) []nn.Param{
		"missing": func(p []nn.Param) []nn.Param { return p[1:] },
		"extra": func(p []nn.Param) []nn.Param {
			return append(p, nn.Param{Name: "x", Shape: []int{1}, Data: []float32{1}})
		},
		"duplicate": func(p []nn.Param) []nn.Param { return append(p, p[0]) },
		"renamed":   func(p []nn.Param) []nn.Param { p[1].Name = "tanh.0.bias_"; return p },
		"shape":     func(p []nn.Param) []nn.Param { p[0].Shape = []int{p[0].Shape[1], p[0].Shape[0]}; return p },
		"length":    func(p []nn.Param) []nn.Param { p[1].Data = p[1].Data[1:]; return p },
	}
	for name, f := range bad {
		before := m.Params()
		err := m.SetParams(f(clone()))
		if !errors.Is(err, nn.ErrParams) {
			t.Errorf("SetParams %s: error %v, want ErrParams", name, err)
		}
		if !paramsEqual(m.Params(), before) {
			t.Errorf("SetParams %s failed but changed the module", name)
		}
	}
}

func testShapeErrors(t *testing.T, b nn.Backend) {
	spec := testSpecs()[0]
	m := mustMLP(t, b, spec, 6)
	if err := m.Backward(nil, make([]float32, spec.Out)); !errors.Is(err, nn.ErrNoForward) {
		t.Errorf("Backward before Forward: %v, want ErrNoForward", err)
	}
	out := make([]float32, 2*spec.Out)
	x := make([]float32, 2*spec.In)
	cases := []struct {
		name   string
		dst, x []float32
		batch  int
	}{
		{"batch 0", out[:0], x[:0], 0},
		{"short x", out, x[1:], 2},
		{"long dst", append(out, 0), x, 2},
		{"negative batch", out, x, -2},
	}
	for _, c := range cases {
		if err := m.Forward(c.dst, c.x, c.batch); !errors.Is(err, nn.ErrShape) {
			t.Errorf("Forward %s: %v, want ErrShape", c.name, err)
		}
	}
	if err := m.Forward(out, x, 2); err != nil {
		t.Fatal(err)
	}
	if err := m.Backward(nil, make([]float32, 3*spec.Out)); !errors.Is(err, nn.ErrShape) {
		t.Errorf("Backward with a 3-row gradient after a 2-row forward: %v, want ErrShape", err)
	}
	if err := m.Backward(make([]float32, 1), make([]float32, 2*spec.Out)); !errors.Is(err, nn.ErrShape) {
		t.Errorf("Backward with a short input-gradient buffer: %v, want ErrShape", err)
	}
}

// linear returns a linear model In→1 with the given weights and bias.
func linear(t *testing.T, b nn.Backend, name string, w []float32, bias float32) nn.Module {
	t.Helper()
	spec := nn.MLPSpec{Name: name, In: len(w), Out: 1, Activation: nn.Tanh, OutGain: 1}
	m := mustMLP(t, b, spec, 1)
	err := m.SetParams([]nn.Param{
		{Name: name + ".0.weight", Shape: []int{1, len(w)}, Data: w},
		{Name: name + ".0.bias", Shape: []int{1}, Data: []float32{bias}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// backprop runs a one-row forward on x and backward with gradOut g, accumulating
// dW = g·x and db = g.
func backprop(t *testing.T, m nn.Module, x []float32, g float32) {
	t.Helper()
	out := make([]float32, 1)
	if err := m.Forward(out, x, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Backward(nil, []float32{g}); err != nil {
		t.Fatal(err)
	}
}

func flat(ps []nn.Param) []float32 {
	var out []float32
	for _, p := range ps {
		out = append(out, p.Data...)
	}
	return out
}

func testAdam(t *testing.T, b nn.Backend) {
	m := linear(t, b, "lin", []float32{0.5, -0.25}, 0.1)
	opt, err := b.NewAdam(nn.AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, m)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2}
	// Step 1, gradients (0.5, 1, 0.5): m = 0.1 g, v = 0.001 g², so m̂ = g and v̂ = g², and
	// each parameter moves by lr·g/(|g|+ε) = 0.1 against the sign of its gradient.
	backprop(t, m, x, 0.5)
	if _, err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	want1 := []float64{0.4, -0.35, 0.0}
	for i, v := range flat(m.Params()) {
		if math.Abs(float64(v)-want1[i]) > 1e-6 {
			t.Fatalf("after step 1, parameter %d = %.9g, want %.9g", i, v, want1[i])
		}
	}
	// Step 2, gradients (-1, -2, -1). For w0: m = 0.9·0.05 - 0.1 = -0.055,
	// v = 0.999·0.00025 + 0.001 = 0.00124975, m̂ = -0.055/0.19, v̂ = 0.00124975/0.001999,
	// w0 = 0.4 + 0.1·0.2894737/0.7906880 = 0.43661035. For w1 (g = 1 then -2): m = 0.09 - 0.2
	// = -0.11, v = 0.000999 + 0.004 = 0.004999, m̂ = -0.5789474, √v̂ = 1.5813702,
	// w1 = -0.35 + 0.0366104 = -0.31338965. The bias has w0's gradients: b = 0.03661035.
	opt.ZeroGrad()
	backprop(t, m, x, -1)
	norm, err := opt.Step()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(norm-math.Sqrt(6)) > 1e-6 {
		t.Errorf("step 2 gradient norm %g, want √6", norm)
	}
	want2 := []float64{0.43661035, -0.31338965, 0.03661035}
	for i, v := range flat(m.Params()) {
		if math.Abs(float64(v)-want2[i]) > 2e-6 {
			t.Fatalf("after step 2, parameter %d = %.9g, want %.9g", i, v, want2[i])
		}
	}
	if s := opt.State(); s.Step != 2 || len(s.M) != 2 || len(s.V) != 2 {
		t.Errorf("State() = step %d with %d/%d moment tensors, want step 2 with 2/2", s.Step, len(s.M), len(s.V))
	}
	// A zero learning rate leaves the parameters where they are.
	if err := opt.SetLR(0); err != nil || opt.LR() != 0 {
		t.Fatalf("SetLR(0): %v, LR %g", err, opt.LR())
	}
	before := m.Params()
	if _, err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if !paramsEqual(m.Params(), before) {
		t.Error("a step with lr 0 moved the parameters")
	}
	for _, lr := range []float64{-1, math.NaN(), math.Inf(1)} {
		if err := opt.SetLR(lr); err == nil {
			t.Errorf("SetLR(%g) accepted", lr)
		}
	}
}

func testClip(t *testing.T, b nn.Backend) {
	// One linear unit, x = 0.75, dL/dy = 4: gradients (dW, db) = (3, 4), norm exactly 5.
	cases := []struct {
		name    string
		maxNorm float64
		scale   float64 // expected factor on the gradients
	}{
		{"disabled", 0, 1},
		{"exactly at", 5, 1},
		{"norm just below", 5 * (1 + 1e-6), 1},
		{"norm just above", 5 * (1 - 1e-6), 1 - 1e-6},
		{"far above", 2.5, 0.5},
	}
	for _, c := range cases {
		m := linear(t, b, "c", []float32{1}, 0)
		opt, err := b.NewAdam(nn.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MaxGradNorm: c.maxNorm}, m)
		if err != nil {
			t.Fatal(err)
		}
		backprop(t, m, []float32{0.75}, 4)
		norm, err := opt.Step()
		if err != nil {
			t.Fatal(err)
		}
		if norm != 5 {
			t.Errorf("%s: Step returned norm %g, want the pre-clip norm 5", c.name, norm)
		}
		g := flat(m.Grads())
		for i, want := range []float64{3 * c.scale, 4 * c.scale} {
			if c.scale == 1 {
				if float64(g[i]) != want {
					t.Errorf("%s: gradient %d = %.9g, want exactly %g (no clipping)", c.name, i, g[i], want)
				}
			} else if math.Abs(float64(g[i])-want) > 1e-7*want || float64(g[i]) >= []float64{3, 4}[i] {
				t.Errorf("%s: gradient %d = %.9g, want %.9g (clipped)", c.name, i, g[i], want)
			}
		}
	}
	// The norm is global over all modules: (3, 4) and (0, 12) have norm 13.
	a := linear(t, b, "a", []float32{1}, 0)
	c := linear(t, b, "b", []float32{1}, 0)
	opt, err := b.NewAdam(nn.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MaxGradNorm: 6.5}, a, c)
	if err != nil {
		t.Fatal(err)
	}
	backprop(t, a, []float32{0.75}, 4)
	backprop(t, c, []float32{0}, 12)
	if norm, err := opt.Step(); err != nil || norm != 13 {
		t.Fatalf("two-module step: norm %g, err %v; want 13", norm, err)
	}
	got := append(flat(a.Grads()), flat(c.Grads())...)
	for i, want := range []float32{1.5, 2, 0, 6} {
		if got[i] != want {
			t.Errorf("two-module clip: gradient %d = %g, want %g", i, got[i], want)
		}
	}
}

func testAdamErrors(t *testing.T, b nn.Backend) {
	m := linear(t, b, "e", []float32{1, 2}, 0)
	for _, cfg := range []nn.AdamConfig{
		{LR: -1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		{LR: 1, Beta1: 1, Beta2: 0.999, Eps: 1e-8},
		{LR: 1, Beta1: 0.9, Beta2: 0.999, Eps: 0},
		{LR: 1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MaxGradNorm: -1},
	} {
		if _, err := b.NewAdam(cfg, m); err == nil {
			t.Errorf("NewAdam(%+v) accepted", cfg)
		}
	}
	if _, err := b.NewAdam(nn.DefaultAdam(), m, m); err == nil {
		t.Error("NewAdam with one module twice accepted")
	}
	if _, err := b.NewAdam(nn.DefaultAdam(), m, linear(t, b, "e", []float32{1, 2}, 0)); err == nil {
		t.Error("NewAdam with two modules of the same parameter names accepted")
	}
	if _, err := b.NewAdam(nn.DefaultAdam()); err == nil {
		t.Error("NewAdam with no module accepted")
	}
	// A non-finite gradient is reported and nothing changes.
	opt, err := b.NewAdam(nn.DefaultAdam(), m)
	if err != nil {
		t.Fatal(err)
	}
	before := m.Params()
	backprop(t, m, []float32{float32(math.Inf(1)), 0}, 1)
	if _, err := opt.Step(); !errors.Is(err, nn.ErrNonFinite) {
		t.Errorf("Step with an infinite gradient: %v, want ErrNonFinite", err)
	}
	if !paramsEqual(m.Params(), before) || opt.State().Step != 0 {
		t.Error("a failed Step changed the parameters or the step count")
	}
	st := opt.State()
	st.M = st.M[1:]
	if err := opt.SetState(st); err == nil {
		t.Error("SetState with a missing moment tensor accepted")
	}
}

func testAdamResume(t *testing.T, b nn.Backend) {
	spec := testSpecs()[0]
	r := rng.New(5, "nntest.resume")
	batch := 8
	xs := make([][]float32, 5)
	gs := make([][]float32, 5)
	for i := range xs {
		xs[i] = randVec(r, batch*spec.In, 1)
		gs[i] = randVec(r, batch*spec.Out, 1)
	}
	cfg := nn.AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, MaxGradNorm: 1}
	train := func(m nn.Module, opt nn.Optimizer, from, to int) {
		out := make([]float32, batch*spec.Out)
		for i := from; i < to; i++ {
			opt.ZeroGrad()
			if err := m.Forward(out, xs[i], batch); err != nil {
				t.Fatal(err)
			}
			if err := m.Backward(nil, gs[i]); err != nil {
				t.Fatal(err)
			}
			if _, err := opt.Step(); err != nil {
				t.Fatal(err)
			}
		}
	}
	newPair := func() (nn.Module, nn.Optimizer) {
		m := mustMLP(t, b, spec, 9)
		opt, err := b.NewAdam(cfg, m)
		if err != nil {
			t.Fatal(err)
		}
		return m, opt
	}
	full, fullOpt := newPair()
	train(full, fullOpt, 0, 5)

	half, halfOpt := newPair()
	train(half, halfOpt, 0, 3)
	params, state := half.Params(), halfOpt.State()

	resumed, resumedOpt := newPair()
	if err := resumed.SetParams(params); err != nil {
		t.Fatal(err)
	}
	if err := resumedOpt.SetState(state); err != nil {
		t.Fatal(err)
	}
	train(resumed, resumedOpt, 3, 5)
	if !paramsEqual(resumed.Params(), full.Params()) {
		t.Error("training resumed from Params and State differs from the uninterrupted run")
	}
	if resumedOpt.State().Step != 5 {
		t.Errorf("resumed step count %d, want 5", resumedOpt.State().Step)
	}
}

// Sine regression: the learning test. y = sin(x) on 64 evenly spaced points of [-π, π];
// a 1→32→32→1 tanh MLP, Adam with lr 0.01, full-batch mean squared error. The variance of
// sin over the grid is 0.5; the test asks that sineSteps steps bring the MSE from its
// initial value to below sineMaxMSE.
const (
	sinePoints = 64
	sineSteps  = 1500
	sineMaxMSE = 1e-3
)

func testLearnsSine(t *testing.T, b nn.Backend) {
	spec := nn.MLPSpec{Name: "sine", In: 1, Hidden: []int{32, 32}, Out: 1, Activation: nn.Tanh,
		HiddenGain: nn.HiddenGain, OutGain: 1}
	m := mustMLP(t, b, spec, 2024)
	opt, err := b.NewAdam(nn.AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, m)
	if err != nil {
		t.Fatal(err)
	}
	mse, first := SineMSE(t, m, opt, sinePoints, sineSteps)
	t.Logf("sine: MSE %.3g after 0 steps, %.3g after %d", first, mse, sineSteps)
	if !(mse < sineMaxMSE) {
		t.Errorf("sine regression: MSE %.3g after %d steps, want < %g", mse, sineSteps, sineMaxMSE)
	}
}

// SineMSE trains m with opt for steps full-batch steps on y = sin(x) at n evenly spaced
// points of [-π, π] and returns the mean squared error after the last step and before the
// first. It is exported for benchmarks and for backends that want to report it.
func SineMSE(tb testing.TB, m nn.Module, opt nn.Optimizer, n, steps int) (last, first float64) {
	tb.Helper()
	x := make([]float32, n)
	y := make([]float64, n)
	for i := range x {
		v := -math.Pi + 2*math.Pi*float64(i)/float64(n-1)
		x[i], y[i] = float32(v), math.Sin(float64(float32(v)))
	}
	out := make([]float32, n)
	g := make([]float32, n)
	loss := func() float64 {
		if err := m.Forward(out, x, n); err != nil {
			tb.Fatal(err)
		}
		var s float64
		for i, o := range out {
			d := float64(o) - y[i]
			s += d * d
			g[i] = float32(2 * d / float64(n))
		}
		return s / float64(n)
	}
	first = loss()
	for s := 0; s < steps; s++ {
		if s > 0 {
			loss()
		}
		opt.ZeroGrad()
		if err := m.Backward(nil, g); err != nil {
			tb.Fatal(err)
		}
		if _, err := opt.Step(); err != nil {
			tb.Fatal(err)
		}
	}
	return loss(), first
}
