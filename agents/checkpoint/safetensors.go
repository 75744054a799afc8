package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
)

// DType is a safetensors element type. Only the three hivegym uses are supported.
type DType string

// The supported element types: IEEE 754 float32 and float64 and two's-complement int64,
// all little-endian.
const (
	F32 DType = "F32"
	F64 DType = "F64"
	I64 DType = "I64"
)

// Size returns the size of one element in bytes, or 0 for an unsupported type.
func (d DType) Size() int {
	switch d {
	case F32:
		return 4
	case F64, I64:
		return 8
	}
	return 0
}

// Tensor is one named tensor: its element type, its shape (row-major; nil or empty for a
// scalar) and its raw little-endian bytes, len(Data) = product(Shape) × DType.Size().
// F32Tensor, F64Tensor and I64Tensor build one from Go values; Float32s, Float64s and
// Int64s decode one.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// Limits on what Load accepts. MaxHeaderSize is the bound the reference implementation
// (huggingface/safetensors) uses; MaxRank and MaxTensors keep a hostile header from
// making Load do unbounded work.
const (
	MaxHeaderSize = 100_000_000
	MaxRank       = 16
	MaxTensors    = 1 << 20
)

// metadataKey is the reserved header entry holding the string→string metadata.
const metadataKey = "__metadata__"

// ErrFormat is wrapped by every error Load returns for a malformed file, and by Save for
// tensors that cannot be written.
var ErrFormat = errors.New("safetensors")

// ErrMismatch is wrapped by CheckMeta when a checkpoint was made for something else.
var ErrMismatch = errors.New("checkpoint mismatch")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// headerEntry is one tensor's entry in the JSON header.
type headerEntry struct {
	DType       DType    `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// numElements returns the product of shape, or an error for a negative dimension or a
// product that would overflow.
func numElements(shape []int) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d", d)
		}
		if d != 0 && n > math.MaxInt64/8/int64(d) {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= int64(d)
	}
	return n, nil
}

// checkTensor validates one tensor for Save.
func checkTensor(t Tensor) error {
	if t.Name == "" || t.Name == metadataKey || !utf8.ValidString(t.Name) {
		return formatErr("invalid tensor name %q", t.Name)
	}
	size := t.DType.Size()
	if size == 0 {
		return formatErr("tensor %q: unsupported dtype %q (want F32, F64 or I64)", t.Name, t.DType)
	}
	if len(t.Shape) > MaxRank {
		return formatErr("tensor %q: rank %d exceeds %d", t.Name, len(t.Shape), MaxRank)
	}
	n, err := numElements(t.Shape)
	if err != nil {
		return formatErr("tensor %q: %v", t.Name, err)
	}
	if int64(len(t.Data)) != n*int64(size) {
		return formatErr("tensor %q: %d bytes of data for %v %s (want %d)", t.Name, len(t.Data), t.Shape, t.DType, n*int64(size))
	}
	return nil
}

// Save writes tensors and metadata in the safetensors format
// (https://github.com/huggingface/safetensors, "Format"): an 8-byte little-endian header
// length N, N bytes of JSON header, then the tensors' bytes back to back. Tensors are
// written sorted by name, the header's JSON keys are sorted and the header is padded
// with spaces to a multiple of 8 bytes (so every tensor starts 8-byte aligned), so
// identical inputs give byte-identical files whatever the order of tensors. An empty
// meta writes no __metadata__ entry.
func Save(w io.Writer, tensors []Tensor, meta map[string]string) error {
	sorted := make([]Tensor, len(tensors))
	copy(sorted, tensors)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	header := make(map[string]any, len(sorted)+1)
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the error names the same key every time, not one in map order
		for _, k := range keys {
			v := meta[k]
			// JSON would silently replace invalid UTF-8; refuse it so Load gives back
			// exactly what was saved.
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return formatErr("metadata %q: %q is not valid UTF-8", k, v)
			}
		}
		header[metadataKey] = meta
	}
	var off int64
	for i, t := range sorted {
		if err := checkTensor(t); err != nil {
			return err
		}
		if i > 0 && sorted[i-1].Name == t.Name {
			return formatErr("tensor %q given twice", t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		n := int64(len(t.Data))
		header[t.Name] = headerEntry{DType: t.DType, Shape: shape, DataOffsets: [2]int64{off, off + n}}
		off += n
	}
	var hb bytes.Buffer
	enc := json.NewEncoder(&hb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(header); err != nil { // maps marshal with sorted keys
		return fmt.Errorf("safetensors: encoding header: %w", err)
	}
	hdr := bytes.TrimRight(hb.Bytes(), "\n")
	if pad := (8 - len(hdr)%8) % 8; pad > 0 {
		hdr = append(hdr, strings.Repeat(" ", pad)...)
	}
	if len(hdr) > MaxHeaderSize {
		return formatErr("header of %d bytes exceeds %d", len(hdr), MaxHeaderSize)
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors: writing header length: %w", err)
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("safetensors: writing header: %w", err)
	}
	for _, t := range sorted {
		if _, err := w.Write(t.Data); err != nil {
			return fmt.Errorf("safetensors: writing tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// Load reads a safetensors file written by Save, PyTorch's safetensors or any other
// conforming writer, and returns its tensors sorted by name and its metadata (never nil).
// It validates everything before returning: the header length (at least 2, at most
// MaxHeaderSize, and present in full), the header (one UTF-8 JSON object with no duplicate
// keys, a __metadata__ entry that is an object of strings, and for every tensor exactly
// the fields dtype, shape and data_offsets), each dtype (F32, F64 or I64; others are
// refused as unsupported), each shape (rank at most MaxRank, no negative dimension, the
// product times the element size equal to the tensor's byte length), and the offsets
// (ascending, non-overlapping and contiguous from 0 to the end of the file, with no
// trailing bytes). Every failure is an error wrapping ErrFormat (or the reader's error);
// Load never panics, and what it allocates is bounded by the bytes it actually reads
// (plus one buffer of at most 1 MiB), whatever sizes a header claims.
func Load(r io.Reader) ([]Tensor, map[string]string, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, nil, readErr("header length", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n < 2 || n > MaxHeaderSize {
		return nil, nil, formatErr("header length %d outside [2, %d]", n, MaxHeaderSize)
	}
	hdr, err := readExactly(r, int64(n))
	if err != nil {
		return nil, nil, readErr("header", err)
	}
	entries, meta, err := parseHeader(hdr)
	if err != nil {
		return nil, nil, err
	}
	// Offsets: sorted by start, they must tile [0, total) exactly.
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ea, eb := entries[order[a]].DataOffsets, entries[order[b]].DataOffsets
		if ea[0] != eb[0] {
			return ea[0] < eb[0]
		}
		return ea[1] < eb[1]
	})
	var total int64
	for _, i := range order {
		e := entries[i]
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		switch {
		case begin < total:
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", e.name, begin, end, total)
		case begin > total:
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] leave a gap after byte %d", e.name, begin, end, total)
		case end < begin:
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] end before they begin", e.name, begin, end)
		}
		if end-begin != e.bytes {
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] span %d bytes, but %v %s needs %d", e.name, begin, end, end-begin, e.Shape, e.DType, e.bytes)
		}
		total = end
	}
	data, err := readExactly(r, total)
	if err != nil {
		return nil, nil, readErr(fmt.Sprintf("%d bytes of tensor data", total), err)
	}
	var extra [1]byte
	if k, _ := io.ReadFull(r, extra[:]); k > 0 {
		return nil, nil, formatErr("trailing bytes after the %d bytes of tensor data", total)
	}
	tensors := make([]Tensor, len(entries))
	for i, e := range entries {
		tensors[i] = Tensor{Name: e.name, DType: e.DType, Shape: e.Shape,
			Data: data[e.DataOffsets[0]:e.DataOffsets[1]:e.DataOffsets[1]]}
	}
	sort.Slice(tensors, func(a, b int) bool { return tensors[a].Name < tensors[b].Name })
	return tensors, meta, nil
}

// loadedEntry is a validated header entry.
type loadedEntry struct {
	headerEntry
	name  string
	bytes int64
}

// parseHeader decodes and validates the JSON header.
func parseHeader(hdr []byte) ([]loadedEntry, map[string]string, error) {
	if hdr[0] != '{' {
		return nil, nil, formatErr("header does not start with '{'")
	}
	if !utf8.Valid(hdr) {
		return nil, nil, formatErr("header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, formatErr("header is not a JSON object")
	}
	seen := map[string]bool{}
	meta := map[string]string{}
	var entries []loadedEntry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, formatErr("header JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, formatErr("header JSON: expected a key, got %v", tok)
		}
		if seen[key] {
			return nil, nil, formatErr("header has key %q twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, formatErr("header entry %q: %v", key, err)
		}
		if key == metadataKey {
			if err := decodeStrict(raw, &meta); err != nil || meta == nil {
				return nil, nil, formatErr("__metadata__ must be an object of string values: %v", err)
			}
			continue
		}
		if len(entries) == MaxTensors {
			return nil, nil, formatErr("more than %d tensors", MaxTensors)
		}
		e, err := parseEntry(key, raw)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, nil, formatErr("header JSON object is not closed")
	}
	// Only whitespace may follow the object (writers pad with spaces).
	if len(bytes.TrimLeft(hdr[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, nil, formatErr("non-whitespace after the header's JSON object")
	}
	return entries, meta, nil
}

// decodeStrict unmarshals raw into v, refusing unknown fields and trailing data.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// parseEntry decodes and validates one tensor entry (everything but the offsets'
// relation to the other tensors).
func parseEntry(name string, raw json.RawMessage) (loadedEntry, error) {
	if name == "" {
		return loadedEntry{}, formatErr("tensor with an empty name")
	}
	// Decode into pointers first, so a missing field is told apart from a zero one.
	var f struct {
		DType       *DType   `json:"dtype"`
		Shape       *[]int   `json:"shape"`
		DataOffsets *[]int64 `json:"data_offsets"`
	}
	if err := decodeStrict(raw, &f); err != nil {
		return loadedEntry{}, formatErr("tensor %q: %v", name, err)
	}
	if f.DType == nil || f.Shape == nil || f.DataOffsets == nil {
		return loadedEntry{}, formatErr("tensor %q: needs dtype, shape and data_offsets", name)
	}
	e := loadedEntry{name: name}
	e.DType = *f.DType
	size := e.DType.Size()
	if size == 0 {
		return loadedEntry{}, formatErr("tensor %q: unsupported dtype %q (want F32, F64 or I64)", name, e.DType)
	}
	if len(*f.Shape) > MaxRank {
		return loadedEntry{}, formatErr("tensor %q: rank %d exceeds %d", name, len(*f.Shape), MaxRank)
	}
	e.Shape = *f.Shape
	if e.Shape == nil {
		e.Shape = []int{}
	}
	n, err := numElements(e.Shape)
	if err != nil {
		return loadedEntry{}, formatErr("tensor %q: %v", name, err)
	}
	e.bytes = n * int64(size)
	if len(*f.DataOffsets) != 2 {
		return loadedEntry{}, formatErr("tensor %q: data_offsets must be [begin, end], got %d numbers", name, len(*f.DataOffsets))
	}
	e.DataOffsets = [2]int64{(*f.DataOffsets)[0], (*f.DataOffsets)[1]}
	if e.DataOffsets[0] < 0 || e.DataOffsets[1] < 0 {
		return loadedEntry{}, formatErr("tensor %q: negative data_offsets %v", name, e.DataOffsets)
	}
	return e, nil
}

// readExactly reads n bytes, growing its buffer as data arrives, so a header that
// announces more data than the input holds costs no more memory than the input.
func readExactly(r io.Reader, n int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(n, 1<<20)))
	k, err := io.Copy(&buf, io.LimitReader(r, n))
	if err != nil {
		return nil, err
	}
	if k < n {
		return nil, io.ErrUnexpectedEOF
	}
	return buf.Bytes(), nil
}

func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErr("truncated file: reading %s: %v", what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("safetensors: reading %s: %w", what, err)
}

// LoadFinite is Load followed by CheckFinite: what a learner's Restore and Load read.
func LoadFinite(r io.Reader) ([]Tensor, map[string]string, error) {
	ts, meta, err := Load(r)
	if err == nil {
		err = CheckFinite(ts)
	}
	if err != nil {
		return nil, nil, err
	}
	return ts, meta, nil
}

// CheckFinite returns an error wrapping ErrFormat naming the first tensor of ts with a
// NaN or infinite element. The format itself holds any float; a learner's checkpoint
// (ppo, dsr) must not: a NaN weight would load and then fail, or act, at run time.
func CheckFinite(ts []Tensor) error {
	for _, t := range ts {
		if k, x, ok := firstNonFinite(t); !ok {
			return formatErr("tensor %q: element %d is %v; a policy checkpoint holds finite numbers only (the training that wrote it diverged, or the file was edited)", t.Name, k, x)
		}
	}
	return nil
}

// firstNonFinite returns the index and value of the first NaN or infinite element of a
// floating-point tensor, and ok false; ok is true when every element is finite (and for
// integer tensors).
func firstNonFinite(t Tensor) (int, float64, bool) {
	switch t.DType {
	case F32:
		for i := 0; i+4 <= len(t.Data); i += 4 {
			x := float64(math.Float32frombits(binary.LittleEndian.Uint32(t.Data[i:])))
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return i / 4, x, false
			}
		}
	case F64:
		for i := 0; i+8 <= len(t.Data); i += 8 {
			x := math.Float64frombits(binary.LittleEndian.Uint64(t.Data[i:]))
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return i / 8, x, false
			}
		}
	}
	return 0, 0, true
}
