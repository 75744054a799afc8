//go:build torch

package torchnn

import (
	"math"
	"runtime"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// TestSmokeLinearAdam checks that the gotch build works end to end through gotch's
// error-returning API (never the Must* forms, which call log.Fatal): a Linear layer's
// forward pass and one Adam step, with every number derived by hand below.
func TestSmokeLinearAdam(t *testing.T) {
	// libtorch reports errors through a thread-local slot: stay on one OS thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var live []*ts.Tensor
	keep := func(x *ts.Tensor, err error) *ts.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, x)
		return x
	}
	defer func() {
		for _, x := range live {
			if err := x.Drop(); err != nil {
				t.Errorf("Drop: %v", err)
			}
		}
	}()

	// x is 2×3, W is 2×3 (PyTorch's [out, in] layout), b has 2 entries.
	xs := []float32{1, 2, 3, -1, 0, 2}
	ws := []float32{0.5, -1, 0.25, 2, 0, -0.5}
	bs := []float32{0.1, -0.2}
	x := keep(ts.NewTensorFromData(xs, []int64{2, 3}))
	w0 := keep(ts.NewTensorFromData(ws, []int64{2, 3}))
	b0 := keep(ts.NewTensorFromData(bs, []int64{2}))
	w := keep(w0.SetRequiresGrad(true, false))
	b := keep(b0.SetRequiresGrad(true, false))

	y := keep(ts.Linear(x, w, b))
	got := make([]float32, 4)
	if err := y.CopyData(got, 4); err != nil {
		t.Fatal(err)
	}
	// y = x Wᵀ + b, by hand:
	// row 0: 0.5·1 - 1·2 + 0.25·3 + 0.1 = -0.65;  2·1 + 0·2 - 0.5·3 - 0.2 = 0.3
	// row 1: 0.5·-1 - 0 + 0.25·2 + 0.1 = 0.1;     2·-1 + 0 - 0.5·2 - 0.2 = -3.2
	want := []float64{-0.65, 0.3, 0.1, -3.2}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6 {
			t.Fatalf("forward output %d = %g, want %g", i, got[i], want[i])
		}
	}

	// loss = Σ y: dL/dW[j][k] = Σ_rows x[row][k] = (0, 2, 5) for both rows j,
	// dL/db[j] = 2 (the batch size).
	loss := keep(y.Sum(gotch.Float, false))
	opt, err := ts.Adam(0.1, 0.9, 0.999, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Drop()
	if err := opt.AddParameters([]ts.Tensor{*w, *b}); err != nil {
		t.Fatal(err)
	}
	if err := opt.ZeroGrad(); err != nil {
		t.Fatal(err)
	}
	if err := loss.Backward(); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	// First Adam step (Kingma and Ba 2015): m̂ = g, v̂ = g², so each parameter moves by
	// lr·g/(|g|+ε) with ε = 1e-8: by -0.1 where g > 0 and not at all where g = 0.
	wantW := []float64{0.5, -1.1, 0.15, 2, -0.1, -0.6}
	wantB := []float64{0.0, -0.3}
	gotW := make([]float32, 6)
	gotB := make([]float32, 2)
	if err := w.CopyData(gotW, 6); err != nil {
		t.Fatal(err)
	}
	if err := b.CopyData(gotB, 2); err != nil {
		t.Fatal(err)
	}
	for i := range wantW {
		if math.Abs(float64(gotW[i])-wantW[i]) > 1e-6 {
			t.Errorf("W[%d] after one Adam step = %g, want %g", i, gotW[i], wantW[i])
		}
	}
	for i := range wantB {
		if math.Abs(float64(gotB[i])-wantB[i]) > 1e-6 {
			t.Errorf("b[%d] after one Adam step = %g, want %g", i, gotB[i], wantB[i])
		}
	}
}
