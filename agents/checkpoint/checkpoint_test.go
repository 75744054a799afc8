package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/internal/rng"
)

// trainedPolicy returns a Go-backend policy net whose parameters have moved off their
// initial values (a few Adam steps on random gradients), and its optimizer.
func trainedPolicy(t testing.TB) (nn.Module, nn.Optimizer) {
	t.Helper()
	b := nn.GoBackend{}
	m, err := b.NewMLP(nn.PolicySpec("actor", 6, []int{8, 8}, 4), 42)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := b.NewAdam(nn.AdamConfig{LR: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MaxGradNorm: 1}, m)
	if err != nil {
		t.Fatal(err)
	}
	r := rng.New(1, "checkpoint.test")
	x := make([]float32, 5*6)
	g := make([]float32, 5*4)
	out := make([]float32, 5*4)
	for step := 0; step < 3; step++ {
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for i := range g {
			g[i] = float32(r.NormFloat64())
		}
		opt.ZeroGrad()
		if err := m.Forward(out, x, 5); err != nil {
			t.Fatal(err)
		}
		if err := m.Backward(nil, g); err != nil {
			t.Fatal(err)
		}
		if _, err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	return m, opt
}

func testMeta() map[string]string {
	return map[string]string{
		MetaFormat: FormatName, MetaVersion: FormatVersion, MetaConfigHash: "ab12",
		MetaObsSpace: "box(6)", MetaActionSpace: "discrete(4)", MetaStep: "12345",
		"odd <chars> & \"quotes\"": "ünïcödé\n",
	}
}

func saveBytes(t testing.TB, ts []Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Save(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestRoundTrip(t *testing.T) {
	m, opt := trainedPolicy(t)
	tensors := append(ModuleTensors("", m), FromAdam(opt.State())...)
	file := saveBytes(t, tensors, testMeta())

	got, meta, err := Load(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(meta) != len(testMeta()) {
		t.Errorf("metadata %v, want %v", meta, testMeta())
	}
	for k, v := range testMeta() {
		if meta[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, meta[k], v)
		}
	}
	fresh, _ := nn.GoBackend{}.NewMLP(m.Spec(), 7) // different seed: every value must come from the file
	if err := RestoreModule(fresh, "", got); err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		q := fresh.Params()[i]
		if q.Name != p.Name || !sameBits(q.Data, p.Data) {
			t.Fatalf("parameter %s differs after the round trip", p.Name)
		}
	}
	// Identical forward outputs, bit for bit.
	x := make([]float32, 3*6)
	for i := range x {
		x[i] = float32(i)/7 - 1
	}
	a, b := make([]float32, 3*4), make([]float32, 3*4)
	if err := m.Forward(a, x, 3); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Forward(b, x, 3); err != nil {
		t.Fatal(err)
	}
	if !sameBits(a, b) {
		t.Fatalf("forward outputs differ: %v vs %v", a, b)
	}
	// The optimizer state comes back too.
	st, err := ToAdam(got)
	if err != nil {
		t.Fatal(err)
	}
	want := opt.State()
	if st.Step != want.Step || len(st.M) != len(want.M) || len(st.V) != len(want.V) {
		t.Fatalf("adam state: step %d, %d/%d tensors; want %d, %d/%d", st.Step, len(st.M), len(st.V), want.Step, len(want.M), len(want.V))
	}
	opt2, _ := nn.GoBackend{}.NewAdam(nn.DefaultAdam(), fresh)
	if err := opt2.SetState(st); err != nil {
		t.Fatal(err)
	}
	for i, p := range opt2.State().V {
		if !sameBits(p.Data, want.V[i].Data) {
			t.Fatalf("second moments of %s differ", p.Name)
		}
	}
}

func TestDeterministicBytes(t *testing.T) {
	m, opt := trainedPolicy(t)
	ts := append(FromParams("", m.Params()), FromAdam(opt.State())...)
	a := saveBytes(t, ts, testMeta())
	// Reversed input order, same bytes.
	rev := make([]Tensor, len(ts))
	for i, x := range ts {
		rev[len(ts)-1-i] = x
	}
	if b := saveBytes(t, rev, testMeta()); !bytes.Equal(a, b) {
		t.Error("same tensors in another order gave different bytes")
	}
	// Same parameters from an identically trained net, same bytes.
	m2, opt2 := trainedPolicy(t)
	if b := saveBytes(t, append(FromParams("", m2.Params()), FromAdam(opt2.State())...), testMeta()); !bytes.Equal(a, b) {
		t.Error("identical training gave different checkpoint bytes")
	}
}

// TestIndependentReader opens a saved file with a reader written here from the
// format's description alone: 8-byte little-endian header size, a JSON header parsed
// into map[string]json.RawMessage, tensor bytes read by hand at data_offsets.
func TestIndependentReader(t *testing.T) {
	m, _ := trainedPolicy(t)
	params := m.Params()
	file := saveBytes(t, FromParams("", params), testMeta())

	n := binary.LittleEndian.Uint64(file[:8])
	if n%8 != 0 {
		t.Errorf("header size %d is not a multiple of 8", n)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(file[8:8+n], &header); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	data := file[8+n:]
	var meta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &meta); err != nil || meta["hivegym.step"] != "12345" {
		t.Errorf("metadata %v (%v)", meta, err)
	}
	if len(header) != len(params)+1 {
		t.Errorf("%d header entries, want %d tensors + metadata", len(header), len(params))
	}
	var covered int
	for _, p := range params {
		raw, ok := header[p.Name]
		if !ok {
			t.Fatalf("no header entry for %s", p.Name)
		}
		var e struct {
			DType       string  `json:"dtype"`
			Shape       []int   `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		if e.DType != "F32" || len(e.Shape) != len(p.Shape) || len(e.DataOffsets) != 2 {
			t.Fatalf("%s: entry %+v", p.Name, e)
		}
		for i := range e.Shape {
			if e.Shape[i] != p.Shape[i] {
				t.Fatalf("%s: shape %v, want %v", p.Name, e.Shape, p.Shape)
			}
		}
		chunk := data[e.DataOffsets[0]:e.DataOffsets[1]]
		if len(chunk) != 4*len(p.Data) {
			t.Fatalf("%s: %d bytes for %d values", p.Name, len(chunk), len(p.Data))
		}
		for i, v := range p.Data {
			u := uint32(chunk[4*i]) | uint32(chunk[4*i+1])<<8 | uint32(chunk[4*i+2])<<16 | uint32(chunk[4*i+3])<<24
			if math.Float32frombits(u) != v {
				t.Fatalf("%s[%d]: file has %g, want %g", p.Name, i, math.Float32frombits(u), v)
			}
		}
		covered += len(chunk)
	}
	if covered != len(data) {
		t.Errorf("tensors cover %d of %d data bytes", covered, len(data))
	}
}

// handFile builds a safetensors file from a header string and data bytes.
func handFile(header string, data []byte) []byte {
	out := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	return append(append(out, header...), data...)
}

func f32Bytes(vs ...float32) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// TestLoadForeignFile loads files laid out as another writer might: tensors stored in an
// order other than by name, a scalar, an empty tensor, all three dtypes, metadata with
// "format": "pt" (as safetensors.torch.save_file writes) and a header not padded.
func TestLoadForeignFile(t *testing.T) {
	header := `{"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"a":{"dtype":"F64","shape":[],"data_offsets":[8,16]},` +
		`"e":{"dtype":"F32","shape":[0,3],"data_offsets":[16,16]},` +
		`"i":{"dtype":"I64","shape":[1,1],"data_offsets":[16,24]},"__metadata__":{"format":"pt"}}`
	data := f32Bytes(1.5, -2)
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(math.Pi))
	data = binary.LittleEndian.AppendUint64(data, uint64(0xFFFFFFFFFFFFFFFE)) // -2
	ts, meta, err := Load(bytes.NewReader(handFile(header, data)))
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" || len(meta) != 1 {
		t.Errorf("metadata %v", meta)
	}
	if len(ts) != 4 || ts[0].Name != "a" || ts[1].Name != "b" || ts[2].Name != "e" || ts[3].Name != "i" {
		t.Fatalf("tensors %v, want a, b, e, i", ts)
	}
	if v, err := ts[0].Float64s(); err != nil || len(v) != 1 || v[0] != math.Pi || len(ts[0].Shape) != 0 {
		t.Errorf("a = %v %v (shape %v)", v, err, ts[0].Shape)
	}
	if v, err := ts[1].Float32s(); err != nil || len(v) != 2 || v[0] != 1.5 || v[1] != -2 {
		t.Errorf("b = %v %v", v, err)
	}
	if v, err := ts[2].Float32s(); err != nil || len(v) != 0 || len(ts[2].Shape) != 2 {
		t.Errorf("e = %v %v (shape %v)", v, err, ts[2].Shape)
	}
	if v, err := ts[3].Int64s(); err != nil || len(v) != 1 || v[0] != -2 {
		t.Errorf("i = %v %v", v, err)
	}
	if _, err := ts[1].Float64s(); !errors.Is(err, ErrFormat) {
		t.Errorf("decoding F32 as F64: %v", err)
	}
	// No metadata at all: an empty, non-nil map.
	_, meta, err = Load(bytes.NewReader(handFile(`{}`, nil)))
	if err != nil || meta == nil || len(meta) != 0 {
		t.Errorf("empty file: meta %v, err %v", meta, err)
	}
}

// corruptCases are malformed files; each must make Load return an ErrFormat error.
func corruptCases() map[string][]byte {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	d8 := f32Bytes(1, 2)
	bad := map[string][]byte{
		"empty":                 {},
		"short length":          {1, 2, 3},
		"header length 0":       handFile("", nil),
		"header length 1":       handFile("{", nil),
		"header length huge":    append(binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "{}"...),
		"header over limit":     append(binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1), "{}"...),
		"header beyond file":    append(binary.LittleEndian.AppendUint64(nil, 100), `{"a":1}`...),
		"not an object":         handFile(`["a"]`, nil),
		"not JSON":              handFile(`{"a":`, nil),
		"trailing garbage":      handFile(ok+`x`, d8),
		"two objects":           handFile(ok+`{}`, d8),
		"data truncated":        handFile(ok, d8[:7]),
		"trailing data":         handFile(ok, append(d8, 0)),
		"offsets out of range":  handFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}`, d8),
		"offsets overlap":       handFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8),
		"offsets gap":           handFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8),
		"offsets reversed":      handFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, d8),
		"offsets negative":      handFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, d8),
		"offsets three":         handFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`, d8),
		"offsets float":         handFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}`, d8),
		"shape mismatch":        handFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, d8),
		"shape negative":        handFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, d8),
		"shape overflow":        handFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, d8),
		"rank too large":        handFile(`{"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}}`, d8[:4]),
		"unknown dtype":         handFile(`{"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}`, d8),
		"dtype not a string":    handFile(`{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}`, d8),
		"missing dtype":         handFile(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, d8),
		"missing offsets":       handFile(`{"a":{"dtype":"F32","shape":[2]}}`, d8),
		"unknown field":         handFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, d8),
		"entry not an object":   handFile(`{"a":[1,2]}`, d8),
		"duplicate tensor":      handFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8),
		"empty name":            handFile(`{"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, d8),
		"metadata not strings":  handFile(`{"__metadata__":{"step":12}}`, nil),
		"metadata null":         handFile(`{"__metadata__":null}`, nil),
		"metadata twice":        handFile(`{"__metadata__":{},"__metadata__":{}}`, nil),
		"no leading brace":      handFile(` {}`, nil),
		"unterminated":          handFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`, d8),
		"header not valid utf8": handFile("{\"\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", d8),
	}
	return bad
}

func TestLoadCorrupt(t *testing.T) {
	for name, file := range corruptCases() {
		ts, meta, err := Load(bytes.NewReader(file))
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Load = %d tensors, %v, %v; want an ErrFormat error", name, len(ts), meta, err)
		}
	}
	// Every truncation of a valid file is an error.
	m, _ := trainedPolicy(t)
	file := saveBytes(t, FromParams("", m.Params()), testMeta())
	for n := 0; n < len(file); n++ {
		if _, _, err := Load(bytes.NewReader(file[:n])); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d of %d bytes: %v, want an ErrFormat error", n, len(file), err)
		}
	}
}

// errReader fails after its data.
type errReader struct{ data []byte }

var errDisk = errors.New("disk on fire")

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errDisk
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestLoadReaderError(t *testing.T) {
	file := handFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32Bytes(1, 2))
	if _, _, err := Load(&errReader{data: file[:20]}); !errors.Is(err, errDisk) {
		t.Errorf("reader error: %v, want it wrapped", err)
	}
}

func TestSaveErrors(t *testing.T) {
	good := F32Tensor("a", []int{2}, []float32{1, 2})
	cases := map[string][]Tensor{
		"duplicate":     {good, good},
		"empty name":    {F32Tensor("", []int{1}, []float32{1})},
		"reserved name": {F32Tensor("__metadata__", []int{1}, []float32{1})},
		"bad dtype":     {{Name: "x", DType: "F16", Shape: []int{1}, Data: []byte{0, 0}}},
		"short data":    {{Name: "x", DType: F32, Shape: []int{2}, Data: []byte{0, 0, 0, 0}}},
		"negative dim":  {{Name: "x", DType: F32, Shape: []int{-1}}},
	}
	cases["invalid UTF-8 name"] = []Tensor{F32Tensor("a\xff", []int{1}, []float32{1})}
	for name, ts := range cases {
		var buf bytes.Buffer
		if err := Save(&buf, ts, nil); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Save = %v, want an ErrFormat error", name, err)
		}
	}
	var buf bytes.Buffer
	if err := Save(&buf, []Tensor{good}, map[string]string{"k": "\xff"}); !errors.Is(err, ErrFormat) {
		t.Errorf("invalid UTF-8 metadata: Save = %v, want an ErrFormat error", err)
	}
}

func TestScalarsAndEmpty(t *testing.T) {
	ts := []Tensor{
		I64Tensor("step", nil, []int64{-7}),
		F64Tensor("pi", []int{}, []float64{math.Pi}),
		F32Tensor("none", []int{0}, nil),
		F32Tensor("specials", []int{4}, []float32{float32(math.Inf(1)), float32(math.NaN()), -0, 1e-45}),
	}
	got, meta, err := Load(bytes.NewReader(saveBytes(t, ts, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(meta) != 0 || len(got) != 4 {
		t.Fatalf("%d tensors, meta %v", len(got), meta)
	}
	byName := map[string]Tensor{}
	for _, x := range got {
		byName[x.Name] = x
	}
	for _, x := range ts {
		y := byName[x.Name]
		if !bytes.Equal(x.Data, y.Data) || y.DType != x.DType || len(y.Shape) != len(x.Shape) {
			t.Errorf("%s: got %+v, want %+v", x.Name, y, x)
		}
	}
}

func TestCheckMeta(t *testing.T) {
	meta := testMeta()
	if err := CheckMeta(meta, map[string]string{MetaObsSpace: "box(6)", MetaActionSpace: "discrete(4)"}); err != nil {
		t.Errorf("matching spaces refused: %v", err)
	}
	err := CheckMeta(meta, map[string]string{MetaObsSpace: "box(7)", MetaPolicy: "providers"})
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	for _, want := range []string{`hivegym.observation_space is "box(6)", want "box(7)"`, `hivegym.policy is missing`} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestRestoreModuleErrors(t *testing.T) {
	m, _ := trainedPolicy(t)
	ts := ModuleTensors("policy.", m)
	before := m.Params()
	if err := RestoreModule(m, "", ts); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong prefix: %v", err)
	}
	ts[0].Shape = []int{ts[0].Shape[1], ts[0].Shape[0]}
	if err := RestoreModule(m, "policy.", ts); !errors.Is(err, ErrMismatch) || !errors.Is(err, nn.ErrParams) {
		t.Errorf("transposed weight: %v", err)
	}
	for i, p := range m.Params() {
		if !sameBits(p.Data, before[i].Data) {
			t.Fatal("a failed RestoreModule changed the module")
		}
	}
	// ToParams strips the prefix and ignores other tensors.
	ps, err := ToParams("policy.", append(ts, I64Tensor("other", nil, []int64{1})))
	if err != nil || len(ps) != len(before) || ps[1].Name != before[1].Name {
		t.Errorf("ToParams: %d params, %v", len(ps), err)
	}
}

func TestToAdamErrors(t *testing.T) {
	if _, err := ToAdam(nil); !errors.Is(err, ErrFormat) {
		t.Errorf("no step tensor: %v", err)
	}
	if _, err := ToAdam([]Tensor{I64Tensor("optim.step", []int{2}, []int64{1, 2})}); !errors.Is(err, ErrFormat) {
		t.Errorf("step of shape [2]: %v", err)
	}
	if _, err := ToAdam([]Tensor{F32Tensor("optim.step", nil, []float32{1})}); !errors.Is(err, ErrFormat) {
		t.Errorf("F32 step: %v", err)
	}
}

// FuzzLoad: Load never panics, and whatever it accepts survives Save and Load unchanged,
// with Save producing the same bytes the second time.
func FuzzLoad(f *testing.F) {
	m, opt := trainedPolicy(f)
	f.Add(saveBytes(f, append(FromParams("", m.Params()), FromAdam(opt.State())...), testMeta()))
	f.Add(saveBytes(f, []Tensor{F32Tensor("a", []int{2}, []float32{1, 2})}, map[string]string{"k": "v"}))
	f.Add(handFile(`{}`, nil))
	f.Add(handFile(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"I64","shape":[],"data_offsets":[4,12]}}`, make([]byte, 12)))
	for _, name := range []string{"offsets overlap", "shape mismatch", "data truncated", "metadata not strings", "header length huge"} {
		f.Add(corruptCases()[name])
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		ts, meta, err := Load(bytes.NewReader(file))
		if err != nil {
			return
		}
		var once bytes.Buffer
		if err := Save(&once, ts, meta); err != nil {
			t.Fatalf("Load accepted what Save refuses: %v", err)
		}
		ts2, meta2, err := Load(bytes.NewReader(once.Bytes()))
		if err != nil {
			t.Fatalf("Save wrote what Load refuses: %v", err)
		}
		if len(ts2) != len(ts) || len(meta2) != len(meta) {
			t.Fatalf("round trip changed %d tensors/%d meta into %d/%d", len(ts), len(meta), len(ts2), len(meta2))
		}
		for i := range ts {
			if ts[i].Name != ts2[i].Name || ts[i].DType != ts2[i].DType || !bytes.Equal(ts[i].Data, ts2[i].Data) ||
				fmt.Sprint(ts[i].Shape) != fmt.Sprint(ts2[i].Shape) {
				t.Fatalf("tensor %d changed in the round trip", i)
			}
		}
		for k, v := range meta {
			if meta2[k] != v {
				t.Fatalf("metadata %q changed", k)
			}
		}
		var twice bytes.Buffer
		if err := Save(&twice, ts2, meta2); err != nil || !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("Save is not deterministic across a round trip (%v)", err)
		}
	})
}
