package nn

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Sentinel errors. Backends wrap them with fmt.Errorf("...: %w", ...) so callers can test
// with errors.Is.
var (
	// ErrShape reports a slice length or tensor shape that does not match what the call needs.
	ErrShape = errors.New("nn: shape mismatch")
	// ErrNoForward reports a Backward call with no Forward before it.
	ErrNoForward = errors.New("nn: backward without a forward pass")
	// ErrParams reports a parameter set that does not match the module (missing, extra,
	// duplicate or misshapen tensors).
	ErrParams = errors.New("nn: parameters do not match the module")
	// ErrBackendMismatch reports a module handed to a backend other than the one that made it.
	ErrBackendMismatch = errors.New("nn: module belongs to another backend")
	// ErrNonFinite reports a NaN or infinite value where a finite one is required (a gradient
	// norm, a logit, a standard deviation).
	ErrNonFinite = errors.New("nn: non-finite value")
	// ErrNoLegalAction reports a categorical distribution whose mask allows no action.
	ErrNoLegalAction = errors.New("nn: no legal action")
	// ErrUnknownBackend reports a Lookup of a name no backend registered.
	ErrUnknownBackend = errors.New("nn: unknown backend")
)

// Param is one named parameter tensor, stored row-major (C order) in float32, the layout
// PyTorch and safetensors use. A Linear layer's weight has Shape [out, in].
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// Size returns the number of elements Shape describes (1 for a scalar, Shape == nil).
func (p Param) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Backend makes modules and optimizers. The learners hold a Backend and never learn which
// implementation it is; Lookup finds one by name for the command line.
type Backend interface {
	// Name is the backend's registry name ("go", "torch").
	Name() string
	// NewMLP builds the network spec describes with the initial parameters
	// InitParams(spec, seed) returns, so every backend starts from identical weights.
	NewMLP(spec MLPSpec, seed uint64) (Module, error)
	// NewAdam builds an Adam optimizer over the parameters of all modules, which must come
	// from this backend and have distinct parameter names.
	NewAdam(cfg AdamConfig, modules ...Module) (Optimizer, error)
}

// Module is a network with batched forward and backward passes. A Module is not safe for
// concurrent use; give each goroutine its own (NewMLP then SetParams).
//
// All tensors at the interface are float32, row-major, with the batch as the leading
// dimension: an input batch is batch×In values, an output batch batch×Out.
type Module interface {
	// Spec returns the architecture the module was built from.
	Spec() MLPSpec

	// Forward computes the outputs for batch inputs x (len batch*In) into dst
	// (len batch*Out) and keeps what Backward needs. Buffers grow to the largest batch
	// seen and are reused, so a steady state allocates nothing.
	Forward(dst, x []float32, batch int) error

	// Backward takes gradOut = dLoss/dOutput for the batch of the last Forward
	// (len batch*Out) and adds dLoss/dParam to the parameter gradients (it accumulates,
	// as PyTorch's backward does; see ZeroGrad). If dstGradIn is not nil it receives
	// dLoss/dInput (len batch*In). The loss itself is the learner's business: the
	// module only sees its gradient with respect to the outputs.
	Backward(dstGradIn, gradOut []float32) error

	// ZeroGrad sets all parameter gradients to zero.
	ZeroGrad()

	// Params returns a copy of the parameters, in the module's fixed order
	// (see MLPSpec.ParamNames).
	Params() []Param
	// Grads returns a copy of the accumulated gradients, named and ordered as Params.
	Grads() []Param
	// SetParams copies ps into the module. ps must hold exactly the module's parameter
	// names, each with its shape, in any order; on error the module is unchanged.
	SetParams(ps []Param) error
}

// Optimizer updates the parameters of a fixed set of modules from their accumulated
// gradients.
type Optimizer interface {
	// Step clips the gradients in place to the global norm AdamConfig.MaxGradNorm (if
	// set), then applies one Adam update. It returns the global L2 norm of the gradients
	// before clipping. A non-finite norm returns an error wrapping ErrNonFinite and
	// changes nothing. Step does not zero the gradients.
	Step() (gradNorm float64, err error)
	// ZeroGrad zeroes the gradients of every module the optimizer updates.
	ZeroGrad()
	// LR returns the current learning rate.
	LR() float64
	// SetLR changes the learning rate (for annealing); it must be finite and >= 0.
	SetLR(lr float64) error
	// State returns a copy of the optimizer state, for checkpoints.
	State() AdamState
	// SetState restores a state State returned (from this or an identical optimizer).
	SetState(s AdamState) error
}

// AdamState is Adam's state: the number of steps taken and the first and second moment
// estimates, one tensor per parameter, named and shaped as the parameter they belong to.
type AdamState struct {
	Step int64
	M, V []Param
}

var registry = struct {
	sync.Mutex
	m map[string]Backend
}{m: map[string]Backend{"go": GoBackend{}}}

// Register makes a backend available to Lookup under b.Name(). The pure-Go backend is
// registered as "go"; other backends register themselves from an init function in a file
// behind their build tag. Register panics if the name is taken (a programming error, as
// with database/sql.Register).
func Register(b Backend) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[b.Name()]; dup {
		panic("nn: Register called twice for backend " + b.Name())
	}
	registry.m[b.Name()] = b
}

// Lookup returns the backend registered under name.
func Lookup(name string) (Backend, error) {
	registry.Lock()
	defer registry.Unlock()
	if b, ok := registry.m[name]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%w %q (available: %s)", ErrUnknownBackend, name, strings.Join(backendNames(), ", "))
}

// Backends returns the registered backend names, sorted.
func Backends() []string {
	registry.Lock()
	defer registry.Unlock()
	return backendNames()
}

func backendNames() []string {
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
