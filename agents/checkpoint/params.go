package checkpoint

import (
	"fmt"
	"strings"

	"github.com/hivegym/hivegym/agents/nn"
)

// FromParams encodes network parameters (or Adam moments) as F32 tensors, prefixing each
// name with prefix (for example "" for parameters and "optim.m." for first moments).
func FromParams(prefix string, ps []nn.Param) []Tensor {
	out := make([]Tensor, len(ps))
	for i, p := range ps {
		out[i] = F32Tensor(prefix+p.Name, p.Shape, p.Data)
	}
	return out
}

// ToParams decodes the tensors whose names start with prefix into parameters named
// without it, in the order they come. Each must be F32. The result goes to
// Module.SetParams, which checks names and shapes against the network.
func ToParams(prefix string, ts []Tensor) ([]nn.Param, error) {
	var ps []nn.Param
	for _, t := range ts {
		name, ok := strings.CutPrefix(t.Name, prefix)
		if !ok {
			continue
		}
		data, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		ps = append(ps, nn.Param{Name: name, Shape: append([]int(nil), t.Shape...), Data: data})
	}
	return ps, nil
}

// Names under which FromAdam stores an optimizer state.
const (
	adamM    = "optim.m."
	adamV    = "optim.v."
	adamStep = "optim.step"
)

// FromAdam encodes an Adam state as tensors: the moments as F32 under "optim.m." and
// "optim.v." plus the parameter name, the step count as the I64 scalar "optim.step".
func FromAdam(s nn.AdamState) []Tensor {
	out := append(FromParams(adamM, s.M), FromParams(adamV, s.V)...)
	return append(out, I64Tensor(adamStep, nil, []int64{s.Step}))
}

// ToAdam decodes an Adam state FromAdam encoded. The result goes to Optimizer.SetState,
// which checks it against the optimizer's parameters.
func ToAdam(ts []Tensor) (nn.AdamState, error) {
	var s nn.AdamState
	found := false
	for _, t := range ts {
		if t.Name != adamStep {
			continue
		}
		v, err := t.Int64s()
		if err != nil {
			return s, err
		}
		if len(v) != 1 || len(t.Shape) != 0 {
			return s, fmt.Errorf("%w: %s must be an I64 scalar, has shape %v", ErrFormat, adamStep, t.Shape)
		}
		s.Step, found = v[0], true
	}
	if !found {
		return s, fmt.Errorf("%w: no %s tensor: the checkpoint holds no optimizer state", ErrFormat, adamStep)
	}
	var err error
	if s.M, err = ToParams(adamM, ts); err != nil {
		return s, err
	}
	if s.V, err = ToParams(adamV, ts); err != nil {
		return s, err
	}
	return s, nil
}

// ModuleTensors encodes a module's parameters as F32 tensors named prefix plus the
// parameter name.
func ModuleTensors(prefix string, m nn.Module) []Tensor { return FromParams(prefix, m.Params()) }

// RestoreModule sets m's parameters from the tensors named prefix plus each of m's
// parameter names; other tensors are ignored. A missing or non-F32 tensor is an error,
// and SetParams checks the shapes; on error m is unchanged.
func RestoreModule(m nn.Module, prefix string, ts []Tensor) error {
	byName := make(map[string]Tensor, len(ts))
	for _, t := range ts {
		byName[t.Name] = t
	}
	names := m.Spec().ParamNames()
	ps := make([]nn.Param, len(names))
	for i, name := range names {
		t, ok := byName[prefix+name]
		if !ok {
			return fmt.Errorf("%w: checkpoint has no tensor %q", ErrMismatch, prefix+name)
		}
		data, err := t.Float32s()
		if err != nil {
			return err
		}
		ps[i] = nn.Param{Name: name, Shape: append([]int(nil), t.Shape...), Data: data}
	}
	if err := m.SetParams(ps); err != nil {
		return fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	return nil
}
