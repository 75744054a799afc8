//go:build torch

package torchnn

import (
	"errors"
	"strings"
	"testing"

	lib "github.com/sugarme/gotch/libtch"

	"github.com/hivegym/hivegym/agents/nn"
)

func TestRegistered(t *testing.T) {
	b, err := nn.Lookup("torch")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(Backend); !ok || b.Name() != "torch" {
		t.Fatalf("nn.Lookup(\"torch\") = %T named %q", b, b.Name())
	}
}

func TestNewBackendDevices(t *testing.T) {
	for _, d := range []string{"", "cpu", "CPU"} {
		if _, err := NewBackend(d); err != nil {
			t.Errorf("NewBackend(%q): %v", d, err)
		}
	}
	_, err := NewBackend("cuda")
	switch {
	case err == nil:
		t.Error("NewBackend(\"cuda\") succeeded; the backend is CPU-only")
	case !CUDAAvailable() && !errors.Is(err, ErrNoCUDA):
		t.Errorf("NewBackend(\"cuda\") without CUDA: %v, want ErrNoCUDA", err)
	case CUDAAvailable() && !errors.Is(err, ErrDevice):
		t.Errorf("NewBackend(\"cuda\") with CUDA: %v, want ErrDevice", err)
	}
	if err != nil && !strings.Contains(err.Error(), "cuda") {
		t.Errorf("error %q does not name the device", err)
	}
	if _, err := NewBackend("tpu"); !errors.Is(err, ErrDevice) {
		t.Errorf("NewBackend(\"tpu\"): %v, want ErrDevice", err)
	}
}

// TestTorchErrorsReturned checks the error path: a libtorch exception becomes an error
// wrapping ErrTorch that carries libtorch's message, and the next op still works.
func TestTorchErrorsReturned(t *testing.T) {
	defer lock()()
	o := newOps()
	a, err := o.zeros(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer o.free(a)
	b, err := o.zeros(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer o.free(b)
	out, err := o.zeros(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer o.free(out)
	err = o.mmOut(out, a, b) // 2×3 times 2×3
	if !errors.Is(err, ErrTorch) || !strings.Contains(err.Error(), "mm_out") || !strings.Contains(err.Error(), "shapes cannot be multiplied") {
		t.Fatalf("mm of 2×3 by 2×3: %v, want ErrTorch with libtorch's shape message", err)
	}
	if err := o.zero_(out); err != nil {
		t.Fatalf("op after a failed op: %v", err)
	}
	if o.live != 3 {
		t.Errorf("%d live handles, want 3", o.live)
	}
}

// TestStubbedWrapperErrors: scripts/torch-setup.sh replaces the wrappers that do not
// compile against the installed libtorch with one that throws through PROTECT. Calling one
// must give an error, not a crash. torch::lstsq is one of them for libtorch 1.13.
func TestStubbedWrapperErrors(t *testing.T) {
	defer lock()()
	o := newOps()
	a, err := o.zeros(3, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer o.free(a)
	o.slot[0] = nil
	lib.AtgLstsq(&o.slot[0], a, a)
	if o.slot[0] != nil {
		t.Skip("atg_lstsq is not stubbed for this libtorch")
	}
	err = o.fail("lstsq")
	if !errors.Is(err, ErrTorch) || !strings.Contains(err.Error(), "not available in the installed libtorch") {
		t.Fatalf("stubbed lstsq: %v, want the stub's error", err)
	}
}

// TestNoLeaks checks that forward, backward and Adam steps free every temporary handle:
// the number of live handles is the same after each iteration, and zero after Close.
func TestNoLeaks(t *testing.T) {
	spec := nn.PolicySpec("p", 8, []int{16, 16}, 4)
	m, err := newModule(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := newAdam(nn.DefaultAdam(), []*Module{m})
	if err != nil {
		t.Fatal(err)
	}
	// 4 tensors per layer; per batch size, a buffer and a view for each activation and
	// gradient, transposed views of the gradients of layer outputs, the ones column.
	layers := len(spec.Hidden) + 1
	if m.st.o.live != 4*layers {
		t.Errorf("new module holds %d handles, want %d", m.st.o.live, 4*layers)
	}
	if opt.st.o.live != 3*2*layers {
		t.Errorf("new optimizer holds %d handles, want %d", opt.st.o.live, 3*2*layers)
	}
	withBuffers := 4*layers + 2*(layers+1) + 2*(layers+1) + layers + 2
	for i, batch := range []int{5, 5, 9, 3, 9, 1} {
		x := make([]float32, batch*spec.In)
		out := make([]float32, batch*spec.Out)
		gin := make([]float32, batch*spec.In)
		opt.ZeroGrad()
		if err := m.Forward(out, x, batch); err != nil {
			t.Fatal(err)
		}
		if err := m.Backward(gin, out); err != nil {
			t.Fatal(err)
		}
		if _, err := opt.Step(); err != nil {
			t.Fatal(err)
		}
		if m.st.o.live != withBuffers || opt.st.o.live != 3*2*layers {
			t.Fatalf("iteration %d (batch %d): module holds %d handles, optimizer %d; want %d and %d",
				i, batch, m.st.o.live, opt.st.o.live, withBuffers, 3*2*layers)
		}
	}
	if err := opt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if m.st.o.live != 0 || opt.st.o.live != 0 {
		t.Errorf("after Close: module holds %d handles, optimizer %d", m.st.o.live, opt.st.o.live)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestUseAfterClose(t *testing.T) {
	spec := nn.ValueSpec("v", 3, []int{4})
	m, err := newModule(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := newAdam(nn.DefaultAdam(), []*Module{m})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 1)
	if err := m.Forward(out, []float32{1, 2, 3}, 1); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := m.Forward(out, []float32{1, 2, 3}, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Forward after Close: %v", err)
	}
	if err := m.Backward(nil, out); !errors.Is(err, ErrClosed) {
		t.Errorf("Backward after Close: %v", err)
	}
	if err := m.SetParams(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("SetParams after Close: %v", err)
	}
	if m.Params() != nil || m.Grads() != nil {
		t.Error("Params or Grads after Close not nil")
	}
	m.ZeroGrad() // no effect, no crash
	if _, err := opt.Step(); !errors.Is(err, ErrClosed) {
		t.Errorf("Step with a closed module: %v", err)
	}
	opt.Close()
	if err := opt.SetState(nn.AdamState{}); !errors.Is(err, ErrClosed) {
		t.Errorf("SetState after Close: %v", err)
	}
	if _, err := newAdam(nn.DefaultAdam(), []*Module{m}); !errors.Is(err, ErrClosed) {
		t.Errorf("NewAdam over a closed module: %v", err)
	}
}

func TestBackendMismatch(t *testing.T) {
	gm, err := (nn.GoBackend{}).NewMLP(nn.ValueSpec("v", 2, nil), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (Backend{}).NewAdam(nn.DefaultAdam(), gm); !errors.Is(err, nn.ErrBackendMismatch) {
		t.Errorf("torch NewAdam over a Go module: %v, want ErrBackendMismatch", err)
	}
	tm, err := (Backend{}).NewMLP(nn.ValueSpec("v", 2, nil), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.(*Module).Close()
	if _, err := (nn.GoBackend{}).NewAdam(nn.DefaultAdam(), tm); !errors.Is(err, nn.ErrBackendMismatch) {
		t.Errorf("go NewAdam over a torch module: %v, want ErrBackendMismatch", err)
	}
}

func TestManualSeed(t *testing.T) {
	defer lock()()
	o := newOps()
	draw := func(seed uint64) []float32 {
		ManualSeed(seed)
		o.slot[0] = nil
		lib.AtgRand(&o.slot[0], []int64{8}, 1, kindFloat, deviceCPU)
		h, err := o.result("rand")
		if err != nil {
			t.Fatal(err)
		}
		defer o.free(h)
		return append([]float32(nil), floats(h, 8)...)
	}
	a, b, c := draw(42), draw(42), draw(43)
	same := func(x, y []float32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Errorf("same seed, different draws: %v, %v", a, b)
	}
	if same(a, c) {
		t.Errorf("seeds 42 and 43 drew the same: %v", a)
	}
	for _, v := range a {
		if !(v >= 0 && v < 1) {
			t.Fatalf("rand drew %g outside [0, 1)", v)
		}
	}
}

func TestNumThreads(t *testing.T) {
	before := NumThreads()
	defer SetNumThreads(before)
	if err := SetNumThreads(2); err != nil {
		t.Fatal(err)
	}
	if n := NumThreads(); n != 2 {
		t.Errorf("NumThreads() = %d after SetNumThreads(2)", n)
	}
	if err := SetNumThreads(0); err == nil {
		t.Error("SetNumThreads(0) accepted")
	}
}
