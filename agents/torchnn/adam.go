//go:build torch

package torchnn

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"

	"github.com/hivegym/hivegym/agents/nn"
)

// Adam is an nn.Optimizer on libtorch tensors: global-norm clipping (Pascanu et al. 2013)
// then Adam (Kingma and Ba 2015, Algorithm 1) in the form torch.optim.Adam uses, as
// in-place tensor ops on each parameter p with gradient g at step t:
//
//	m ← m + (1-β1)(g - m)                      (m.lerp_(g, 1-β1), as torch.optim.Adam)
//	v ← v + (1-β2)(g² - v)
//	p ← p - lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + ε)
//
// in float32, where the pure-Go backend evaluates the same update in float64; the two
// agree to float32 rounding. Close frees its tensors; an optimizer dropped without Close is
// freed by a runtime cleanup.
type Adam struct {
	cfg    nn.AdamConfig
	mods   []*Module
	names  []string
	shapes [][]int
	sizes  []int
	// params and grads are the modules' parameter and gradient tensors, in the
	// optimizer's order (owned by the modules, which never reallocate them).
	params, grads []handle
	step          int64
	st            *adamState
	stop          runtime.Cleanup
}

// adamState holds the libtorch objects of an Adam, apart from it for the runtime cleanup.
type adamState struct {
	o       ops
	m, v, s []handle // moments and scratch, one per parameter, shaped as the parameter
	pm, pv  []unsafe.Pointer
	c1, c2  lib.Cscalar // 1-β1, 1-β2
	eps     lib.Cscalar
	closed  bool
}

func newAdam(cfg nn.AdamConfig, mods []*Module) (*Adam, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("torchnn: invalid Adam config: %w", err)
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("torchnn: NewAdam needs at least one module")
	}
	a := &Adam{cfg: cfg, mods: mods, st: &adamState{o: newOps()}}
	seen := map[string]bool{}
	for i, md := range mods {
		if md.st.closed {
			return nil, fmt.Errorf("torchnn: NewAdam: module %d: %w", i, ErrClosed)
		}
		for j := 0; j < i; j++ {
			if mods[j] == md {
				return nil, fmt.Errorf("torchnn: NewAdam: module %d given twice", i)
			}
		}
		for k, name := range md.names {
			if seen[name] {
				return nil, fmt.Errorf("torchnn: NewAdam: parameter name %q appears in two modules (give them distinct MLPSpec.Name)", name)
			}
			seen[name] = true
			a.names = append(a.names, name)
			a.shapes = append(a.shapes, md.shapes[k])
			a.sizes = append(a.sizes, md.sizes[k])
		}
		for _, ly := range md.st.layers {
			a.params = append(a.params, ly.w, ly.b)
			a.grads = append(a.grads, ly.gw, ly.gb)
		}
	}
	defer lock()()
	st := a.st
	a.stop = runtime.AddCleanup(a, func(st *adamState) { st.free() }, st)
	var err error
	fail := func(err error) (*Adam, error) {
		a.Close()
		return nil, err
	}
	for _, shape := range a.shapes {
		rows, cols := shape[0], 0
		if len(shape) == 2 {
			cols = shape[1]
		}
		for _, dst := range []*[]handle{&st.m, &st.v, &st.s} {
			t, err := st.o.zeros(rows, cols)
			if err != nil {
				return fail(err)
			}
			*dst = append(*dst, t)
		}
		st.pm = append(st.pm, lib.AtDataPtr(st.m[len(st.m)-1]))
		st.pv = append(st.pv, lib.AtDataPtr(st.v[len(st.v)-1]))
	}
	if st.c1, err = scalar(1 - cfg.Beta1); err != nil {
		return fail(err)
	}
	if st.c2, err = scalar(1 - cfg.Beta2); err != nil {
		return fail(err)
	}
	if st.eps, err = scalar(cfg.Eps); err != nil {
		return fail(err)
	}
	return a, nil
}

// Close frees the optimizer's tensors (not the modules'). Later calls of Step, State and
// SetState fail with ErrClosed. Close is idempotent.
func (a *Adam) Close() error {
	if a.st.closed {
		return nil
	}
	a.stop.Stop()
	a.st.free()
	return nil
}

func (st *adamState) free() {
	if st.closed {
		return
	}
	st.closed = true
	for _, hs := range [][]handle{st.m, st.v, st.s} {
		for _, h := range hs {
			st.o.free(h)
		}
	}
	st.m, st.v, st.s, st.pm, st.pv = nil, nil, nil, nil, nil
	for _, s := range []lib.Cscalar{st.c1, st.c2, st.eps} {
		freeScalar(s)
	}
	st.c1, st.c2, st.eps = nil, nil, nil
}

// usable reports whether the optimizer and all its modules are open.
func (a *Adam) usable() error {
	if a.st.closed {
		return ErrClosed
	}
	for i, md := range a.mods {
		if err := md.usable(); err != nil {
			return fmt.Errorf("torchnn: adam: module %d: %w", i, err)
		}
	}
	return nil
}

// Step implements nn.Optimizer.
func (a *Adam) Step() (float64, error) {
	if err := a.usable(); err != nil {
		return 0, err
	}
	defer lock()()
	st := a.st
	ps, gs := a.params, a.grads
	var sq float64
	for _, g := range gs {
		n, err := st.o.norm(g)
		if err != nil {
			return 0, fmt.Errorf("torchnn: adam step: %w", err)
		}
		v := float64(floats(n, 1)[0])
		st.o.free(n)
		sq += v * v
	}
	norm := math.Sqrt(sq)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("torchnn: adam step: gradient norm is %g: %w", norm, nn.ErrNonFinite)
	}
	if s := nn.ClipScale(norm, a.cfg.MaxGradNorm); s != 1 {
		sc, err := scalar(s)
		if err != nil {
			return norm, fmt.Errorf("torchnn: adam step: %w", err)
		}
		for _, g := range gs {
			if err := st.o.mulScalar_(g, sc); err != nil {
				freeScalar(sc)
				return norm, fmt.Errorf("torchnn: adam step: clip: %w", err)
			}
		}
		freeScalar(sc)
	}
	t := float64(a.step + 1)
	stepSize, err := scalar(a.cfg.LR / (1 - math.Pow(a.cfg.Beta1, t)))
	if err != nil {
		return norm, fmt.Errorf("torchnn: adam step: %w", err)
	}
	defer freeScalar(stepSize)
	sqrtBC2, err := scalar(math.Sqrt(1 - math.Pow(a.cfg.Beta2, t)))
	if err != nil {
		return norm, fmt.Errorf("torchnn: adam step: %w", err)
	}
	defer freeScalar(sqrtBC2)
	a.step++
	o := &st.o
	for i, p := range ps {
		g, m, v, s := gs[i], st.m[i], st.v[i], st.s[i]
		err := o.lerp_(m, g, st.c1)
		if err == nil {
			err = o.mulOut(s, g, g)
		}
		if err == nil {
			err = o.lerp_(v, s, st.c2)
		}
		if err == nil {
			err = o.sqrtOut(s, v)
		}
		if err == nil {
			err = o.divScalar_(s, sqrtBC2)
		}
		if err == nil {
			err = o.addScalar_(s, st.eps)
		}
		if err == nil {
			err = o.divOut(s, m, s)
		}
		if err == nil {
			err = o.mulScalar_(s, stepSize)
		}
		if err == nil {
			err = o.sub_(p, s)
		}
		if err != nil {
			return norm, fmt.Errorf("torchnn: adam step, %s: %w", a.names[i], err)
		}
	}
	return norm, nil
}

// ZeroGrad implements nn.Optimizer.
func (a *Adam) ZeroGrad() {
	for _, md := range a.mods {
		md.ZeroGrad()
	}
}

// LR implements nn.Optimizer.
func (a *Adam) LR() float64 { return a.cfg.LR }

// SetLR implements nn.Optimizer.
func (a *Adam) SetLR(lr float64) error {
	if math.IsNaN(lr) || math.IsInf(lr, 0) || lr < 0 {
		return fmt.Errorf("torchnn: learning rate must be finite and >= 0, got %g", lr)
	}
	a.cfg.LR = lr
	return nil
}

// State implements nn.Optimizer. It returns the zero state after Close.
func (a *Adam) State() nn.AdamState {
	if a.st.closed {
		return nn.AdamState{}
	}
	s := nn.AdamState{Step: a.step}
	for i, name := range a.names {
		s.M = append(s.M, nn.Param{Name: name, Shape: append([]int(nil), a.shapes[i]...),
			Data: append([]float32(nil), unsafe.Slice((*float32)(a.st.pm[i]), a.sizes[i])...)})
		s.V = append(s.V, nn.Param{Name: name, Shape: append([]int(nil), a.shapes[i]...),
			Data: append([]float32(nil), unsafe.Slice((*float32)(a.st.pv[i]), a.sizes[i])...)})
	}
	return s
}

// SetState implements nn.Optimizer.
func (a *Adam) SetState(s nn.AdamState) error {
	if a.st.closed {
		return ErrClosed
	}
	if s.Step < 0 {
		return fmt.Errorf("torchnn: adam state: negative step %d", s.Step)
	}
	im, err := matchParams(a.names, a.shapes, s.M)
	if err != nil {
		return fmt.Errorf("torchnn: adam state, first moments: %w", err)
	}
	iv, err := matchParams(a.names, a.shapes, s.V)
	if err != nil {
		return fmt.Errorf("torchnn: adam state, second moments: %w", err)
	}
	for _, j := range iv {
		for _, x := range s.V[j].Data {
			if x < 0 {
				return fmt.Errorf("torchnn: adam state: negative second moment in %q", s.V[j].Name)
			}
		}
	}
	for i := range a.names {
		copy(unsafe.Slice((*float32)(a.st.pm[i]), a.sizes[i]), s.M[im[i]].Data)
		copy(unsafe.Slice((*float32)(a.st.pv[i]), a.sizes[i]), s.V[iv[i]].Data)
	}
	a.step = s.Step
	return nil
}
