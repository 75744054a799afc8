package ppo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"

	"github.com/hivegym/hivegym/agents/checkpoint"
	"github.com/hivegym/hivegym/agents/nn"
)

// Metadata keys of a PPO checkpoint beyond the shared checkpoint.Meta* keys.
const (
	// MetaConfig is the JSON of the learner's Config.
	MetaConfig = "hivegym.ppo.config"
	// MetaSeed is the learner's seed, decimal.
	MetaSeed = "hivegym.ppo.seed"
	// MetaObsSize is the observation size, decimal.
	MetaObsSize = "hivegym.ppo.obs_size"
	// MetaActionSize is the number of actions, decimal.
	MetaActionSize = "hivegym.ppo.action_size"
	// MetaStateSize is the centralized critic's state size, decimal; absent without one
	// (the checkpoints of learners built by New carry no such key).
	MetaStateSize = "hivegym.ppo.state_size"
)

// Algorithm is the value of checkpoint.MetaAlgorithm in a PPO checkpoint.
const Algorithm = "ppo"

// Tensor names of the learner's counters (the networks are under their nn names,
// actor.* and critic.*, the optimizer under optim.*).
const (
	tensorUpdates = "ppo.updates"
	tensorSamples = "ppo.samples"
)

// Meta returns the metadata Save writes: the format and version, the algorithm, the
// group name, the backend, the observation and action spaces ("box(N)", "discrete(K)"),
// the step count (decisions trained on), the hash of the Config, the networks' specs,
// and the Config, seed and sizes under the MetaConfig, MetaSeed, MetaObsSize and
// MetaActionSize keys (and MetaStateSize, with a centralized critic).
func (l *Learner) Meta() map[string]string {
	aSpec, cSpec := l.specs()
	specs, err := json.Marshal(map[string]nn.MLPSpec{"actor": aSpec, "critic": cSpec})
	if err != nil {
		panic("ppo: specs do not encode as JSON: " + err.Error())
	}
	cfg, err := json.Marshal(l.cfg)
	if err != nil {
		panic("ppo: config does not encode as JSON: " + err.Error())
	}
	meta := map[string]string{
		checkpoint.MetaFormat:      checkpoint.FormatName,
		checkpoint.MetaVersion:     checkpoint.FormatVersion,
		checkpoint.MetaAlgorithm:   Algorithm,
		checkpoint.MetaPolicy:      l.name,
		checkpoint.MetaBackend:     l.backend.Name(),
		checkpoint.MetaObsSpace:    fmt.Sprintf("box(%d)", l.obsDim),
		checkpoint.MetaActionSpace: fmt.Sprintf("discrete(%d)", l.nActions),
		checkpoint.MetaStep:        strconv.FormatInt(l.samples, 10),
		checkpoint.MetaConfigHash:  l.cfg.Hash(),
		checkpoint.MetaSpec:        string(specs),
		MetaConfig:                 string(cfg),
		MetaSeed:                   strconv.FormatUint(l.seed, 10),
		MetaObsSize:                strconv.Itoa(l.obsDim),
		MetaActionSize:             strconv.Itoa(l.nActions),
	}
	if l.stateDim > 0 {
		meta[MetaStateSize] = strconv.Itoa(l.stateDim)
	}
	return meta
}

// Save writes the learner as a safetensors checkpoint: the actor's and the critic's
// parameters, the Adam state, the update and sample counters, and Meta() with the
// entries of extra added or overriding (the environment's canonical space descriptions,
// the run's config hash, the env step count). Identical learners give identical bytes.
func (l *Learner) Save(w io.Writer, extra map[string]string) error {
	meta := l.Meta()
	maps.Copy(meta, extra)
	ts := checkpoint.ModuleTensors("", l.actor)
	ts = append(ts, checkpoint.ModuleTensors("", l.critic)...)
	ts = append(ts, checkpoint.FromAdam(l.opt.State())...)
	ts = append(ts,
		checkpoint.I64Tensor(tensorUpdates, nil, []int64{l.updates}),
		checkpoint.I64Tensor(tensorSamples, nil, []int64{l.samples}))
	if err := checkpoint.Save(w, ts, meta); err != nil {
		return fmt.Errorf("ppo: save: %w", err)
	}
	return nil
}

// Restore loads a checkpoint into l, to continue training or to evaluate. It refuses,
// with an error wrapping checkpoint.ErrMismatch that names every difference, a checkpoint
// of another algorithm, observation size, number of actions or network architecture,
// or one whose metadata differs from want (for example the current environment's
// space descriptions under checkpoint.MetaObsSpace and MetaActionSpace, or the run's
// config hash). It restores the parameters, the optimizer state, the counters and the
// seed, so that training continues exactly as the saved run would have; the
// hyperparameters stay l's own. On error l is unchanged.
func (l *Learner) Restore(r io.Reader, want map[string]string) error {
	ts, meta, err := checkpoint.LoadFinite(r)
	if err != nil {
		return fmt.Errorf("ppo: restore: %w", err)
	}
	return l.restore(ts, meta, want)
}

func (l *Learner) restore(ts []checkpoint.Tensor, meta, want map[string]string) error {
	if err := l.checkMeta(meta, want); err != nil {
		return fmt.Errorf("ppo: restore: %w", err)
	}
	seed, err := strconv.ParseUint(meta[MetaSeed], 10, 64)
	if err != nil {
		return fmt.Errorf("ppo: restore: %w: bad %s %q", checkpoint.ErrFormat, MetaSeed, meta[MetaSeed])
	}
	counters := map[string]int64{}
	for _, name := range []string{tensorUpdates, tensorSamples} {
		v, err := scalarI64(ts, name)
		if err != nil {
			return fmt.Errorf("ppo: restore: %w", err)
		}
		counters[name] = v
	}
	// Fill fresh networks and optimizer, and swap them in only when all succeeded.
	actor, critic, opt, err := l.buildFrom(ts, "restore")
	if err != nil {
		return err
	}
	st, err := checkpoint.ToAdam(ts)
	if err != nil {
		return fmt.Errorf("ppo: restore optimizer: %w", err)
	}
	if err := opt.SetState(st); err != nil {
		return fmt.Errorf("ppo: restore optimizer: %w: %w", checkpoint.ErrMismatch, err)
	}
	l.actor, l.critic, l.opt = actor, critic, opt
	l.updates, l.samples, l.seed = counters[tensorUpdates], counters[tensorSamples], seed
	return nil
}

func scalarI64(ts []checkpoint.Tensor, name string) (int64, error) {
	for _, t := range ts {
		if t.Name != name {
			continue
		}
		v, err := t.Int64s()
		if err != nil {
			return 0, err
		}
		if len(v) != 1 || len(t.Shape) != 0 || v[0] < 0 {
			return 0, fmt.Errorf("%w: %s must be a non-negative I64 scalar", checkpoint.ErrFormat, name)
		}
		return v[0], nil
	}
	return 0, fmt.Errorf("%w: no %s tensor", checkpoint.ErrFormat, name)
}

// Load builds a learner from a checkpoint alone (its Config, group name, seed and sizes
// come from the metadata), for evaluation or to continue training. want is checked as in
// Restore.
func Load(r io.Reader, want map[string]string) (*Learner, error) {
	ts, meta, err := checkpoint.LoadFinite(r)
	if err != nil {
		return nil, fmt.Errorf("ppo: load: %w", err)
	}
	if meta[checkpoint.MetaAlgorithm] != Algorithm {
		return nil, fmt.Errorf("ppo: load: %w: %s is %q, want %q", checkpoint.ErrMismatch,
			checkpoint.MetaAlgorithm, meta[checkpoint.MetaAlgorithm], Algorithm)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(meta[MetaConfig]), &cfg); err != nil {
		return nil, fmt.Errorf("ppo: load: %w: bad %s: %v", checkpoint.ErrFormat, MetaConfig, err)
	}
	obsDim, err1 := strconv.Atoi(meta[MetaObsSize])
	nActions, err2 := strconv.Atoi(meta[MetaActionSize])
	seed, err3 := strconv.ParseUint(meta[MetaSeed], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("ppo: load: %w: bad sizes or seed: %v", checkpoint.ErrFormat, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ppo: load: %w: invalid %s: %w", checkpoint.ErrFormat, MetaConfig, err)
	}
	stateDim := 0
	if v, ok := meta[MetaStateSize]; ok {
		if stateDim, err = strconv.Atoi(v); err != nil || stateDim < 1 || stateDim > 1<<16 {
			return nil, fmt.Errorf("ppo: load: %w: bad %s %q", checkpoint.ErrFormat, MetaStateSize, v)
		}
	}
	if obsDim < 1 || nActions < 1 {
		return nil, fmt.Errorf("ppo: load: %w: sizes %d and %d", checkpoint.ErrFormat, obsDim, nActions)
	}
	// Check that the file holds the networks the metadata describes before building
	// them, so a forged header cannot make Load allocate more than the file's size.
	probe := &Learner{cfg: cfg, obsDim: obsDim, stateDim: stateDim, nActions: nActions}
	aSpec, cSpec := probe.specs()
	if err := hasTensors(ts, aSpec, cSpec); err != nil {
		return nil, fmt.Errorf("ppo: load: %w", err)
	}
	l, err := NewCentralized(meta[checkpoint.MetaPolicy], cfg, obsDim, stateDim, nActions, seed)
	if err != nil {
		return nil, fmt.Errorf("ppo: load: %w", err)
	}
	if err := l.restore(ts, meta, want); err != nil {
		return nil, err
	}
	return l, nil
}

// hasTensors checks that ts holds every parameter of the specs with its shape.
func hasTensors(ts []checkpoint.Tensor, specs ...nn.MLPSpec) error {
	shapes := make(map[string][]int, len(ts))
	for _, t := range ts {
		shapes[t.Name] = t.Shape
	}
	for _, s := range specs {
		want := s.ParamShapes()
		for i, name := range s.ParamNames() {
			got, ok := shapes[name]
			if !ok {
				return fmt.Errorf("%w: checkpoint has no tensor %q", checkpoint.ErrMismatch, name)
			}
			if fmt.Sprint(got) != fmt.Sprint(want[i]) {
				return fmt.Errorf("%w: tensor %q has shape %v, the config says %v", checkpoint.ErrMismatch, name, got, want[i])
			}
		}
	}
	return nil
}

// checkMeta checks a checkpoint's metadata against l (algorithm, sizes, network spec)
// and against want.
func (l *Learner) checkMeta(meta, want map[string]string) error {
	req := map[string]string{
		checkpoint.MetaAlgorithm: Algorithm,
		MetaObsSize:              strconv.Itoa(l.obsDim),
		MetaActionSize:           strconv.Itoa(l.nActions),
		checkpoint.MetaSpec:      l.Meta()[checkpoint.MetaSpec],
	}
	maps.Copy(req, want)
	return checkpoint.CheckMeta(meta, req)
}

// buildFrom builds fresh networks and optimizer for l and fills the networks from ts;
// op names the operation in errors.
func (l *Learner) buildFrom(ts []checkpoint.Tensor, op string) (actor, critic nn.Module, opt nn.Optimizer, err error) {
	if actor, critic, opt, err = l.build(); err != nil {
		return nil, nil, nil, err
	}
	if err := checkpoint.RestoreModule(actor, "", ts); err != nil {
		return nil, nil, nil, fmt.Errorf("ppo: %s actor: %w", op, err)
	}
	if err := checkpoint.RestoreModule(critic, "", ts); err != nil {
		return nil, nil, nil, fmt.Errorf("ppo: %s critic: %w", op, err)
	}
	return actor, critic, opt, nil
}

// InitFrom sets l's actor and critic to those of the checkpoint read from r (a warm
// start: fine-tuning a trained policy), checking want and the network spec as Restore
// does. A checkpoint whose critic had another state size (a centralized critic's, for a
// learner without one, or the other way round) gives only its actor, whose spec must
// match; the critic starts fresh. The optimizer starts fresh, and the update and sample
// counters and the seed stay l's own, so a learning-rate or entropy schedule starts from
// its beginning. On error l is unchanged.
func (l *Learner) InitFrom(r io.Reader, want map[string]string) error {
	ts, meta, err := checkpoint.LoadFinite(r)
	if err != nil {
		return fmt.Errorf("ppo: init: %w", err)
	}
	if meta[MetaStateSize] != l.Meta()[MetaStateSize] {
		return l.initActor(ts, meta, want)
	}
	if err := l.checkMeta(meta, want); err != nil {
		return fmt.Errorf("ppo: init: %w", err)
	}
	actor, critic, opt, err := l.buildFrom(ts, "init")
	if err != nil {
		return err
	}
	l.actor, l.critic, l.opt = actor, critic, opt
	return nil
}

// initActor is InitFrom from a checkpoint of another critic: its actor only.
func (l *Learner) initActor(ts []checkpoint.Tensor, meta, want map[string]string) error {
	var specs map[string]nn.MLPSpec
	if err := json.Unmarshal([]byte(meta[checkpoint.MetaSpec]), &specs); err != nil {
		return fmt.Errorf("ppo: init: %w: bad %s: %v", checkpoint.ErrFormat, checkpoint.MetaSpec, err)
	}
	aSpec, _ := l.specs()
	mine, err1 := json.Marshal(aSpec)
	theirs, err2 := json.Marshal(specs["actor"])
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("ppo: init: %w", err)
	}
	req := map[string]string{
		checkpoint.MetaAlgorithm: Algorithm,
		MetaObsSize:              strconv.Itoa(l.obsDim),
		MetaActionSize:           strconv.Itoa(l.nActions),
	}
	maps.Copy(req, want)
	if err := checkpoint.CheckMeta(meta, req); err != nil {
		return fmt.Errorf("ppo: init: %w", err)
	}
	if !bytes.Equal(mine, theirs) {
		return fmt.Errorf("ppo: init: %w: the checkpoint's actor is %s, want %s", checkpoint.ErrMismatch, theirs, mine)
	}
	actor, critic, opt, err := l.build()
	if err != nil {
		return err
	}
	if err := checkpoint.RestoreModule(actor, "", ts); err != nil {
		return fmt.Errorf("ppo: init actor: %w", err)
	}
	l.actor, l.critic, l.opt = actor, critic, opt
	return nil
}
