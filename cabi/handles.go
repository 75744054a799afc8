//go:build cgo

package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/env"
	"github.com/hivegym/hivegym/experiments"
	"github.com/hivegym/hivegym/market"
	"github.com/hivegym/hivegym/scheme"
)

// handle is one driver with its C buffers and last error. A handle is not safe for
// concurrent use; different handles are independent.
type handle struct {
	d    *experiments.Driver
	cfg  experiments.Config
	opts experiments.DriverOptions
	buf  *cBuffers
	acts []env.Action
	err  string
}

var (
	mu      sync.Mutex
	handles = map[int64]*handle{}
	next    int64
)

func get(h int64) *handle {
	mu.Lock()
	defer mu.Unlock()
	return handles[h]
}

func take(h int64) *handle {
	mu.Lock()
	defer mu.Unlock()
	hd := handles[h]
	delete(handles, h)
	return hd
}

func panicMsg(p any) string { return fmt.Sprintf("hivegym: internal error: %v", p) }

// loadConfig decodes a config as the CLI does (experiments.Load: strict keys, errors
// naming file:line: key), then applies the seed and scenario and validates again.
func loadConfig(src []byte, name string, seed uint64, seedSet bool, scenario string) (experiments.Config, error) {
	if name == "" {
		name = "<config>"
	}
	cfg, err := experiments.Load(name, src)
	if err != nil {
		return cfg, err
	}
	if seedSet {
		cfg.Seed = seed
	}
	if scenario != "" {
		if !slices.Contains(data.Scenarios(), scenario) {
			return cfg, fmt.Errorf("unknown scenario %q (valid: %s)", scenario, strings.Join(data.Scenarios(), ", "))
		}
		cfg.World.Scenario.Name = scenario
		if err := cfg.Validate(); err != nil {
			return cfg, experiments.Locate(name, src, err)
		}
	}
	return cfg, nil
}

func create(src []byte, name string, seed uint64, seedSet bool, scenario string, numEnvs, workers int, control string) (int64, int, error) {
	cfg, err := loadConfig(src, name, seed, seedSet, scenario)
	if err != nil {
		return 0, statusBadConfig, err
	}
	opts := experiments.DriverOptions{NumEnvs: numEnvs, Workers: workers, Control: control}
	d, err := experiments.NewDriver(cfg, opts)
	if err != nil {
		var ce *experiments.Error
		if errors.As(err, &ce) {
			return 0, statusBadConfig, err
		}
		return 0, statusBadArgument, err
	}
	hd := &handle{d: d, cfg: cfg, opts: opts, buf: newBuffers(env.ObsDim, d.NumActions())}
	mu.Lock()
	defer mu.Unlock()
	next++
	handles[next] = hd
	return next, 0, nil
}

func (h *handle) fail(st int, err error) int {
	h.err = err.Error()
	return st
}

func (h *handle) reset(seed uint64) int {
	if err := h.d.Reset(seed); err != nil {
		h.buf.view.n = 0
		return h.fail(statusError, err)
	}
	h.fill()
	return statusOK
}

func (h *handle) step(acts []int32) int {
	d := h.d
	if d.Done() {
		return h.fail(statusDone, experiments.ErrDriverDone)
	}
	rows := d.Rows()
	if len(acts) != len(rows) {
		return h.fail(statusBadArgument, fmt.Errorf("expected %d actions (one per row), got %d", len(rows), len(acts)))
	}
	na := int32(d.NumActions())
	h.acts = h.acts[:0]
	for j, row := range rows {
		a := acts[j]
		if d.Batch(row.Env).Decisions[row.Entry].Kind != 0 && (a < 0 || a >= na) {
			return h.fail(statusBadArgument, fmt.Errorf("action %d of row %d (env %d, %s) is outside the action space [0, %d)",
				a, j, row.Env, d.Env(row.Env).Market().Name(row.Agent), na))
		}
		h.acts = append(h.acts, env.Action{Index: a})
	}
	if err := d.Step(h.acts); err != nil {
		h.buf.view.n = 0
		return h.fail(statusError, err)
	}
	h.fill()
	return statusOK
}

func (h *handle) agent(k, a int) (name string, role int, ctl, onchain, ok bool) {
	if k < 0 || k >= h.d.NumEnvs() {
		return "", 0, false, false, false
	}
	m := h.d.Env(k).Market()
	if m == nil || a < 0 || a >= m.NumAgents() {
		return "", 0, false, false, false
	}
	id := market.AgentID(a)
	r := m.Role(id)
	if r == scheme.RoleProvider {
		mc, _ := m.Machine(id)
		onchain = mc.Onchain
	}
	return m.Name(id), int(r), h.d.Controls(k, id), onchain, true
}

func wealthOf(m *market.Market, a int) float64 { return m.WealthUSD(market.AgentID(a)) }

func (h *handle) ruleEpisode(seed uint64, sums, wealth []float64, stride int) int {
	s, w, err := experiments.RuleEpisode(h.cfg, h.opts, seed, experiments.LegalByAgent)
	if err != nil {
		return h.fail(statusError, err)
	}
	for k := range s {
		if len(s[k]) > stride {
			return h.fail(statusBadArgument, fmt.Errorf("env %d has %d agents, more than the stride %d", k, len(s[k]), stride))
		}
		copy(sums[k*stride:], s[k])
		copy(wealth[k*stride:], w[k])
	}
	return statusOK
}
