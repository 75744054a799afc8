//go:build torch

package torchnn

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
	"github.com/sugarme/gotch/ts"
)

// ErrTorch wraps every error libtorch raises.
var ErrTorch = errors.New("torchnn: libtorch error")

// ErrClosed reports a call on a module or optimizer after Close.
var ErrClosed = errors.New("torchnn: use after Close")

// libtorch scalar type and device codes of gotch's C API.
const (
	kindFloat = 6  // torch::kFloat (float32)
	deviceCPU = -1 // gotch's device code for the CPU
)

// handle is an owned libtorch tensor handle (a heap torch::Tensor*).
type handle = lib.Ctensor

// ops issues libtch calls. Every generated libtch wrapper writes the handle of its result
// into a caller-provided slot, or leaves the slot untouched and stores an error message in
// a thread-local slot when libtorch throws (gotch's PROTECT). The slot is cleared before
// each call, so a nil slot afterwards means failure. Callers lock the OS thread around a
// sequence of calls (see lock) so the error message is read on the thread that set it.
type ops struct {
	// slot is its own allocation, holding no Go pointers, as cgo requires of memory C
	// writes through (a slot inside a larger struct fails the cgo pointer check).
	slot *[1]handle
	// live counts the handles obtained through this ops and not yet freed; tests use it
	// to check that nothing leaks.
	live int
}

func newOps() ops { return ops{slot: new([1]handle)} }

// fail returns the error of the failed op.
func (o *ops) fail(op string) error {
	msg := "no result"
	if err := ts.TorchErr(); err != nil {
		msg = strings.TrimSpace(strings.TrimPrefix(err.Error(), "Libtorch API Error:"))
		// libtorch messages carry a C++ backtrace after the first line.
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
	}
	return fmt.Errorf("%w: %s: %s", ErrTorch, op, msg)
}

// result returns the new handle the last call produced; the caller owns it.
func (o *ops) result(op string) (handle, error) {
	h := o.slot[0]
	o.slot[0] = nil
	if h == nil {
		return nil, o.fail(op)
	}
	o.live++
	return h, nil
}

// done checks the last call of an in-place or out= op and frees the handle it returned
// (an alias of a tensor the caller already owns).
func (o *ops) done(op string) error {
	h := o.slot[0]
	o.slot[0] = nil
	if h == nil {
		return o.fail(op)
	}
	lib.AtFree(h)
	return nil
}

// free releases a handle result returned; nil is ignored.
func (o *ops) free(h handle) {
	if h != nil {
		lib.AtFree(h)
		o.live--
	}
}

func (o *ops) zeros(rows, cols int) (handle, error) {
	var dims []int64
	if cols > 0 {
		dims = []int64{int64(rows), int64(cols)}
	} else {
		dims = []int64{int64(rows)}
	}
	o.slot[0] = nil
	lib.AtgZeros(&o.slot[0], dims, len(dims), kindFloat, deviceCPU)
	return o.result("zeros")
}

func (o *ops) narrowRows(t handle, rows int) (handle, error) {
	o.slot[0] = nil
	lib.AtgNarrow(&o.slot[0], t, 0, 0, int64(rows))
	return o.result("narrow")
}

func (o *ops) transpose(t handle) (handle, error) {
	o.slot[0] = nil
	lib.AtgT(&o.slot[0], t)
	return o.result("t")
}

func (o *ops) norm(t handle) (handle, error) {
	o.slot[0] = nil
	lib.AtgNorm(&o.slot[0], t)
	return o.result("norm")
}

// linearOut sets out = in Wᵀ + b.
func (o *ops) linearOut(out, in, w, b handle) error {
	o.slot[0] = nil
	lib.AtgLinearOut(&o.slot[0], out, in, w, b)
	return o.done("linear_out")
}

func (o *ops) tanh_(t handle) error {
	o.slot[0] = nil
	lib.AtgTanh_(&o.slot[0], t)
	return o.done("tanh_")
}

func (o *ops) relu_(t handle) error {
	o.slot[0] = nil
	lib.AtgRelu_(&o.slot[0], t)
	return o.done("relu_")
}

// addmm_ sets t += a·b.
func (o *ops) addmm_(t, a, b handle) error {
	o.slot[0] = nil
	lib.AtgAddmm_(&o.slot[0], t, a, b)
	return o.done("addmm_")
}

// addmv_ sets t += a·v.
func (o *ops) addmv_(t, a, v handle) error {
	o.slot[0] = nil
	lib.AtgAddmv_(&o.slot[0], t, a, v)
	return o.done("addmv_")
}

// mmOut sets out = a·b.
func (o *ops) mmOut(out, a, b handle) error {
	o.slot[0] = nil
	lib.AtgMmOut(&o.slot[0], out, a, b)
	return o.done("mm_out")
}

// tanhBackwardOut sets gradIn = gradOut ⊙ (1 - y²), y the output of tanh.
func (o *ops) tanhBackwardOut(gradIn, gradOut, y handle) error {
	o.slot[0] = nil
	lib.AtgTanhBackwardGradInput(&o.slot[0], gradIn, gradOut, y)
	return o.done("tanh_backward")
}

// thresholdBackwardOut sets gradIn = gradOut where y > threshold, else 0.
func (o *ops) thresholdBackwardOut(gradIn, gradOut, y handle, threshold lib.Cscalar) error {
	o.slot[0] = nil
	lib.AtgThresholdBackwardGradInput(&o.slot[0], gradIn, gradOut, y, threshold)
	return o.done("threshold_backward")
}

func (o *ops) zero_(t handle) error {
	o.slot[0] = nil
	lib.AtgZero_(&o.slot[0], t)
	return o.done("zero_")
}

func (o *ops) mulScalar_(t handle, s lib.Cscalar) error {
	o.slot[0] = nil
	lib.AtgMulScalar_(&o.slot[0], t, s)
	return o.done("mul_")
}

func (o *ops) divScalar_(t handle, s lib.Cscalar) error {
	o.slot[0] = nil
	lib.AtgDivScalar_(&o.slot[0], t, s)
	return o.done("div_")
}

func (o *ops) addScalar_(t handle, s lib.Cscalar) error {
	o.slot[0] = nil
	lib.AtgAddScalar_(&o.slot[0], t, s)
	return o.done("add_")
}

// lerp_ sets t += w·(end - t).
func (o *ops) lerp_(t, end handle, w lib.Cscalar) error {
	o.slot[0] = nil
	lib.AtgLerp_(&o.slot[0], t, end, w)
	return o.done("lerp_")
}

func (o *ops) mulOut(out, a, b handle) error {
	o.slot[0] = nil
	lib.AtgMulOut(&o.slot[0], out, a, b)
	return o.done("mul_out")
}

func (o *ops) divOut(out, a, b handle) error {
	o.slot[0] = nil
	lib.AtgDivOut(&o.slot[0], out, a, b)
	return o.done("div_out")
}

func (o *ops) sqrtOut(out, a handle) error {
	o.slot[0] = nil
	lib.AtgSqrtOut(&o.slot[0], out, a)
	return o.done("sqrt_out")
}

func (o *ops) sub_(t, a handle) error {
	o.slot[0] = nil
	lib.AtgSub_(&o.slot[0], t, a)
	return o.done("sub_")
}

// scalar makes a libtorch scalar; the caller frees it with freeScalar.
func scalar(v float64) (lib.Cscalar, error) {
	s := lib.AtsFloat(v)
	if s == nil {
		o := newOps()
		return nil, o.fail("scalar")
	}
	return s, nil
}

func freeScalar(s lib.Cscalar) {
	if s != nil {
		lib.AtsFree(s)
	}
}

// floats returns the n float32 values at the start of t's storage. t must be a contiguous
// float32 CPU tensor with at least n elements that outlives the returned slice.
func floats(t handle, n int) []float32 {
	if n == 0 {
		return nil
	}
	p := lib.AtDataPtr(t)
	if p == nil {
		panic("torchnn: internal error: tensor without data")
	}
	return unsafe.Slice((*float32)(p), n)
}
