package env

import (
	"fmt"
	"sync"
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

// run calls f(i) for every env, env i on worker i mod workers.
func (v *Vec) run(f func(i int)) error {
	var wg sync.WaitGroup
	for w := 0; w < v.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(v.Envs); i += v.workers {
				f(i)
			}
		}(w)
	}
	wg.Wait()
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
	err := v.run(func(i int) {
		if v.Envs[i].done {
			v.batches[i], v.errs[i] = nil, nil
			return
		}
		v.batches[i], v.errs[i] = v.Envs[i].Step(acts[i])
	})
	return v.batches, err
}
