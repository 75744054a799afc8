//go:build torch

package torchnn

/*
#include <stdint.h>
// Declared by gotch's libtch (torch_api.h), which gotch exposes no Go binding for; the
// symbols come from libtch's object, linked into every program that imports this package.
void at_manual_seed(int64_t);
int at_get_num_threads();
void at_set_num_threads(int n_threads);
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	lib "github.com/sugarme/gotch/libtch"

	"github.com/hivegym/hivegym/agents/nn"
)

// Name is the registry name of the backend: nn.Lookup(Name) returns it once this package is
// linked in (build tag `torch`).
const Name = "torch"

func init() { nn.Register(Backend{}) }

// Device selects where tensors live.
type Device string

// The devices NewBackend knows.
const (
	CPU  Device = "cpu"
	CUDA Device = "cuda"
)

// ErrNoCUDA reports a request for CUDA from a libtorch built without it (Debian's
// libtorch-dev is CPU-only).
var ErrNoCUDA = errors.New("torchnn: libtorch has no CUDA support (Debian's libtorch-dev is CPU-only); use --device cpu")

// ErrDevice reports a device this backend does not support.
var ErrDevice = errors.New("torchnn: unsupported device")

// CUDAAvailable reports whether the linked libtorch can use a CUDA device.
func CUDAAvailable() bool { return lib.AtcCudaIsAvailable() }

// NewBackend returns the libtorch backend on the named device: "cpu" (or "") works;
// "cuda" returns an error wrapping ErrNoCUDA when libtorch has no CUDA, and ErrDevice
// otherwise (hivegym moves data through host memory, so CUDA tensors are not implemented);
// any other name returns ErrDevice.
func NewBackend(device string) (Backend, error) {
	switch Device(strings.ToLower(strings.TrimSpace(device))) {
	case "", CPU:
		return Backend{}, nil
	case CUDA:
		if !CUDAAvailable() {
			return Backend{}, fmt.Errorf("device %q: %w", device, ErrNoCUDA)
		}
		return Backend{}, fmt.Errorf("%w %q: the torch backend runs on the CPU only", ErrDevice, device)
	default:
		return Backend{}, fmt.Errorf("%w %q (want %q or %q)", ErrDevice, device, CPU, CUDA)
	}
}

// Backend is the libtorch backend (CPU). The zero value is ready to use; NewBackend checks
// a device name first.
type Backend struct{}

// Name returns "torch".
func (Backend) Name() string { return Name }

// NewMLP builds an MLP on libtorch tensors with the parameters nn.InitParams(spec, seed).
func (Backend) NewMLP(spec nn.MLPSpec, seed uint64) (nn.Module, error) {
	return newModule(spec, seed)
}

// NewAdam builds an Adam optimizer over modules made by this backend.
func (Backend) NewAdam(cfg nn.AdamConfig, modules ...nn.Module) (nn.Optimizer, error) {
	ms := make([]*Module, len(modules))
	for i, m := range modules {
		tm, ok := m.(*Module)
		if !ok {
			return nil, fmt.Errorf("torchnn: NewAdam: module %d is a %T: %w", i, m, nn.ErrBackendMismatch)
		}
		ms[i] = tm
	}
	return newAdam(cfg, ms)
}

// ManualSeed seeds libtorch's global random generator (torch::manual_seed). The backend
// itself draws nothing from it: initial weights come from nn.InitParams and sampling is
// done in Go.
func ManualSeed(seed uint64) {
	C.at_manual_seed(C.int64_t(int64(seed)))
}

// NumThreads returns the number of threads libtorch uses inside one op.
func NumThreads() int { return int(C.at_get_num_threads()) }

// SetNumThreads sets the number of threads libtorch uses inside one op (process-wide).
// hivegym parallelizes across environments, so 1 is usually right.
func SetNumThreads(n int) error {
	if n < 1 {
		return fmt.Errorf("torchnn: thread count must be positive, got %d", n)
	}
	C.at_set_num_threads(C.int(n))
	return nil
}

// lock pins the calling goroutine to its OS thread until the returned function runs:
// libtorch reports errors through a thread-local slot, read after each op.
func lock() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
