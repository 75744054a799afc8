package nn

import (
	"fmt"
	"math"
)

// adam is Adam (Kingma and Ba 2015, Algorithm 1) over the flat arenas of one or more
// pure-Go MLPs, with global-norm clipping first. The update of each parameter p with
// gradient g at step t is, in float64 and with the moments stored in T:
//
//	m = β1 m + (1-β1) g
//	v = β2 v + (1-β2) g²
//	p -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + ε)
//
// which is the paper's update with m̂ = m/(1-β1ᵗ), v̂ = v/(1-β2ᵗ) and ε added to √v̂, the
// form PyTorch's torch.optim.Adam uses.
type adam[T scalar] struct {
	cfg    AdamConfig
	mods   []*mlp[T]
	m, v   [][]T // per module, laid out as its parameter arena
	step   int64
	names  []string
	shapes [][]int
}

func newAdam[T scalar](cfg AdamConfig, mods []*mlp[T]) (*adam[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("nn: invalid Adam config: %w", err)
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("nn: NewAdam needs at least one module")
	}
	a := &adam[T]{cfg: cfg, mods: mods}
	seen := map[string]bool{}
	for i, md := range mods {
		for j := 0; j < i; j++ {
			if mods[j] == md {
				return nil, fmt.Errorf("nn: NewAdam: module %d given twice", i)
			}
		}
		for k, name := range md.names {
			if seen[name] {
				return nil, fmt.Errorf("nn: NewAdam: parameter name %q appears in two modules (give them distinct MLPSpec.Name)", name)
			}
			seen[name] = true
			a.names = append(a.names, name)
			a.shapes = append(a.shapes, md.shapes[k])
		}
		a.m = append(a.m, make([]T, len(md.params)))
		a.v = append(a.v, make([]T, len(md.params)))
	}
	return a, nil
}

// Step implements Optimizer.
func (a *adam[T]) Step() (float64, error) {
	var sq float64
	for _, md := range a.mods {
		for _, g := range md.grads {
			sq += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(sq)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("nn: adam step: gradient norm is %g: %w", norm, ErrNonFinite)
	}
	if s := ClipScale(norm, a.cfg.MaxGradNorm); s != 1 {
		for _, md := range a.mods {
			for i, g := range md.grads {
				md.grads[i] = T(float64(g) * s)
			}
		}
	}
	a.step++
	b1, b2 := a.cfg.Beta1, a.cfg.Beta2
	stepSize := a.cfg.LR / (1 - math.Pow(b1, float64(a.step)))
	sqrtBC2 := math.Sqrt(1 - math.Pow(b2, float64(a.step)))
	eps := a.cfg.Eps
	for k, md := range a.mods {
		ms, vs, ps := a.m[k], a.v[k], md.params
		for i, gT := range md.grads {
			g := float64(gT)
			m := b1*float64(ms[i]) + (1-b1)*g
			v := b2*float64(vs[i]) + (1-b2)*g*g
			ms[i], vs[i] = T(m), T(v)
			ps[i] = T(float64(ps[i]) - stepSize*m/(math.Sqrt(v)/sqrtBC2+eps))
		}
	}
	return norm, nil
}

// ZeroGrad implements Optimizer.
func (a *adam[T]) ZeroGrad() {
	for _, md := range a.mods {
		md.ZeroGrad()
	}
}

// LR implements Optimizer.
func (a *adam[T]) LR() float64 { return a.cfg.LR }

// SetLR implements Optimizer.
func (a *adam[T]) SetLR(lr float64) error {
	if math.IsNaN(lr) || math.IsInf(lr, 0) || lr < 0 {
		return fmt.Errorf("nn: learning rate must be finite and >= 0, got %g", lr)
	}
	a.cfg.LR = lr
	return nil
}

// State implements Optimizer.
func (a *adam[T]) State() AdamState {
	s := AdamState{Step: a.step}
	for k, md := range a.mods {
		s.M = append(s.M, md.export(a.m[k])...)
		s.V = append(s.V, md.export(a.v[k])...)
	}
	return s
}

// SetState implements Optimizer.
func (a *adam[T]) SetState(s AdamState) error {
	if s.Step < 0 {
		return fmt.Errorf("nn: adam state: negative step %d", s.Step)
	}
	im, err := matchParams(a.names, a.shapes, s.M)
	if err != nil {
		return fmt.Errorf("nn: adam state, first moments: %w", err)
	}
	iv, err := matchParams(a.names, a.shapes, s.V)
	if err != nil {
		return fmt.Errorf("nn: adam state, second moments: %w", err)
	}
	for _, j := range iv {
		for _, x := range s.V[j].Data {
			if x < 0 {
				return fmt.Errorf("nn: adam state: negative second moment in %q", s.V[j].Name)
			}
		}
	}
	n := 0
	for k, md := range a.mods {
		for i := range md.names {
			off := md.offs[i]
			for q, x := range s.M[im[n]].Data {
				a.m[k][off+q] = T(x)
			}
			for q, x := range s.V[iv[n]].Data {
				a.v[k][off+q] = T(x)
			}
			n++
		}
	}
	a.step = s.Step
	return nil
}
