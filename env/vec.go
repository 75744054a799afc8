package env

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// Vec is a vectorized environment: K independent environments stepped on worker
// goroutines. Each environment is owned by one goroutine during a call and results are
// gathered in index order, so the results are identical to stepping the environments
// one after another, whatever the number of workers (DESIGN.md "Performance design").
type Vec struct {
	Envs    []*Env
	workers int
	batches []*Batch
	errs    []error
	pool    *vecPool // workers 1.. (nil until the first run with workers > 1)
	acts    [][]Action
	stepFn  func(i int) // steps env i with acts[i]; made once so a Step allocates nothing
}

// NewVec builds k environments with the same settings, stepped by workers goroutines
// (at least 1; more than k is the same as k).
func NewVec(s Settings, k, workers int) (*Vec, error) {
	if k < 1 {
		return nil, fmt.Errorf("env: a vectorized env needs at least one env, got %d", k)
	}
	v := &Vec{workers: max(1, min(workers, k)), batches: make([]*Batch, k), errs: make([]error, k)}
	for range k {
		e, err := New(s)
		if err != nil {
			return nil, err
		}
		v.Envs = append(v.Envs, e)
	}
	return v, nil
}

// run calls f(i) for every env, env i on worker i mod workers. Worker 0 is the calling
// goroutine; the others are long-lived helper goroutines (vecWorker) that spin briefly
// between calls before they park, because a rollout calls run thousands of times a
// second and waking a parked goroutine costs about what a step of an env does.
func (v *Vec) run(f func(i int)) error {
	if v.workers > 1 && v.pool == nil {
		v.pool = newVecPool(v.workers)
		runtime.AddCleanup(v, func(p *vecPool) { p.stop() }, v.pool)
	}
	if v.pool != nil {
		for _, w := range v.pool.ws {
			w.post(f, len(v.Envs))
		}
	}
	for i := 0; i < len(v.Envs); i += v.workers {
		f(i)
	}
	if v.pool != nil {
		for _, w := range v.pool.ws {
			w.wait()
		}
	}
	for i, err := range v.errs {
		if err != nil {
			return fmt.Errorf("env %d: %w", i, err)
		}
	}
	return nil
}

// Reset resets env i with seeds[i] and returns the first batches, in env order.
func (v *Vec) Reset(seeds []uint64) ([]*Batch, error) {
	if len(seeds) != len(v.Envs) {
		return nil, fmt.Errorf("env: %d seeds for %d envs", len(seeds), len(v.Envs))
	}
	err := v.run(func(i int) { v.batches[i], v.errs[i] = v.Envs[i].Reset(seeds[i]) })
	return v.batches, err
}

// Step steps env i with acts[i] (an env whose episode is over is left alone and its
// entry is nil) and returns the batches, in env order.
func (v *Vec) Step(acts [][]Action) ([]*Batch, error) {
	if len(acts) != len(v.Envs) {
		return nil, fmt.Errorf("env: %d action lists for %d envs", len(acts), len(v.Envs))
	}
	if v.stepFn == nil {
		v.stepFn = func(i int) {
			if v.Envs[i].done {
				v.batches[i], v.errs[i] = nil, nil
				return
			}
			v.batches[i], v.errs[i] = v.Envs[i].Step(v.acts[i])
		}
	}
	v.acts = acts
	err := v.run(v.stepFn)
	v.acts = nil
	return v.batches, err
}

// vecSpin is how long a vecWorker polls for its next call before it parks.
const vecSpin = time.Millisecond

// vecPool holds the helper workers of a Vec. It holds no reference to the Vec between
// calls, so a cleanup can stop it once the Vec is unreachable.
type vecPool struct{ ws []*vecWorker }

func newVecPool(workers int) *vecPool {
	p := &vecPool{}
	for w := 1; w < workers; w++ {
		vw := &vecWorker{first: w, step: workers, wake: make(chan struct{}, 1)}
		go vw.loop()
		p.ws = append(p.ws, vw)
	}
	return p
}

func (p *vecPool) stop() {
	for _, w := range p.ws {
		w.quit.Store(true)
		w.signal()
	}
}

// vecWorker is a helper goroutine that calls f(i) for i = first, first+step, ... < n
// once per posted call. Calls are handed over through the seq and done counters (their
// atomic operations order the writes of one goroutine before the reads of the other); a
// worker that found no call for vecSpin parks on wake, and sleeping tells a poster to
// send it a token.
type vecWorker struct {
	first, step, n int
	f              func(i int)
	seq, done      atomic.Uint64
	sleeping, quit atomic.Bool
	wake           chan struct{}
}

// post hands f, over n envs, to the worker.
func (w *vecWorker) post(f func(i int), n int) {
	w.f, w.n = f, n
	w.seq.Add(1)
	w.signal()
}

// signal wakes the worker if it is parked (or about to park).
func (w *vecWorker) signal() {
	if w.sleeping.Swap(false) {
		w.wake <- struct{}{}
	}
}

// wait returns once the worker finished the posted call.
func (w *vecWorker) wait() {
	for w.done.Load() != w.seq.Load() {
		runtime.Gosched()
	}
	w.f = nil
}

func (w *vecWorker) loop() {
	var seen uint64
	for w.await(seen) {
		seen++
		for i := w.first; i < w.n; i += w.step {
			w.f(i)
		}
		w.done.Store(seen)
	}
}

// await waits until a call after the seen-th is posted (true) or the pool stops (false).
func (w *vecWorker) await(seen uint64) bool {
	start := time.Now()
	for spin := 1; ; spin++ {
		if w.seq.Load() != seen {
			return true
		}
		if w.quit.Load() {
			return false
		}
		if spin%64 != 0 || time.Since(start) < vecSpin {
			runtime.Gosched()
			continue
		}
		w.sleeping.Store(true)
		if w.seq.Load() != seen || w.quit.Load() {
			if !w.sleeping.Swap(false) {
				<-w.wake // a poster saw us sleeping and sent a token: take it
			}
			continue
		}
		<-w.wake
		start = time.Now()
	}
}
