package nn

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// Activation is the nonlinearity between hidden layers. The output layer is always linear.
type Activation string

// The supported activations.
const (
	Tanh Activation = "tanh"
	ReLU Activation = "relu"
)

// Gains of CleanRL's layer_init (Huang et al. 2022, "The 37 implementation details of
// PPO"): sqrt(2) for hidden layers, 0.01 for a policy head, 1 for a value head.
const (
	HiddenGain     = math.Sqrt2
	PolicyHeadGain = 0.01
	ValueHeadGain  = 1.0
)

// MLPSpec describes a multilayer perceptron: In inputs, a hidden layer of each width in
// Hidden (none gives a linear model), Out linear outputs.
//
// Parameters are named like a PyTorch nn.Sequential of Linear and activation modules,
// prefixed by Name: with Name "actor" and two hidden layers they are actor.0.weight,
// actor.0.bias, actor.2.weight, actor.2.bias, actor.4.weight, actor.4.bias; a weight has
// shape [out, in]. So a checkpoint's tensors load into PyTorch with load_state_dict.
type MLPSpec struct {
	// Name prefixes the parameter names and names the random stream the initial weights
	// are drawn from (internal/rng stream "nn.init."+Name), so two networks built from one
	// seed but with different names start independent. May be empty.
	Name       string     `yaml:"name"`
	In         int        `yaml:"in"`
	Hidden     []int      `yaml:"hidden"`
	Out        int        `yaml:"out"`
	Activation Activation `yaml:"activation"`
	// HiddenGain scales the orthogonal initialization of the hidden layers, OutGain that of
	// the output layer. Both must be positive.
	HiddenGain float64 `yaml:"hidden_gain"`
	OutGain    float64 `yaml:"out_gain"`
}

// PolicySpec returns the CleanRL actor: tanh hidden layers with gain sqrt(2), logits head
// with gain 0.01.
func PolicySpec(name string, in int, hidden []int, out int) MLPSpec {
	return MLPSpec{Name: name, In: in, Hidden: append([]int(nil), hidden...), Out: out,
		Activation: Tanh, HiddenGain: HiddenGain, OutGain: PolicyHeadGain}
}

// ValueSpec returns the CleanRL critic: tanh hidden layers with gain sqrt(2), one output
// with gain 1.
func ValueSpec(name string, in int, hidden []int) MLPSpec {
	return MLPSpec{Name: name, In: in, Hidden: append([]int(nil), hidden...), Out: 1,
		Activation: Tanh, HiddenGain: HiddenGain, OutGain: ValueHeadGain}
}

// maxWidth bounds every layer width, so sizes stay far from integer overflow.
const maxWidth = 1 << 16

// Validate reports every invalid field, with fieldpath paths relative to the spec.
func (s MLPSpec) Validate() error {
	var errs []error
	width := func(path string, n int) {
		if n < 1 || n > maxWidth {
			errs = append(errs, fieldpath.Errorf(path, "must be in [1, %d], got %d", maxWidth, n))
		}
	}
	width("in", s.In)
	for i, h := range s.Hidden {
		width("hidden["+strconv.Itoa(i)+"]", h)
	}
	width("out", s.Out)
	switch s.Activation {
	case Tanh, ReLU:
	default:
		errs = append(errs, fieldpath.Errorf("activation", "must be %q or %q, got %q", Tanh, ReLU, s.Activation))
	}
	gain := func(path string, g float64) {
		if !(g > 0) || math.IsInf(g, 0) {
			errs = append(errs, fieldpath.Errorf(path, "must be positive and finite, got %g", g))
		}
	}
	if len(s.Hidden) > 0 {
		gain("hidden_gain", s.HiddenGain)
	}
	gain("out_gain", s.OutGain)
	return errors.Join(errs...)
}

// widths returns In, Hidden..., Out.
func (s MLPSpec) widths() []int {
	w := make([]int, 0, len(s.Hidden)+2)
	w = append(w, s.In)
	w = append(w, s.Hidden...)
	return append(w, s.Out)
}

// prefix returns the parameter name prefix ("actor." or "").
func (s MLPSpec) prefix() string {
	if s.Name == "" {
		return ""
	}
	return s.Name + "."
}

// ParamNames returns the parameter names in the module's order: for each layer its weight
// then its bias.
func (s MLPSpec) ParamNames() []string {
	var names []string
	for l := 0; l < len(s.Hidden)+1; l++ {
		names = append(names,
			fmt.Sprintf("%s%d.weight", s.prefix(), 2*l),
			fmt.Sprintf("%s%d.bias", s.prefix(), 2*l))
	}
	return names
}

// ParamShapes returns the parameters' shapes, in ParamNames order.
func (s MLPSpec) ParamShapes() [][]int {
	w := s.widths()
	var shapes [][]int
	for l := 0; l+1 < len(w); l++ {
		shapes = append(shapes, []int{w[l+1], w[l]}, []int{w[l+1]})
	}
	return shapes
}

// NumParams returns the number of scalar parameters.
func (s MLPSpec) NumParams() int {
	w := s.widths()
	n := 0
	for l := 0; l+1 < len(w); l++ {
		n += w[l+1]*w[l] + w[l+1]
	}
	return n
}

// AdamConfig configures Adam (Kingma and Ba 2015, "Adam: A Method for Stochastic
// Optimization", Algorithm 1, with the bias correction folded into the step as PyTorch
// does) and global-norm gradient clipping (Pascanu et al. 2013).
type AdamConfig struct {
	LR    float64 `yaml:"lr"`
	Beta1 float64 `yaml:"beta1"`
	Beta2 float64 `yaml:"beta2"`
	Eps   float64 `yaml:"eps"`
	// MaxGradNorm clips the global L2 norm of all gradients to at most this value before
	// each step; 0 disables clipping. A norm equal to the threshold is left unchanged.
	MaxGradNorm float64 `yaml:"max_grad_norm"`
}

// DefaultAdam returns CleanRL's PPO settings: lr 2.5e-4, betas 0.9/0.999, eps 1e-5, gradient
// norm clipped at 0.5.
func DefaultAdam() AdamConfig {
	return AdamConfig{LR: 2.5e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-5, MaxGradNorm: 0.5}
}

// Validate reports every invalid field, with fieldpath paths relative to the config.
func (c AdamConfig) Validate() error {
	var errs []error
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if !finite(c.LR) || c.LR < 0 {
		errs = append(errs, fieldpath.Errorf("lr", "must be finite and >= 0, got %g", c.LR))
	}
	if !(c.Beta1 >= 0 && c.Beta1 < 1) {
		errs = append(errs, fieldpath.Errorf("beta1", "must be in [0, 1), got %g", c.Beta1))
	}
	if !(c.Beta2 >= 0 && c.Beta2 < 1) {
		errs = append(errs, fieldpath.Errorf("beta2", "must be in [0, 1), got %g", c.Beta2))
	}
	if !finite(c.Eps) || c.Eps <= 0 {
		errs = append(errs, fieldpath.Errorf("eps", "must be finite and positive, got %g", c.Eps))
	}
	if !finite(c.MaxGradNorm) || c.MaxGradNorm < 0 {
		errs = append(errs, fieldpath.Errorf("max_grad_norm", "must be finite and >= 0 (0 disables clipping), got %g", c.MaxGradNorm))
	}
	return errors.Join(errs...)
}

// ClipScale returns the factor global-norm clipping multiplies every gradient by: 1 when
// maxNorm is 0 (disabled) or norm <= maxNorm, else maxNorm/norm. Unlike PyTorch's
// clip_grad_norm_, no epsilon is added to the norm, so a norm exactly at the threshold
// is left unchanged. Backends use it so that they clip identically.
func ClipScale(norm, maxNorm float64) float64 {
	if maxNorm <= 0 || norm <= maxNorm {
		return 1
	}
	return maxNorm / norm
}
