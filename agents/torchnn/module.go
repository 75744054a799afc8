//go:build torch

package torchnn

import (
	"fmt"
	"runtime"
	"slices"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"

	"github.com/hivegym/hivegym/agents/nn"
)

// Module is an nn.Module on libtorch tensors. It is not safe for concurrent use. Close
// frees its tensors; a module dropped without Close is freed by a runtime cleanup.
type Module struct {
	spec   nn.MLPSpec
	names  []string
	shapes [][]int
	sizes  []int // elements of each named tensor
	st     *moduleState
	stop   runtime.Cleanup
	batch  int   // rows of the last successful Forward; 0 before any
	err    error // sticky error of ZeroGrad, which cannot return one
}

// layer is one Linear layer: weight [out, in], bias [out] and their gradient accumulators.
type layer struct {
	in, out          int
	w, b, gw, gb     handle
	pw, pb, pgw, pgb unsafe.Pointer // data pointers (the tensors are never reallocated)
}

// buf is a contiguous [capBatch, width] buffer and its views on the first rows of the
// current batch.
type buf struct {
	width int
	full  handle
	ptr   unsafe.Pointer
	view  handle // full.narrow(0, 0, batch)
	viewT handle // view.t(), when the backward pass needs it
}

// moduleState holds every libtorch object of a module, apart from the Module itself so
// that a runtime cleanup can free it.
type moduleState struct {
	o      ops
	layers []layer
	// acts[0] holds the input, acts[l+1] the output of layer l (after the activation for
	// hidden layers); grads[k] holds dLoss/d(acts[k]) in the backward pass.
	acts, grads []buf
	ones        buf // a column of ones: Σ over the batch as a matrix-vector product
	zero        lib.Cscalar
	capBatch    int
	viewBatch   int
	closed      bool
}

func newModule(spec nn.MLPSpec, seed uint64) (*Module, error) {
	ps, err := nn.InitParams(spec, seed)
	if err != nil {
		return nil, err
	}
	spec.Hidden = append([]int(nil), spec.Hidden...)
	m := &Module{spec: spec, names: spec.ParamNames(), shapes: spec.ParamShapes(), st: &moduleState{o: newOps()}}
	for _, s := range m.shapes {
		m.sizes = append(m.sizes, nn.Param{Shape: s}.Size())
	}
	defer lock()()
	st := m.st
	m.stop = runtime.AddCleanup(m, func(st *moduleState) { st.free() }, st)
	if st.zero, err = scalar(0); err != nil {
		m.Close()
		return nil, err
	}
	widths := append(append([]int{spec.In}, spec.Hidden...), spec.Out)
	for l := 0; l+1 < len(widths); l++ {
		ly := layer{in: widths[l], out: widths[l+1]}
		for _, t := range []struct {
			h    *handle
			p    *unsafe.Pointer
			r, c int
		}{
			{&ly.w, &ly.pw, ly.out, ly.in}, {&ly.b, &ly.pb, ly.out, 0},
			{&ly.gw, &ly.pgw, ly.out, ly.in}, {&ly.gb, &ly.pgb, ly.out, 0},
		} {
			if *t.h, err = st.o.zeros(t.r, t.c); err != nil {
				st.layers = append(st.layers, ly)
				m.Close()
				return nil, err
			}
			*t.p = lib.AtDataPtr(*t.h)
		}
		st.layers = append(st.layers, ly)
	}
	st.acts = make([]buf, len(widths))
	st.grads = make([]buf, len(widths))
	for k, w := range widths {
		st.acts[k].width, st.grads[k].width = w, w
	}
	st.ones.width = 1
	if err := m.SetParams(ps); err != nil {
		m.Close()
		return nil, fmt.Errorf("torchnn: internal error: initial parameters rejected: %w", err)
	}
	return m, nil
}

// Close frees the module's tensors. Later calls return ErrClosed (Params and Grads return
// nil). Close is idempotent.
func (m *Module) Close() error {
	if m.st.closed {
		return nil
	}
	m.stop.Stop()
	m.st.free()
	m.batch = 0
	return nil
}

func (st *moduleState) free() {
	if st.closed {
		return
	}
	st.closed = true
	st.freeBuffers()
	for i := range st.layers {
		ly := &st.layers[i]
		st.o.free(ly.w)
		st.o.free(ly.b)
		st.o.free(ly.gw)
		st.o.free(ly.gb)
		*ly = layer{}
	}
	freeScalar(st.zero)
	st.zero = nil
}

func (st *moduleState) freeViews() {
	for _, bs := range [][]buf{st.acts, st.grads} {
		for i := range bs {
			st.o.free(bs[i].view)
			st.o.free(bs[i].viewT)
			bs[i].view, bs[i].viewT = nil, nil
		}
	}
	st.o.free(st.ones.view)
	st.ones.view = nil
	st.viewBatch = 0
}

func (st *moduleState) freeBuffers() {
	st.freeViews()
	for _, bs := range []*[]buf{&st.acts, &st.grads} {
		for i := range *bs {
			st.o.free((*bs)[i].full)
			(*bs)[i].full, (*bs)[i].ptr = nil, nil
		}
	}
	st.o.free(st.ones.full)
	st.ones.full, st.ones.ptr = nil, nil
	st.capBatch = 0
}

// prepare makes room for batch rows and the views on them.
func (st *moduleState) prepare(batch int) error {
	if batch > st.capBatch {
		st.freeBuffers()
		for _, bs := range [][]buf{st.acts, st.grads} {
			for i := range bs {
				t, err := st.o.zeros(batch, bs[i].width)
				if err != nil {
					st.freeBuffers()
					return err
				}
				bs[i].full, bs[i].ptr = t, lib.AtDataPtr(t)
			}
		}
		t, err := st.o.zeros(batch, 0)
		if err != nil {
			st.freeBuffers()
			return err
		}
		st.ones.full, st.ones.ptr = t, lib.AtDataPtr(t)
		ones := floats(t, batch)
		for i := range ones {
			ones[i] = 1
		}
		st.capBatch = batch
	}
	if batch == st.viewBatch {
		return nil
	}
	st.freeViews()
	var err error
	for k := range st.acts {
		if st.acts[k].view, err = st.o.narrowRows(st.acts[k].full, batch); err != nil {
			st.freeViews()
			return err
		}
		if st.grads[k].view, err = st.o.narrowRows(st.grads[k].full, batch); err != nil {
			st.freeViews()
			return err
		}
		if k == 0 {
			continue
		}
		if st.grads[k].viewT, err = st.o.transpose(st.grads[k].view); err != nil {
			st.freeViews()
			return err
		}
	}
	if st.ones.view, err = st.o.narrowRows(st.ones.full, batch); err != nil {
		st.freeViews()
		return err
	}
	st.viewBatch = batch
	return nil
}

// Spec implements nn.Module.
func (m *Module) Spec() nn.MLPSpec {
	s := m.spec
	s.Hidden = append([]int(nil), s.Hidden...)
	return s
}

func (m *Module) usable() error {
	if m.st.closed {
		return ErrClosed
	}
	return m.err
}

// Forward implements nn.Module.
func (m *Module) Forward(dst, x []float32, batch int) error {
	if err := m.usable(); err != nil {
		return err
	}
	if batch < 1 {
		return fmt.Errorf("torchnn: forward: batch %d: %w", batch, nn.ErrShape)
	}
	if len(x) != batch*m.spec.In || len(dst) != batch*m.spec.Out {
		return fmt.Errorf("torchnn: forward: batch %d needs %d inputs and %d outputs, got %d and %d: %w",
			batch, batch*m.spec.In, batch*m.spec.Out, len(x), len(dst), nn.ErrShape)
	}
	defer lock()()
	m.batch = 0
	st := m.st
	if err := st.prepare(batch); err != nil {
		return fmt.Errorf("torchnn: forward: %w", err)
	}
	copy(unsafe.Slice((*float32)(st.acts[0].ptr), len(x)), x)
	last := len(st.layers) - 1
	for l := range st.layers {
		ly := &st.layers[l]
		z := st.acts[l+1].view
		if err := st.o.linearOut(z, st.acts[l].view, ly.w, ly.b); err != nil {
			return fmt.Errorf("torchnn: forward: %w", err)
		}
		if l == last {
			break
		}
		var err error
		if m.spec.Activation == nn.ReLU {
			err = st.o.relu_(z)
		} else {
			err = st.o.tanh_(z)
		}
		if err != nil {
			return fmt.Errorf("torchnn: forward: %w", err)
		}
	}
	copy(dst, unsafe.Slice((*float32)(st.acts[last+1].ptr), len(dst)))
	m.batch = batch
	return nil
}

// Backward implements nn.Module: for each layer, from the last, dW += dzᵀ x,
// db += dzᵀ 1, and dx = dz W through the activation derivative (tanh: 1 - y²; ReLU: y > 0).
func (m *Module) Backward(dstGradIn, gradOut []float32) error {
	if err := m.usable(); err != nil {
		return err
	}
	if m.batch == 0 {
		return nn.ErrNoForward
	}
	if len(gradOut) != m.batch*m.spec.Out {
		return fmt.Errorf("torchnn: backward: batch %d needs %d output gradients, got %d: %w",
			m.batch, m.batch*m.spec.Out, len(gradOut), nn.ErrShape)
	}
	if dstGradIn != nil && len(dstGradIn) != m.batch*m.spec.In {
		return fmt.Errorf("torchnn: backward: batch %d needs room for %d input gradients, got %d: %w",
			m.batch, m.batch*m.spec.In, len(dstGradIn), nn.ErrShape)
	}
	defer lock()()
	st := m.st
	L := len(st.layers)
	copy(unsafe.Slice((*float32)(st.grads[L].ptr), len(gradOut)), gradOut)
	for l := L - 1; l >= 0; l-- {
		ly := &st.layers[l]
		dz := &st.grads[l+1]
		if err := st.o.addmm_(ly.gw, dz.viewT, st.acts[l].view); err != nil {
			return fmt.Errorf("torchnn: backward: %w", err)
		}
		if err := st.o.addmv_(ly.gb, dz.viewT, st.ones.view); err != nil {
			return fmt.Errorf("torchnn: backward: %w", err)
		}
		if l == 0 && dstGradIn == nil {
			return nil
		}
		dx := st.grads[l].view
		if err := st.o.mmOut(dx, dz.view, ly.w); err != nil {
			return fmt.Errorf("torchnn: backward: %w", err)
		}
		if l == 0 {
			break
		}
		// Through the activation of layer l-1, whose output is acts[l].
		var err error
		if m.spec.Activation == nn.ReLU {
			err = st.o.thresholdBackwardOut(dx, dx, st.acts[l].view, st.zero)
		} else {
			err = st.o.tanhBackwardOut(dx, dx, st.acts[l].view)
		}
		if err != nil {
			return fmt.Errorf("torchnn: backward: %w", err)
		}
	}
	copy(dstGradIn, unsafe.Slice((*float32)(st.grads[0].ptr), len(dstGradIn)))
	return nil
}

// ZeroGrad implements nn.Module. A libtorch failure here (which would be a bug) is
// returned by the next call of the module.
func (m *Module) ZeroGrad() {
	if m.usable() != nil {
		return
	}
	defer lock()()
	for i := range m.st.layers {
		ly := &m.st.layers[i]
		for _, g := range []handle{ly.gw, ly.gb} {
			if err := m.st.o.zero_(g); err != nil {
				m.err = fmt.Errorf("torchnn: zero_grad: %w", err)
				return
			}
		}
	}
}

// tensorPtrs returns the data pointers of the parameters (grads false) or of their
// gradients, in ParamNames order.
func (m *Module) tensorPtrs(grads bool) []unsafe.Pointer {
	ps := make([]unsafe.Pointer, 0, 2*len(m.st.layers))
	for i := range m.st.layers {
		ly := &m.st.layers[i]
		if grads {
			ps = append(ps, ly.pgw, ly.pgb)
		} else {
			ps = append(ps, ly.pw, ly.pb)
		}
	}
	return ps
}

func (m *Module) export(grads bool) []nn.Param {
	if m.st.closed {
		return nil
	}
	ptrs := m.tensorPtrs(grads)
	out := make([]nn.Param, len(m.names))
	for i, name := range m.names {
		out[i] = nn.Param{Name: name, Shape: append([]int(nil), m.shapes[i]...),
			Data: append([]float32(nil), unsafe.Slice((*float32)(ptrs[i]), m.sizes[i])...)}
	}
	return out
}

// Params implements nn.Module.
func (m *Module) Params() []nn.Param { return m.export(false) }

// Grads implements nn.Module.
func (m *Module) Grads() []nn.Param { return m.export(true) }

// SetParams implements nn.Module.
func (m *Module) SetParams(ps []nn.Param) error {
	if m.st.closed {
		return ErrClosed
	}
	idx, err := matchParams(m.names, m.shapes, ps)
	if err != nil {
		return err
	}
	for i, p := range m.tensorPtrs(false) {
		copy(unsafe.Slice((*float32)(p), m.sizes[i]), ps[idx[i]].Data)
	}
	return nil
}

// matchParams checks that ps holds exactly the tensors names and shapes describe and
// returns, for each name, the index of its tensor in ps (the rules of agents/nn).
func matchParams(names []string, shapes [][]int, ps []nn.Param) ([]int, error) {
	pos := make(map[string]int, len(ps))
	for j, p := range ps {
		if _, dup := pos[p.Name]; dup {
			return nil, fmt.Errorf("%w: %q given twice", nn.ErrParams, p.Name)
		}
		pos[p.Name] = j
	}
	idx := make([]int, len(names))
	for i, name := range names {
		j, ok := pos[name]
		if !ok {
			return nil, fmt.Errorf("%w: %q missing", nn.ErrParams, name)
		}
		p := ps[j]
		if !slices.Equal(p.Shape, shapes[i]) {
			return nil, fmt.Errorf("%w: %q has shape %v, want %v", nn.ErrParams, name, p.Shape, shapes[i])
		}
		if len(p.Data) != p.Size() {
			return nil, fmt.Errorf("%w: %q has %d values for shape %v", nn.ErrParams, name, len(p.Data), p.Shape)
		}
		idx[i] = j
		delete(pos, name)
	}
	for _, p := range ps { // the first unexpected tensor, in input order
		if _, extra := pos[p.Name]; extra {
			return nil, fmt.Errorf("%w: unexpected tensor %q", nn.ErrParams, p.Name)
		}
	}
	return idx, nil
}
