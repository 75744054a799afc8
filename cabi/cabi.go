//go:build cgo

package main

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// hg_view: the rows of the current step, in buffers of cap rows allocated in C memory.
// The pointers stay valid until the next hg_reset or hg_step that changes gen (a step
// with more rows than cap reallocates) or hg_close.
typedef struct {
	int64_t n;          // rows of the current step
	int64_t cap;        // rows the buffers hold
	uint64_t gen;       // incremented whenever the buffers are reallocated
	int32_t done;       // 1: every environment's episode is over (these rows are the last)
	int32_t obs_dim;
	int32_t num_actions;
	float *obs;         // n x obs_dim
	uint8_t *mask;      // n x num_actions, 0 or 1
	double *reward;     // reward accrued since the agent's previous row
	uint8_t *terminated;
	uint8_t *truncated;
	int32_t *env;       // environment index
	int32_t *agent;     // agent id in its environment (hg_agent_name)
	int32_t *kind;      // decision kind: 0 none (terminated/truncated), 1 respond, 2 open, 3 treasury
	int32_t *incoming;  // incoming message type (respond): 1 request, 2 offer, 3 accept, 5 collateral_missing, 7 escrow_locked; else 0
	int64_t *price;     // incoming message's price, base units of its asset per hour (0 if none)
	int64_t *thread;    // thread id (-1 if none)
	int32_t state_dim;  // env.StateDim
	float *state;       // n x state_dim: the critic's state (hg_set_state on), else zeros
} hg_view;
*/
import "C"

import (
	"unsafe"

	"github.com/hivegym/hivegym/env"
)

// Status codes (also in python/hivegym/_lib.py).
const (
	statusOK          = 0
	statusBadConfig   = 1 // the config, seed or scenario is bad input (message names file:line: key)
	statusBadArgument = 2 // a wrong call: an action count or index, an env index, a closed handle
	statusDone        = 3 // the episode is over: call hg_reset
	statusError       = 4 // the run failed (a recovered panic included)
)

// cBuffers are the C-memory row buffers of a handle.
type cBuffers struct {
	view *C.hg_view
	obs  []float32
	mask []byte
	rew  []float64
	term []byte
	trnc []byte
	envi []int32
	agt  []int32
	kind []int32
	inc  []int32
	prc  []int64
	thr  []int64
	st   []float32
}

// recoverTo turns a panic into statusError, with the message on the handle.
func recoverTo(st *C.int32_t, h int64) {
	if p := recover(); p != nil {
		if hd := get(h); hd != nil {
			hd.err = panicMsg(p)
		}
		*st = statusError
	}
}

func cslice[T any](p unsafe.Pointer, n int) []T { return unsafe.Slice((*T)(p), n) }

func cmalloc(n, size int) unsafe.Pointer {
	p := C.calloc(C.size_t(max(n, 1)), C.size_t(size))
	if p == nil {
		panic("cabi: out of memory")
	}
	return p
}

func newBuffers(obsDim, nAct int) *cBuffers {
	b := &cBuffers{view: (*C.hg_view)(cmalloc(1, int(unsafe.Sizeof(C.hg_view{}))))}
	b.view.obs_dim, b.view.num_actions = C.int32_t(obsDim), C.int32_t(nAct)
	b.view.state_dim = C.int32_t(env.StateDim)
	return b
}

// ensure makes the buffers hold at least n rows.
func (b *cBuffers) ensure(n int) {
	v := b.view
	if int(v.cap) >= n && v.obs != nil {
		return
	}
	b.freeRows()
	c := max(n, 2*int(v.cap), 64)
	od, na := int(v.obs_dim), int(v.num_actions)
	v.obs = (*C.float)(cmalloc(c*od, 4))
	v.mask = (*C.uint8_t)(cmalloc(c*na, 1))
	v.reward = (*C.double)(cmalloc(c, 8))
	v.terminated = (*C.uint8_t)(cmalloc(c, 1))
	v.truncated = (*C.uint8_t)(cmalloc(c, 1))
	v.env = (*C.int32_t)(cmalloc(c, 4))
	v.agent = (*C.int32_t)(cmalloc(c, 4))
	v.kind = (*C.int32_t)(cmalloc(c, 4))
	v.incoming = (*C.int32_t)(cmalloc(c, 4))
	v.price = (*C.int64_t)(cmalloc(c, 8))
	v.thread = (*C.int64_t)(cmalloc(c, 8))
	v.state = (*C.float)(cmalloc(c*env.StateDim, 4))
	v.cap = C.int64_t(c)
	v.gen++
	b.obs = cslice[float32](unsafe.Pointer(v.obs), c*od)
	b.mask = cslice[byte](unsafe.Pointer(v.mask), c*na)
	b.rew = cslice[float64](unsafe.Pointer(v.reward), c)
	b.term = cslice[byte](unsafe.Pointer(v.terminated), c)
	b.trnc = cslice[byte](unsafe.Pointer(v.truncated), c)
	b.envi = cslice[int32](unsafe.Pointer(v.env), c)
	b.agt = cslice[int32](unsafe.Pointer(v.agent), c)
	b.kind = cslice[int32](unsafe.Pointer(v.kind), c)
	b.inc = cslice[int32](unsafe.Pointer(v.incoming), c)
	b.prc = cslice[int64](unsafe.Pointer(v.price), c)
	b.thr = cslice[int64](unsafe.Pointer(v.thread), c)
	b.st = cslice[float32](unsafe.Pointer(v.state), c*env.StateDim)
}

func (b *cBuffers) freeRows() {
	v := b.view
	for _, p := range []unsafe.Pointer{unsafe.Pointer(v.obs), unsafe.Pointer(v.mask), unsafe.Pointer(v.reward),
		unsafe.Pointer(v.terminated), unsafe.Pointer(v.truncated), unsafe.Pointer(v.env), unsafe.Pointer(v.agent),
		unsafe.Pointer(v.kind), unsafe.Pointer(v.incoming), unsafe.Pointer(v.price), unsafe.Pointer(v.thread),
		unsafe.Pointer(v.state)} {
		C.free(p)
	}
	v.obs, v.mask, v.reward, v.terminated, v.truncated = nil, nil, nil, nil, nil
	v.env, v.agent, v.kind, v.incoming, v.price, v.thread, v.state = nil, nil, nil, nil, nil, nil, nil
	v.cap = 0
}

func (b *cBuffers) free() {
	b.freeRows()
	C.free(unsafe.Pointer(b.view))
	b.view = nil
}

// fill writes the handle's rows into the buffers.
func (h *handle) fill() {
	d, b := h.d, h.buf
	rows := d.Rows()
	b.ensure(len(rows))
	od, na := env.ObsDim, d.NumActions()
	for j, row := range rows {
		bt := d.Batch(row.Env)
		copy(b.obs[j*od:(j+1)*od], bt.Observation(row.Entry))
		m := bt.Mask(row.Entry, na)
		mk := b.mask[j*na : (j+1)*na]
		for i, ok := range m {
			mk[i] = b2u(ok)
		}
		b.rew[j] = row.Reward
		b.term[j], b.trnc[j] = b2u(bt.Terminated[row.Entry]), b2u(bt.Truncated[row.Entry])
		b.envi[j], b.agt[j] = int32(row.Env), int32(row.Agent)
		dec := &bt.Decisions[row.Entry]
		b.kind[j], b.inc[j], b.prc[j], b.thr[j] = int32(dec.Kind), 0, 0, int64(dec.Thread)
		if dec.Kind == 1 {
			b.inc[j], b.prc[j] = int32(dec.Incoming.Type), dec.Incoming.Terms.PricePerHour
		}
		dst := b.st[j*env.StateDim : (j+1)*env.StateDim]
		if st := bt.StateOf(row.Entry); st != nil {
			copy(dst, st)
		} else {
			clear(dst)
		}
	}
	b.view.n = C.int64_t(len(rows))
	b.view.done = C.int32_t(b2i(d.Done()))
}

func b2u(x bool) byte {
	if x {
		return 1
	}
	return 0
}

func b2i(x bool) int {
	if x {
		return 1
	}
	return 0
}

func gostr(p *C.char, n C.int64_t) string {
	if p == nil || n <= 0 {
		return ""
	}
	return C.GoStringN(p, C.int(n))
}

// putErr copies msg into buf (NUL-terminated, truncated to n-1 bytes) and returns the
// message's full length.
func putErr(buf *C.char, n C.int64_t, msg string) C.int64_t {
	if buf != nil && n > 0 {
		dst := cslice[byte](unsafe.Pointer(buf), int(n))
		k := copy(dst[:n-1], msg)
		dst[k] = 0
	}
	return C.int64_t(len(msg))
}

// hg_create builds a driver from config YAML text (yaml_len bytes; empty: the
// defaults) named name in error messages, with seed overriding the config's seed when
// seed_set is 1, scenario ("" or a world.scenario name), num_envs environments on
// workers goroutines and control ("learning" or "all"). It returns a handle > 0, or
// minus a status with the message in err (err_len bytes).
//
//export hg_create
func hg_create(yaml *C.char, yamlLen C.int64_t, name *C.char, seed C.uint64_t, seedSet C.int32_t, scenario *C.char,
	numEnvs C.int32_t, workers C.int32_t, control *C.char, errBuf *C.char, errLen C.int64_t) (out C.int64_t) {
	defer func() {
		if p := recover(); p != nil {
			putErr(errBuf, errLen, panicMsg(p))
			out = -statusError
		}
	}()
	h, st, err := create(C.GoBytes(unsafe.Pointer(yaml), C.int(yamlLen)), C.GoString(name), uint64(seed), seedSet != 0,
		C.GoString(scenario), int(numEnvs), int(workers), C.GoString(control))
	if err != nil {
		putErr(errBuf, errLen, err.Error())
		return C.int64_t(-st)
	}
	return C.int64_t(h)
}

// hg_close frees a handle and its buffers; closing twice is HG_BAD_ARGUMENT.
//
//export hg_close
func hg_close(h C.int64_t) (st C.int32_t) {
	defer recoverTo(&st, int64(h))
	hd := take(int64(h))
	if hd == nil {
		return statusBadArgument
	}
	hd.buf.free()
	return statusOK
}

// hg_view_of returns the handle's row buffers (NULL for a bad handle). The view lives
// until hg_close.
//
//export hg_view_of
func hg_view_of(h C.int64_t) *C.hg_view {
	hd := get(int64(h))
	if hd == nil {
		return nil
	}
	return hd.buf.view
}

// hg_dims writes num_envs, obs_dim, num_actions and the config's seed into out[0..3].
//
//export hg_dims
func hg_dims(h C.int64_t, out *C.int64_t) (st C.int32_t) {
	defer recoverTo(&st, int64(h))
	hd := get(int64(h))
	if hd == nil {
		return statusBadArgument
	}
	o := cslice[int64](unsafe.Pointer(out), 4)
	o[0], o[1], o[2], o[3] = int64(hd.d.NumEnvs()), env.ObsDim, int64(hd.d.NumActions()), int64(hd.cfg.Seed)
	return statusOK
}

// hg_set_state turns the state vectors (env.SetState: a centralized critic's input,
// docs/env.md) on (on != 0) or off in every environment; they fill the view's state from
// the next hg_reset or hg_step on.
//
//export hg_set_state
func hg_set_state(h C.int64_t, on C.int32_t) (st C.int32_t) {
	defer recoverTo(&st, int64(h))
	hd := get(int64(h))
	if hd == nil {
		return statusBadArgument
	}
	for k := 0; k < hd.d.NumEnvs(); k++ {
		hd.d.Env(k).SetState(on != 0)
	}
	return statusOK
}

// hg_reset starts an episode in every environment (environment k under seed+k) and
// fills the view with the first rows.
//
//export hg_reset
func hg_reset(h C.int64_t, seed C.uint64_t) (st C.int32_t) {
	defer recoverTo(&st, int64(h))
	hd := get(int64(h))
	if hd == nil {
		return statusBadArgument
	}
	return C.int32_t(hd.reset(uint64(seed)))
}

// hg_step answers the view's n rows with actions[0..n) (action indices; a terminated
// or truncated row's is ignored) and fills the view with the next rows.
//
//export hg_step
func hg_step(h C.int64_t, actions *C.int32_t, n C.int64_t) (st C.int32_t) {
	defer recoverTo(&st, int64(h))
	hd := get(int64(h))
	if hd == nil {
		return statusBadArgument
	}
	var acts []int32
	if n > 0 {
		acts = cslice[int32](unsafe.Pointer(actions), int(n))
	}
	return C.int32_t(hd.step(acts))
}

// hg_error copies the handle's last error message into buf and returns its length.
//
//export hg_error
func hg_error(h C.int64_t, buf *C.char, n C.int64_t) C.int64_t {
	hd := get(int64(h))
	if hd == nil {
		return putErr(buf, n, "hivegym: bad or closed handle")
	}
	return putErr(buf, n, hd.err)
}

// hg_num_agents returns the number of agents of environment k's market (0 before the
// first reset, -1 for a bad handle or index).
//
//export hg_num_agents
func hg_num_agents(h C.int64_t, k C.int32_t) (n C.int64_t) {
	defer func() {
		if recover() != nil {
			n = -1
		}
	}()
	hd := get(int64(h))
	if hd == nil || k < 0 || int(k) >= hd.d.NumEnvs() {
		return -1
	}
	m := hd.d.Env(int(k)).Market()
	if m == nil {
		return 0
	}
	return C.int64_t(m.NumAgents())
}

// hg_agent writes agent a of environment k's name into name (as the trace spells it,
// NUL-terminated) and into info[0..2] its role (0 client, 1 provider, 2 system),
// whether the host controls it, and whether it is an IoT-class (on-chain only)
// provider; it returns the name's length, or -1 for a bad handle or index.
//
//export hg_agent
func hg_agent(h C.int64_t, k C.int32_t, a C.int32_t, name *C.char, n C.int64_t, info *C.int32_t) (out C.int64_t) {
	defer func() {
		if recover() != nil {
			out = -1
		}
	}()
	hd := get(int64(h))
	if hd == nil {
		return -1
	}
	nm, role, ctl, onchain, ok := hd.agent(int(k), int(a))
	if !ok {
		return -1
	}
	o := cslice[int32](unsafe.Pointer(info), 3)
	o[0], o[1], o[2] = int32(role), int32(b2i(ctl)), int32(b2i(onchain))
	return putErr(name, n, nm)
}

// hg_wealth writes the wealth in USD of environment k's agents into dst (n entries at
// most) and returns the number of agents, or -1 for a bad handle or index.
//
//export hg_wealth
func hg_wealth(h C.int64_t, k C.int32_t, dst *C.double, n C.int64_t) (out C.int64_t) {
	defer func() {
		if recover() != nil {
			out = -1
		}
	}()
	hd := get(int64(h))
	if hd == nil || k < 0 || int(k) >= hd.d.NumEnvs() || hd.d.Env(int(k)).Market() == nil {
		return -1
	}
	m := hd.d.Env(int(k)).Market()
	w := cslice[float64](unsafe.Pointer(dst), int(max(n, 0)))
	for a := 0; a < min(len(w), m.NumAgents()); a++ {
		w[a] = wealthOf(m, a)
	}
	return C.int64_t(m.NumAgents())
}

// hg_rule_episode runs the reference episode of the determinism test natively
// (experiments.RuleEpisode with experiments.LegalByAgent) for the config of handle h
// under seed, and writes per environment k and agent a the reward sum into
// sums[k*stride+a] and the final wealth into wealth[k*stride+a] (controlled agents
// only; zero otherwise).
//
//export hg_rule_episode
func hg_rule_episode(h C.int64_t, seed C.uint64_t, sums *C.double, wealth *C.double, stride C.int64_t) (st C.int32_t) {
	defer recoverTo(&st, int64(h))
	hd := get(int64(h))
	if hd == nil {
		return statusBadArgument
	}
	k := hd.d.NumEnvs()
	s := cslice[float64](unsafe.Pointer(sums), k*int(stride))
	w := cslice[float64](unsafe.Pointer(wealth), k*int(stride))
	return C.int32_t(hd.ruleEpisode(uint64(seed), s, w, int(stride)))
}
