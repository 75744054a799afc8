package ppo

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/agents/nn"
	"github.com/hivegym/hivegym/internal/rng"
)

func chainLearner(t testing.TB, seed uint64) *Learner {
	t.Helper()
	cfg := toyConfig()
	cfg.Gamma = chainGamma
	cfg.AnnealLR, cfg.TotalUpdates = true, 40
	cfg.TargetKL = 0.05
	l, err := New("chain", cfg, chainObsDim, 3, seed)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func saved(t testing.TB, l *Learner, extra map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := l.Save(&buf, extra); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// trainPhases runs the chain in phases of ticks each, starting every phase from fresh
// episodes, with the buffer and the acting stream carried over, and calls between(i)
// before phase i > 0, which may replace the learner.
func trainPhases(t *testing.T, l *Learner, phases int, ticks int64, between func(int, *Learner) *Learner) *Learner {
	t.Helper()
	buf := l.NewBuffer()
	act := rng.New(11, "act")
	for p := 0; p < phases; p++ {
		if p > 0 && between != nil {
			l = between(p, l)
		}
		chainRun(t, l, buf, act, 8, ticks, 128, false)
		buf.Reset() // the next phase starts fresh episodes
	}
	return l
}

// Same seed, same inputs: bit-identical parameters and checkpoint bytes after a dozen
// updates; another seed differs.
func TestSameSeedSameParameters(t *testing.T) {
	run := func(seed uint64) *Learner {
		return trainPhases(t, chainLearner(t, seed), 1, 1500, nil)
	}
	a, b, c := run(1), run(1), run(2)
	if a.Updates() < 10 {
		t.Fatalf("only %d updates", a.Updates())
	}
	if !bytes.Equal(saved(t, a, nil), saved(t, b, nil)) {
		t.Error("two runs with seed 1 gave different checkpoints")
	}
	aa, ac := a.Params()
	ba, bc := b.Params()
	if !sameParams(aa, ba) || !sameParams(ac, bc) {
		t.Error("two runs with seed 1 gave different parameters")
	}
	ca, _ := c.Params()
	if sameParams(aa, ca) {
		t.Error("seeds 1 and 2 gave the same actor")
	}
}

// Independent learners: two groups built from one seed start from different weights
// (their streams are named by the group), and updating one leaves the other alone.
func TestGroupsAreIndependent(t *testing.T) {
	env := newBandit(5)
	p, _ := New("providers", toyConfig(), env.nCtx, env.nAct, 1)
	c, _ := New("clients", toyConfig(), env.nCtx, env.nAct, 1)
	pa, _ := p.Params()
	ca, _ := c.Params()
	if sameParams(pa, ca) {
		t.Fatal("two groups from one seed start identical")
	}
	runBandit(t, p, env, p.NewBuffer(), nil2rand(), 16, 2, 3)
	if after, _ := c.Params(); !sameParams(ca, after) {
		t.Error("training one group changed the other")
	}
	if after, _ := p.Params(); sameParams(pa, after) {
		t.Error("training did not change the trained group")
	}
}

// Resuming from a checkpoint continues to bit-identical parameters, optimizer state and
// counters: 3 phases uninterrupted against 3 phases with a save and a reload (by Load
// and by New+Restore) between them. The learning-rate anneal and the target-KL stop are
// on, so the counters and the shuffle streams must come back exactly.
func TestResumeIsBitIdentical(t *testing.T) {
	const phases, ticks = 3, 700
	straight := trainPhases(t, chainLearner(t, 4), phases, ticks, nil)
	viaLoad := trainPhases(t, chainLearner(t, 4), phases, ticks, func(_ int, l *Learner) *Learner {
		l2, err := Load(bytes.NewReader(saved(t, l, nil)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return l2
	})
	viaRestore := trainPhases(t, chainLearner(t, 4), phases, ticks, func(_ int, l *Learner) *Learner {
		l2 := chainLearner(t, 99) // another seed: the checkpoint's must win
		if err := l2.Restore(bytes.NewReader(saved(t, l, nil)), nil); err != nil {
			t.Fatal(err)
		}
		return l2
	})
	want := saved(t, straight, nil)
	if straight.Updates() < 10 {
		t.Fatalf("only %d updates", straight.Updates())
	}
	if !bytes.Equal(saved(t, viaLoad, nil), want) {
		t.Error("Load and continue: checkpoint differs from the uninterrupted run's")
	}
	if !bytes.Equal(saved(t, viaRestore, nil), want) {
		t.Error("Restore and continue: checkpoint differs from the uninterrupted run's")
	}
}

// Save, load: identical parameters and identical actions on the same observations, both
// greedy and sampled with the same stream.
func TestCheckpointRoundTrip(t *testing.T) {
	l := trainPhases(t, chainLearner(t, 5), 1, 600, nil)
	l2, err := Load(bytes.NewReader(saved(t, l, map[string]string{checkpoint.MetaObsSpace: "chain(5)"})),
		map[string]string{checkpoint.MetaObsSpace: "chain(5)", checkpoint.MetaPolicy: "chain"})
	if err != nil {
		t.Fatal(err)
	}
	if l2.Name() != "chain" || l2.Updates() != l.Updates() || l2.Samples() != l.Samples() || l2.Config().Hash() != l.Config().Hash() {
		t.Errorf("loaded %q, %d updates, %d samples; want %q, %d, %d", l2.Name(), l2.Updates(), l2.Samples(), "chain", l.Updates(), l.Samples())
	}
	const n = 50
	obs, masks := chainBatch(1, n)
	actsOf := func(l *Learner) ([]int, []int, []float32, []float32) {
		g, a := make([]int, n), make([]int, n)
		lp, v := make([]float32, n), make([]float32, n)
		must(t, l.Greedy(obs, masks, n, g))
		must(t, l.Act(obs, masks, n, rng.New(7, "same"), a, lp, v))
		return g, a, lp, v
	}
	g1, a1, lp1, v1 := actsOf(l)
	g2, a2, lp2, v2 := actsOf(l2)
	for i := 0; i < n; i++ {
		if g1[i] != g2[i] || a1[i] != a2[i] || lp1[i] != lp2[i] || v1[i] != v2[i] {
			t.Fatalf("row %d: (%d %d %g %g) before, (%d %d %g %g) after the round trip", i, g1[i], a1[i], lp1[i], v1[i], g2[i], a2[i], lp2[i], v2[i])
		}
	}
}

// A checkpoint for other spaces, another architecture, another algorithm or other
// required metadata is refused with an error naming the difference; the learner is
// left as it was.
func TestCheckpointMismatchRefused(t *testing.T) {
	cfg := DefaultConfig()
	src, _ := New("g", cfg, 5, 3, 1)
	file := saved(t, src, map[string]string{checkpoint.MetaObsSpace: "market-v1(5)"})

	other := func(obs, act int, hidden []int) *Learner {
		c := DefaultConfig()
		c.Hidden = hidden
		l, err := New("g", c, obs, act, 2)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	cases := []struct {
		name string
		l    *Learner
		want map[string]string
		msg  string
	}{
		{"observation size", other(6, 3, []int{64, 64}), nil, `hivegym.ppo.obs_size is "5", want "6"`},
		{"action count", other(5, 4, []int{64, 64}), nil, `hivegym.ppo.action_size is "3", want "4"`},
		{"architecture", other(5, 3, []int{32}), nil, `hivegym.spec is`},
		{"observation space", other(5, 3, []int{64, 64}), map[string]string{checkpoint.MetaObsSpace: "market-v2(5)"},
			`hivegym.observation_space is "market-v1(5)", want "market-v2(5)"`},
	}
	for _, c := range cases {
		before, _ := c.l.Params()
		err := c.l.Restore(bytes.NewReader(file), c.want)
		if !errors.Is(err, checkpoint.ErrMismatch) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want a mismatch saying %s", c.name, err, c.msg)
		}
		if after, _ := c.l.Params(); !sameParams(before, after) {
			t.Errorf("%s: a refused Restore changed the learner", c.name)
		}
	}
	if _, err := Load(bytes.NewReader(file), map[string]string{checkpoint.MetaConfigHash: "abc"}); !errors.Is(err, checkpoint.ErrMismatch) {
		t.Errorf("Load with another config hash required: %v", err)
	}

	// Another algorithm's checkpoint.
	var buf bytes.Buffer
	must(t, checkpoint.Save(&buf, []checkpoint.Tensor{checkpoint.F64Tensor("dsr.theta", []int{2}, []float64{1, 2})},
		map[string]string{checkpoint.MetaAlgorithm: "dsr"}))
	if _, err := Load(bytes.NewReader(buf.Bytes()), nil); !errors.Is(err, checkpoint.ErrMismatch) || !strings.Contains(err.Error(), `"dsr"`) {
		t.Errorf("Load of a dsr checkpoint: %v", err)
	}
	if err := src.Restore(bytes.NewReader(buf.Bytes()), nil); !errors.Is(err, checkpoint.ErrMismatch) {
		t.Errorf("Restore of a dsr checkpoint: %v", err)
	}
}

// The file is plain safetensors: a small independent reader (8-byte little-endian
// header length, JSON header) finds the networks under PyTorch-style names with
// [out, in] weights, the optimizer state, and the metadata.
func TestCheckpointIndependentReader(t *testing.T) {
	l, _ := New("providers", DefaultConfig(), 64, 16, 1)
	file := saved(t, l, nil)
	n := binary.LittleEndian.Uint64(file[:8])
	var header map[string]json.RawMessage
	if err := json.Unmarshal(file[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int{
		"actor.0.weight": {64, 64}, "actor.0.bias": {64}, "actor.4.weight": {16, 64}, "actor.4.bias": {16},
		"critic.0.weight": {64, 64}, "critic.4.weight": {1, 64}, "optim.m.actor.0.weight": {64, 64},
		"optim.v.critic.4.bias": {1}, "optim.step": {}, "ppo.updates": {}, "ppo.samples": {},
	}
	for name, want := range shapes {
		var e struct {
			DType string `json:"dtype"`
			Shape []int  `json:"shape"`
		}
		if err := json.Unmarshal(header[name], &e); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(e.Shape) != len(want) {
			t.Errorf("%s: shape %v, want %v", name, e.Shape, want)
			continue
		}
		for i := range want {
			if e.Shape[i] != want[i] {
				t.Errorf("%s: shape %v, want %v", name, e.Shape, want)
			}
		}
	}
	var meta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"format": "hivegym", "hivegym.algorithm": "ppo", "hivegym.policy": "providers",
		"hivegym.observation_space": "box(64)", "hivegym.action_space": "discrete(16)",
		"hivegym.step": "0", "hivegym.config_hash": DefaultConfig().Hash(), "hivegym.backend": "go",
	} {
		if meta[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, meta[k], v)
		}
	}
}

// Load never panics and refuses what it cannot use; what it accepts can act.
func FuzzLoad(f *testing.F) {
	l, _ := New("fuzz", func() Config { c := DefaultConfig(); c.Hidden = []int{4}; return c }(), 3, 2, 1)
	var good bytes.Buffer
	if err := l.Save(&good, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:100])
	f.Add([]byte{})
	f.Add(forged(f, good.Bytes(), MetaConfig, `"hidden":[4]`, `"hidden":[60000,60000]`))
	f.Add(forged(f, good.Bytes(), MetaObsSize, "3", "4"))
	f.Add(forged(f, good.Bytes(), MetaSeed, "1", "x"))
	f.Fuzz(func(t *testing.T, file []byte) {
		l, err := Load(bytes.NewReader(file), nil)
		if err != nil {
			return
		}
		obs := make([]float32, l.ObsDim())
		a := make([]int, 1)
		if err := l.Act(obs, nil, 1, rand.New(rand.NewPCG(1, 2)), a, nil, nil); err != nil && !strings.Contains(err.Error(), "non-finite") {
			t.Fatalf("a loaded learner cannot act: %v", err)
		}
	})
}

// forged rewrites one metadata value of a checkpoint (replacing old by new in it) and
// saves it again as a well-formed file.
func forged(t testing.TB, file []byte, key, old, new string) []byte {
	t.Helper()
	ts, meta, err := checkpoint.Load(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(meta[key], old) {
		t.Fatalf("metadata %s = %q has no %q", key, meta[key], old)
	}
	meta[key] = strings.Replace(meta[key], old, new, 1)
	var buf bytes.Buffer
	if err := checkpoint.Save(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A well-formed file whose metadata claims other networks than its tensors hold is
// refused before anything is built: a forged config cannot make Load allocate two
// 60000-wide layers.
func TestLoadForgedMetadata(t *testing.T) {
	c := DefaultConfig()
	c.Hidden = []int{4}
	l, _ := New("forged", c, 3, 2, 1)
	file := saved(t, l, nil)
	for _, f := range []struct{ key, old, new string }{
		{MetaConfig, `"hidden":[4]`, `"hidden":[60000,60000]`},
		{MetaObsSize, "3", "4"},
		{MetaActionSize, "2", "3"},
		{MetaConfig, `"gamma":0.99`, `"gamma":7`},
		{MetaSeed, "1", "-1"},
	} {
		if _, err := Load(bytes.NewReader(forged(t, file, f.key, f.old, f.new)), nil); err == nil {
			t.Errorf("%s %s -> %s: loaded", f.key, f.old, f.new)
		}
	}
}

// TestLoadRefusesNonFiniteWeights: a NaN weight used to load and fail at run time.
func TestLoadRefusesNonFiniteWeights(t *testing.T) {
	l, _ := New("providers", toyConfig(), 3, 2, 1)
	file := saved(t, l, nil)
	ts, meta, err := checkpoint.Load(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		edited := make([]checkpoint.Tensor, len(ts))
		copy(edited, ts)
		victim := -1
		for i, x := range edited {
			if x.DType == checkpoint.F32 && len(x.Data) >= 8 {
				victim = i
				break
			}
		}
		if victim < 0 {
			t.Fatal("no F32 tensor to edit")
		}
		d := bytes.Clone(edited[victim].Data)
		binary.LittleEndian.PutUint32(d[4:], math.Float32bits(bad))
		edited[victim].Data = d
		var buf bytes.Buffer
		if err := checkpoint.Save(&buf, edited, meta); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("tensor %q: element 1 is %v", edited[victim].Name, float64(bad))
		if _, err := Load(bytes.NewReader(buf.Bytes()), nil); err == nil || !errors.Is(err, checkpoint.ErrFormat) || !strings.Contains(err.Error(), want) {
			t.Errorf("Load with %v = %v; want an ErrFormat error containing %q", bad, err, want)
		}
		l2, _ := New("providers", toyConfig(), 3, 2, 1)
		if err := l2.Restore(bytes.NewReader(buf.Bytes()), nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Restore with %v = %v; want an error containing %q", bad, err, want)
		}
	}
}

// InitFrom takes a trained learner's networks and nothing else: greedy actions and
// values equal the source's on the same observations, while the update and sample
// counters (and so the learning-rate schedule) start at zero; a mismatched file is
// refused and leaves the learner as it was.
func TestInitFromWarmStart(t *testing.T) {
	src := trainPhases(t, chainLearner(t, 5), 1, 600, nil)
	if src.Updates() == 0 {
		t.Fatal("the source learner made no update")
	}
	dst := chainLearner(t, 77)
	fresh, _ := dst.Params()
	if trained, _ := src.Params(); sameParams(fresh, trained) {
		t.Fatal("a fresh learner already has the trained weights")
	}
	must(t, dst.InitFrom(bytes.NewReader(saved(t, src, nil)), nil))
	if dst.Updates() != 0 || dst.Samples() != 0 {
		t.Errorf("after InitFrom: %d updates, %d samples; want 0, 0", dst.Updates(), dst.Samples())
	}
	if lr, _ := dst.Schedule(); lr != dst.Config().LearningRate {
		t.Errorf("after InitFrom the learning rate is %g, want the schedule's start %g", lr, dst.Config().LearningRate)
	}
	const n = 40
	obs, masks := chainBatch(2, n)
	g1, g2 := make([]int, n), make([]int, n)
	v1, v2 := make([]float32, n), make([]float32, n)
	must(t, src.Greedy(obs, masks, n, g1))
	must(t, dst.Greedy(obs, masks, n, g2))
	must(t, src.Value(obs, n, v1))
	must(t, dst.Value(obs, n, v2))
	for i := range g1 {
		if g1[i] != g2[i] || v1[i] != v2[i] {
			t.Fatalf("row %d: source (%d, %g), warm-started (%d, %g)", i, g1[i], v1[i], g2[i], v2[i])
		}
	}

	// Training on from the warm start moves the weights.
	before, _ := dst.Params()
	snap := cloneParams(before)
	trainPhases(t, dst, 1, 300, nil)
	if after, _ := dst.Params(); sameParams(snap, after) {
		t.Error("training after InitFrom left the weights unchanged")
	}

	other, _ := New("g", DefaultConfig(), chainObsDim+1, 3, 1)
	otherBefore, _ := other.Params()
	otherSnap := cloneParams(otherBefore)
	if err := other.InitFrom(bytes.NewReader(saved(t, src, nil)), nil); !errors.Is(err, checkpoint.ErrMismatch) {
		t.Errorf("InitFrom a checkpoint of another observation size: %v, want a mismatch", err)
	}
	if after, _ := other.Params(); !sameParams(otherSnap, after) {
		t.Error("a refused InitFrom changed the learner")
	}
}

// cloneParams deep-copies ps (Params aliases the live weights).
func cloneParams(ps []nn.Param) []nn.Param {
	out := make([]nn.Param, len(ps))
	for i, p := range ps {
		out[i] = nn.Param{Name: p.Name, Shape: p.Shape, Data: append([]float32(nil), p.Data...)}
	}
	return out
}

// chainBatch returns n random chain observations and their masks, from a stream of seed.
func chainBatch(seed uint64, n int) ([]float32, []bool) {
	obs, masks := make([]float32, n*chainObsDim), make([]bool, n*3)
	r := rng.New(seed, "obs")
	for i := 0; i < n; i++ {
		pos := r.IntN(chainLen)
		chainObs(obs[i*chainObsDim:(i+1)*chainObsDim], pos, int64(r.IntN(maxTicks)))
		chainMask(masks[i*3:(i+1)*3], pos)
	}
	return obs, masks
}
