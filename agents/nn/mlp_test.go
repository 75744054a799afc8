package nn

import (
	"errors"
	"math"
	"testing"

	"github.com/hivegym/hivegym/internal/fieldpath"
	"github.com/hivegym/hivegym/internal/rng"
)

func randF32(seed uint64, n int) []float32 {
	r := rng.New(seed, "nn.test")
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// TestRowIndependence: a row's output does not depend on the batch around it or on its
// position in the batch, bit for bit, so the log-probability a learner recomputes on a
// minibatch equals the one recorded while acting.
func TestRowIndependence(t *testing.T) {
	for _, act := range []Activation{Tanh, ReLU} {
		spec := MLPSpec{Name: "p", In: 13, Hidden: []int{70, 33}, Out: 5, Activation: act, HiddenGain: HiddenGain, OutGain: 0.5}
		m, err := GoBackend{}.NewMLP(spec, 1)
		if err != nil {
			t.Fatal(err)
		}
		batch := 300 // more than one 192-row tile
		x := randF32(1, batch*spec.In)
		all := make([]float32, batch*spec.Out)
		if err := m.Forward(all, x, batch); err != nil {
			t.Fatal(err)
		}
		one := make([]float32, spec.Out)
		for r := 0; r < batch; r += 37 {
			if err := m.Forward(one, x[r*spec.In:(r+1)*spec.In], 1); err != nil {
				t.Fatal(err)
			}
			for j, v := range one {
				if math.Float32bits(v) != math.Float32bits(all[r*spec.Out+j]) {
					t.Fatalf("%s: row %d output %d alone %g, in the batch %g", act, r, j, v, all[r*spec.Out+j])
				}
			}
		}
	}
}

// TestNoSteadyStateAllocs: after the buffers have grown (AllocsPerRun's warm-up call
// grows them at batch 1024; the smaller batches after it reuse them), Forward, Backward (with and
// without input gradients), Step and ZeroGrad allocate nothing, including at a smaller
// batch.
func TestNoSteadyStateAllocs(t *testing.T) {
	spec := PolicySpec("p", 64, []int{64, 64}, 16)
	b := GoBackend{}
	m, _ := b.NewMLP(spec, 1)
	opt, err := b.NewAdam(DefaultAdam(), m)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1024, 1, 300} {
		x := randF32(2, batch*spec.In)
		out := make([]float32, batch*spec.Out)
		g := randF32(3, batch*spec.Out)
		gin := make([]float32, batch*spec.In)
		n := testing.AllocsPerRun(20, func() {
			if err := m.Forward(out, x, batch); err != nil {
				t.Fatal(err)
			}
			if err := m.Backward(nil, g); err != nil {
				t.Fatal(err)
			}
			if err := m.Backward(gin, g); err != nil {
				t.Fatal(err)
			}
			if _, err := opt.Step(); err != nil {
				t.Fatal(err)
			}
			opt.ZeroGrad()
		})
		if n != 0 {
			t.Errorf("batch %d: %g allocations per forward+backward+step", batch, n)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	good := PolicySpec("a", 3, []int{4}, 2)
	if err := good.Validate(); err != nil {
		t.Fatalf("valid spec rejected: %v", err)
	}
	bad := MLPSpec{In: 0, Hidden: []int{3, -1}, Out: 2, Activation: "gelu", HiddenGain: -1, OutGain: math.Inf(1)}
	err := bad.Validate()
	want := map[string]bool{"in": true, "hidden[1]": true, "activation": true, "hidden_gain": true, "out_gain": true}
	got := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *fieldpath.Error
		if !errors.As(e, &fe) {
			t.Fatalf("error %v is not a fieldpath.Error", e)
		}
		got[fe.Path] = true
	}
	for p := range want {
		if !got[p] {
			t.Errorf("no error for %s (got %v)", p, err)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors for %v, want exactly %v", got, want)
	}
	if err := DefaultAdam().Validate(); err != nil {
		t.Errorf("DefaultAdam invalid: %v", err)
	}
	if n := PolicySpec("", 3, []int{4}, 2).NumParams(); n != 3*4+4+4*2+2 {
		t.Errorf("NumParams = %d, want %d", n, 3*4+4+4*2+2)
	}
}

func TestClipScale(t *testing.T) {
	cases := []struct{ norm, max, want float64 }{
		{5, 0, 1}, {5, 5, 1}, {4.999, 5, 1}, {10, 5, 0.5}, {0, 1, 1},
	}
	for _, c := range cases {
		if got := ClipScale(c.norm, c.max); got != c.want {
			t.Errorf("ClipScale(%g, %g) = %g, want %g", c.norm, c.max, got, c.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	b, err := Lookup("go")
	if err != nil || b.Name() != "go" {
		t.Fatalf("Lookup(go) = %v, %v", b, err)
	}
	if _, err := Lookup("nope"); !errors.Is(err, ErrUnknownBackend) {
		t.Errorf("Lookup(nope): %v, want ErrUnknownBackend", err)
	}
	found := false
	for _, n := range Backends() {
		found = found || n == "go"
	}
	if !found {
		t.Errorf("Backends() = %v, want it to list go", Backends())
	}
	defer func() {
		if recover() == nil {
			t.Error("registering go twice did not panic")
		}
	}()
	Register(GoBackend{})
}

// otherModule is a Module from some other backend.
type otherModule struct{ Module }

func TestAdamRejectsForeignModule(t *testing.T) {
	if _, err := (GoBackend{}).NewAdam(DefaultAdam(), otherModule{}); !errors.Is(err, ErrBackendMismatch) {
		t.Errorf("NewAdam with a foreign module: %v, want ErrBackendMismatch", err)
	}
}
