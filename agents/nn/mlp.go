package nn

import (
	"fmt"
	"slices"

	"gonum.org/v1/gonum/blas"
)

// GoBackend is the pure-Go backend: float32 MLPs on gonum's BLAS, with no cgo. It is
// registered as "go". The zero value is ready to use.
type GoBackend struct{}

// Name returns "go".
func (GoBackend) Name() string { return "go" }

// NewMLP builds a float32 MLP initialized with InitParams(spec, seed).
func (GoBackend) NewMLP(spec MLPSpec, seed uint64) (Module, error) {
	return newMLP[float32](spec, seed)
}

// NewAdam builds an Adam optimizer over modules made by this backend.
func (GoBackend) NewAdam(cfg AdamConfig, modules ...Module) (Optimizer, error) {
	ms := make([]*mlp[float32], len(modules))
	for i, m := range modules {
		gm, ok := m.(*mlp[float32])
		if !ok {
			return nil, fmt.Errorf("nn: go backend NewAdam: module %d is a %T: %w", i, m, ErrBackendMismatch)
		}
		ms[i] = gm
	}
	return newAdam(cfg, ms)
}

// layer locates one Linear layer in the flat parameter and gradient arenas.
type layer struct {
	in, out int
	w, b    int // offsets of the weight (out×in, row-major) and the bias (out)
}

// mlp is the pure-Go MLP, generic over the element type so that the float64 instantiation
// can be checked against finite differences; the backend uses float32.
//
// Parameters live in one flat arena (all layers, weight then bias) and gradients in a
// second of the same layout, so the optimizer and clipping run over two slices and tensor
// alignment never depends on the allocator.
type mlp[T scalar] struct {
	spec   MLPSpec
	names  []string
	shapes [][]int
	offs   []int // offset of each named tensor in the arenas
	layers []layer
	params []T
	grads  []T
	wT     []T // backward scratch: each weight transposed (in×out), at its arena offset
	k      kernels[T]

	// Activations: acts[0] holds the input, acts[l+1] the output of layer l (after the
	// nonlinearity for hidden layers). Each has room for capBatch rows.
	acts     [][]T
	dA, dB   []T // backward scratch, capBatch × widest layer each
	capBatch int
	batch    int // rows of the last Forward; 0 before any

	side *gemmHelper[T] // runs half of each large matrix product (splitGemm); nil until then
}

// gemm is serialGemm, with half of a large product on the module's helper goroutine
// (splitGemm: the same result, bit for bit).
func (m *mlp[T]) gemm(tA, tB blas.Transpose, mm, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	splitGemm(m, &m.side, m.k.gemm, tA, tB, mm, n, k, a, lda, b, ldb, beta, c, ldc)
}

func newMLP[T scalar](spec MLPSpec, seed uint64) (*mlp[T], error) {
	ps, err := InitParams(spec, seed)
	if err != nil {
		return nil, err
	}
	spec.Hidden = append([]int(nil), spec.Hidden...)
	m := &mlp[T]{spec: spec, names: spec.ParamNames(), shapes: spec.ParamShapes(), k: kernelsFor[T]()}
	w := spec.widths()
	off := 0
	for l := 0; l+1 < len(w); l++ {
		ly := layer{in: w[l], out: w[l+1], w: off}
		off += ly.in * ly.out
		ly.b = off
		off += ly.out
		m.layers = append(m.layers, ly)
		m.offs = append(m.offs, ly.w, ly.b)
	}
	m.params = make([]T, off)
	m.grads = make([]T, off)
	m.wT = make([]T, off)
	m.acts = make([][]T, len(w))
	if err := m.SetParams(ps); err != nil {
		return nil, fmt.Errorf("nn: internal error: initial parameters rejected: %w", err)
	}
	return m, nil
}

func (m *mlp[T]) Spec() MLPSpec {
	s := m.spec
	s.Hidden = append([]int(nil), s.Hidden...)
	return s
}

// grow makes room for batch rows in every buffer.
func (m *mlp[T]) grow(batch int) {
	if batch <= m.capBatch {
		return
	}
	widest := 0
	w := m.spec.widths()
	for l, n := range w {
		m.acts[l] = make([]T, batch*n)
		widest = max(widest, n)
	}
	m.dA = make([]T, batch*widest)
	m.dB = make([]T, batch*widest)
	m.capBatch = batch
}

// Forward implements Module.
func (m *mlp[T]) Forward(dst, x []float32, batch int) error {
	if batch < 1 {
		return fmt.Errorf("nn: forward: batch %d: %w", batch, ErrShape)
	}
	if len(x) != batch*m.spec.In || len(dst) != batch*m.spec.Out {
		return fmt.Errorf("nn: forward: batch %d needs %d inputs and %d outputs, got %d and %d: %w",
			batch, batch*m.spec.In, batch*m.spec.Out, len(x), len(dst), ErrShape)
	}
	m.grow(batch)
	in := m.acts[0][:len(x)]
	for i, v := range x {
		in[i] = T(v)
	}
	out := m.forward(batch)
	for i, v := range out {
		dst[i] = float32(v)
	}
	return nil
}

// forward runs the network on the batch rows already in acts[0] and returns the output
// rows (a view of acts[L]).
func (m *mlp[T]) forward(batch int) []T {
	m.batch = batch
	last := len(m.layers) - 1
	for l, ly := range m.layers {
		x := m.acts[l][:batch*ly.in]
		z := m.acts[l+1][:batch*ly.out]
		bias := m.params[ly.b : ly.b+ly.out]
		for r := 0; r < batch; r++ {
			copy(z[r*ly.out:(r+1)*ly.out], bias)
		}
		// z = x Wᵀ + b: x is batch×in, W is out×in.
		m.gemm(blas.NoTrans, blas.Trans, batch, ly.out, ly.in,
			x, ly.in, m.params[ly.w:ly.b], ly.in, 1, z, ly.out)
		if l < last {
			if m.spec.Activation == ReLU {
				relu(z)
			} else {
				m.k.tanh(z)
			}
		}
	}
	return m.acts[len(m.layers)][:batch*m.spec.Out]
}

// Backward implements Module.
func (m *mlp[T]) Backward(dstGradIn, gradOut []float32) error {
	if m.batch == 0 {
		return ErrNoForward
	}
	if len(gradOut) != m.batch*m.spec.Out {
		return fmt.Errorf("nn: backward: batch %d needs %d output gradients, got %d: %w",
			m.batch, m.batch*m.spec.Out, len(gradOut), ErrShape)
	}
	if dstGradIn != nil && len(dstGradIn) != m.batch*m.spec.In {
		return fmt.Errorf("nn: backward: batch %d needs room for %d input gradients, got %d: %w",
			m.batch, m.batch*m.spec.In, len(dstGradIn), ErrShape)
	}
	g := m.dA[:len(gradOut)]
	for i, v := range gradOut {
		g[i] = T(v)
	}
	gin := m.backward(dstGradIn != nil)
	for i, v := range gin {
		dstGradIn[i] = float32(v)
	}
	return nil
}

// backward back-propagates dLoss/dOutput, which the caller has put in m.dA, through the
// layers of the last forward pass, adding the parameter gradients to m.grads. If wantIn
// it returns dLoss/dInput (a view of a scratch buffer), else nil.
func (m *mlp[T]) backward(wantIn bool) []T {
	batch := m.batch
	bufs := [2][]T{m.dA, m.dB}
	cur := 0
	dz := bufs[cur][:batch*m.spec.Out]
	for l := len(m.layers) - 1; l >= 0; l-- {
		ly := m.layers[l]
		x := m.acts[l][:batch*ly.in]
		// dW += dzᵀ x: dz is batch×out, x is batch×in.
		m.gemm(blas.Trans, blas.NoTrans, ly.out, ly.in, batch,
			dz, ly.out, x, ly.in, 1, m.grads[ly.w:ly.b], ly.in)
		// db += column sums of dz, row by row in order.
		gb := m.grads[ly.b : ly.b+ly.out]
		for r := 0; r < batch; r++ {
			for j, v := range dz[r*ly.out : (r+1)*ly.out] {
				gb[j] += v
			}
		}
		if l == 0 && !wantIn {
			return nil
		}
		// dx = dz W = dz (Wᵀ)ᵀ: dz is batch×out, Wᵀ is in×out. With W transposed first
		// (out×in values, negligible next to batch×out×in), each element of dx is one
		// contiguous dot product, which gonum computes half again as fast as the
		// row-times-matrix form and, as in forward, independently of the other rows.
		w, wT := m.params[ly.w:ly.b], m.wT[ly.w:ly.b]
		dx := bufs[1-cur][:batch*ly.in]
		if ly.out == 1 {
			// One output (the critic's last layer): each dot product has a single term,
			// and gemm's 0 + (0 + dz·w) is dz·w with -0 made +0. Computed directly, it
			// skips a gemm call per element.
			for r, d := range dz[:batch] {
				row := dx[r*ly.in : (r+1)*ly.in]
				for i, v := range w {
					p := d * v
					if p == 0 {
						p = 0
					}
					row[i] = p
				}
			}
		} else {
			for o := 0; o < ly.out; o++ {
				for i, v := range w[o*ly.in : (o+1)*ly.in] {
					wT[i*ly.out+o] = v
				}
			}
			m.gemm(blas.NoTrans, blas.Trans, batch, ly.in, ly.out,
				dz, ly.out, wT, ly.out, 0, dx, ly.in)
		}
		if l > 0 {
			// Through the nonlinearity of layer l-1, whose output is x.
			if m.spec.Activation == ReLU {
				for i, a := range x {
					if !(a > 0) {
						dx[i] = 0
					}
				}
			} else {
				for i, a := range x {
					dx[i] *= 1 - a*a
				}
			}
		}
		dz = dx
		cur = 1 - cur
	}
	return dz
}

// ZeroGrad implements Module.
func (m *mlp[T]) ZeroGrad() { clear(m.grads) }

// Params implements Module.
func (m *mlp[T]) Params() []Param { return m.export(m.params) }

// Grads implements Module.
func (m *mlp[T]) Grads() []Param { return m.export(m.grads) }

func (m *mlp[T]) export(arena []T) []Param {
	ps := make([]Param, len(m.names))
	for i, name := range m.names {
		shape := append([]int(nil), m.shapes[i]...)
		p := Param{Name: name, Shape: shape}
		src := arena[m.offs[i] : m.offs[i]+p.Size()]
		p.Data = make([]float32, len(src))
		for j, v := range src {
			p.Data[j] = float32(v)
		}
		ps[i] = p
	}
	return ps
}

// SetParams implements Module.
func (m *mlp[T]) SetParams(ps []Param) error {
	idx, err := matchParams(m.names, m.shapes, ps)
	if err != nil {
		return err
	}
	for i, j := range idx {
		dst := m.params[m.offs[i] : m.offs[i]+len(ps[j].Data)]
		for k, v := range ps[j].Data {
			dst[k] = T(v)
		}
	}
	return nil
}

// matchParams checks that ps holds exactly the tensors names and shapes describe and
// returns, for each name, the index of its tensor in ps.
func matchParams(names []string, shapes [][]int, ps []Param) ([]int, error) {
	pos := make(map[string]int, len(ps))
	for j, p := range ps {
		if _, dup := pos[p.Name]; dup {
			return nil, fmt.Errorf("%w: %q given twice", ErrParams, p.Name)
		}
		pos[p.Name] = j
	}
	idx := make([]int, len(names))
	for i, name := range names {
		j, ok := pos[name]
		if !ok {
			return nil, fmt.Errorf("%w: %q missing", ErrParams, name)
		}
		p := ps[j]
		if !slices.Equal(p.Shape, shapes[i]) {
			return nil, fmt.Errorf("%w: %q has shape %v, want %v", ErrParams, name, p.Shape, shapes[i])
		}
		if len(p.Data) != p.Size() {
			return nil, fmt.Errorf("%w: %q has %d values for shape %v", ErrParams, name, len(p.Data), p.Shape)
		}
		idx[i] = j
		delete(pos, name)
	}
	if len(pos) > 0 {
		// Report the first unexpected tensor in input order, deterministically.
		for _, p := range ps {
			if _, extra := pos[p.Name]; extra {
				return nil, fmt.Errorf("%w: unexpected tensor %q", ErrParams, p.Name)
			}
		}
	}
	return idx, nil
}
