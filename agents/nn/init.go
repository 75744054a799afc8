package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/hivegym/hivegym/internal/rng"
)

// Orthogonal returns a rows×cols matrix (row-major, float64) with orthonormal rows or
// columns scaled by gain, drawn as Saxe, McClelland and Ganguli (2014, "Exact solutions to
// the nonlinear dynamics of learning in deep linear neural networks") propose and as
// torch.nn.init.orthogonal_ does: fill a matrix with standard normal draws from r
// (row-major, transposed first if rows < cols), take its QR decomposition, multiply each
// column of Q by the sign of the matching diagonal entry of R (so the result is uniform
// over the orthogonal matrices), transpose back. Then W Wᵀ = gain² I if rows <= cols
// and Wᵀ W = gain² I if rows >= cols. It panics if rows or cols is below 1 (InitParams
// only calls it for validated specs).
func Orthogonal(rows, cols int, gain float64, r *rand.Rand) []float64 {
	if rows < 1 || cols < 1 {
		panic(fmt.Sprintf("nn: Orthogonal of a %d×%d matrix", rows, cols))
	}
	m, n := rows, cols
	if m < n {
		m, n = n, m
	}
	a := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			a.Set(i, j, r.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q, rr mat.Dense
	qr.QTo(&q) // m×m
	qr.RTo(&rr)
	out := make([]float64, rows*cols)
	for j := 0; j < n; j++ {
		sign := 1.0
		if rr.At(j, j) < 0 {
			sign = -1
		}
		for i := 0; i < m; i++ {
			v := gain * sign * q.At(i, j)
			if rows >= cols {
				out[i*cols+j] = v
			} else {
				out[j*cols+i] = v // transpose back: the m×n Q becomes rows×cols
			}
		}
	}
	return out
}

// InitStream is the internal/rng stream name the initial weights of spec are drawn from.
func InitStream(spec MLPSpec) string { return "nn.init." + spec.Name }

// InitParams returns the initial parameters of the network spec describes under seed,
// in ParamNames order: each weight orthogonal (HiddenGain for hidden layers, OutGain for
// the output layer), each bias zero, as CleanRL's layer_init. The weights are drawn layer
// by layer from rng.New(seed, InitStream(spec)) in float64 and rounded to float32. Every
// backend starts from these values, so the same seed gives the same network everywhere.
func InitParams(spec MLPSpec, seed uint64) ([]Param, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("nn: invalid MLP spec: %w", err)
	}
	r := rng.New(seed, InitStream(spec))
	names, shapes := spec.ParamNames(), spec.ParamShapes()
	ps := make([]Param, len(names))
	nLayers := len(spec.Hidden) + 1
	for l := 0; l < nLayers; l++ {
		gain := spec.HiddenGain
		if l == nLayers-1 {
			gain = spec.OutGain
		}
		ws, bs := shapes[2*l], shapes[2*l+1]
		w := Orthogonal(ws[0], ws[1], gain, r)
		wp := Param{Name: names[2*l], Shape: ws, Data: make([]float32, len(w))}
		for i, v := range w {
			wp.Data[i] = float32(v)
		}
		ps[2*l] = wp
		ps[2*l+1] = Param{Name: names[2*l+1], Shape: bs, Data: make([]float32, bs[0])}
	}
	return ps, nil
}

// allFinite reports whether every value is finite.
func allFinite(xs []float32) bool {
	for _, x := range xs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
