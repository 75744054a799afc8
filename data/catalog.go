package data

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Device kinds.
const (
	KindGPU = "gpu"
	KindCPU = "cpu"
)

// Device is one row of the hardware catalog.
type Device struct {
	// Model is the id machine specs use (lowercase letters, digits, '-').
	Model string `yaml:"model"`
	// Name is the marketing name.
	Name string `yaml:"name"`
	// Kind is "gpu" or "cpu" (a whole CPU node).
	Kind             string  `yaml:"kind"`
	MemoryGB         float64 `yaml:"memory_gb"`
	BandwidthGBs     float64 `yaml:"bandwidth_gb_s"`
	FP32TFLOPS       float64 `yaml:"fp32_tflops"`
	TensorFP16TFLOPS float64 `yaml:"tensor_fp16_tflops"`
	// PowerW is the board power (GPU) or node power (CPU) under load, in watts.
	PowerW float64 `yaml:"power_w"`
	// CPUCores is the core count of a CPU node; 0 for a GPU.
	CPUCores int `yaml:"cpu_cores"`
	// RentUSDPerHourMin and Max are the range of rental prices seen, per GPU-hour.
	RentUSDPerHourMin float64 `yaml:"rent_usd_per_hour_min"`
	RentUSDPerHourMax float64 `yaml:"rent_usd_per_hour_max"`
	// Match are fragments that identify the device in an nvidia-smi name (see
	// NormalizeGPUName).
	Match []string `yaml:"match"`
}

//go:embed catalog.yaml
var catalogYAML []byte

// Catalog is the set of known devices, by model id.
type Catalog struct {
	devices []Device
	byModel map[string]int
}

var defaultCatalog = func() *Catalog {
	var ds []Device
	dec := yaml.NewDecoder(bytes.NewReader(catalogYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&ds); err != nil {
		panic("data: embedded catalog.yaml is invalid: " + err.Error())
	}
	c, err := buildCatalog(nil, ds, "catalog.yaml")
	if err != nil {
		panic("data: embedded catalog.yaml is invalid: " + err.Error())
	}
	return c
}()

// DefaultCatalog returns the embedded catalog of specs/world.md.
func DefaultCatalog() *Catalog { return defaultCatalog }

// NewCatalog returns the embedded catalog extended by extra (config key world.catalog):
// an extra device with a new model id is added, one with an existing id replaces the
// built-in entry. Errors are *fieldpath.Error values with paths "catalog[i].key".
func NewCatalog(extra []Device) (*Catalog, error) {
	if len(extra) == 0 {
		return defaultCatalog, nil
	}
	return buildCatalog(defaultCatalog.devices, extra, "catalog")
}

var modelID = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)

func buildCatalog(base, extra []Device, path string) (*Catalog, error) {
	c := &Catalog{byModel: map[string]int{}}
	for _, d := range base {
		c.byModel[d.Model] = len(c.devices)
		c.devices = append(c.devices, d)
	}
	v := &validator{}
	seen := map[string]int{}
	for i, d := range extra {
		p := fmt.Sprintf("%s[%d]", path, i)
		before := len(v.errs)
		if !modelID.MatchString(d.Model) {
			v.add(p+".model", "must be lowercase letters, digits, '.' and '-', got %q", d.Model)
		}
		if j, dup := seen[d.Model]; dup {
			v.add(p+".model", "duplicate model %q (also %s[%d])", d.Model, path, j)
		}
		seen[d.Model] = i
		if strings.TrimSpace(d.Name) == "" {
			v.add(p+".name", "must not be empty")
		}
		switch d.Kind {
		case KindGPU:
			v.positive(p+".memory_gb", d.MemoryGB)
			if d.CPUCores != 0 {
				v.add(p+".cpu_cores", "must be 0 for a gpu, got %d", d.CPUCores)
			}
		case KindCPU:
			if d.CPUCores < 1 {
				v.add(p+".cpu_cores", "must be at least 1 for a cpu node, got %d", d.CPUCores)
			}
			v.nonNegative(p+".memory_gb", d.MemoryGB)
		default:
			v.add(p+".kind", "must be %q or %q, got %q", KindGPU, KindCPU, d.Kind)
		}
		v.nonNegative(p+".bandwidth_gb_s", d.BandwidthGBs)
		v.nonNegative(p+".fp32_tflops", d.FP32TFLOPS)
		v.nonNegative(p+".tensor_fp16_tflops", d.TensorFP16TFLOPS)
		v.nonNegative(p+".power_w", d.PowerW)
		v.nonNegative(p+".rent_usd_per_hour_min", d.RentUSDPerHourMin)
		v.nonNegative(p+".rent_usd_per_hour_max", d.RentUSDPerHourMax)
		if d.RentUSDPerHourMax < d.RentUSDPerHourMin {
			v.add(p+".rent_usd_per_hour_max", "must be >= rent_usd_per_hour_min (%g), got %g", d.RentUSDPerHourMin, d.RentUSDPerHourMax)
		}
		for j, m := range d.Match {
			if m == "" || NormalizeGPUName(m) != m {
				v.add(fmt.Sprintf("%s.match[%d]", p, j), "must be lowercase letters and digits only, got %q", m)
			}
		}
		if len(v.errs) > before {
			continue
		}
		d.Match = append([]string(nil), d.Match...)
		if k, ok := c.byModel[d.Model]; ok {
			c.devices[k] = d
		} else {
			c.byModel[d.Model] = len(c.devices)
			c.devices = append(c.devices, d)
		}
	}
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return c, nil
}

// Devices returns a copy of the catalog's devices, built-in first.
func (c *Catalog) Devices() []Device {
	out := make([]Device, len(c.devices))
	copy(out, c.devices)
	return out
}

// Models returns the model ids, sorted.
func (c *Catalog) Models() []string {
	out := make([]string, 0, len(c.devices))
	for _, d := range c.devices {
		out = append(out, d.Model)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the device with the given model id.
func (c *Catalog) Lookup(model string) (Device, bool) {
	i, ok := c.byModel[model]
	if !ok {
		return Device{}, false
	}
	return c.devices[i], true
}

// NormalizeGPUName lowercases name and keeps only ASCII letters and digits:
// "NVIDIA A100-SXM4-80GB" becomes "nvidiaa100sxm480gb".
func NormalizeGPUName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9':
			b.WriteByte(ch)
		case ch >= 'A' && ch <= 'Z':
			b.WriteByte(ch + 'a' - 'A')
		}
	}
	return b.String()
}

// MatchGPU returns the catalog GPU whose match fragments occur in the normalized name
// (the longest fragment wins, then catalog order), as nvidia-smi reports it.
func (c *Catalog) MatchGPU(name string) (Device, bool) {
	n := NormalizeGPUName(name)
	best, bestLen := -1, 0
	for i, d := range c.devices {
		if d.Kind != KindGPU {
			continue
		}
		for _, m := range d.Match {
			if len(m) > bestLen && strings.Contains(n, m) {
				best, bestLen = i, len(m)
			}
		}
	}
	if best < 0 {
		return Device{}, false
	}
	return c.devices[best], true
}

// GPUSlot is a number of identical GPUs in a machine.
type GPUSlot struct {
	Model string `yaml:"model"`
	Count int    `yaml:"count"`
}

// Machine is a provider's machine: its GPUs, CPU cores, RAM, location, reliability and
// idle power draw. Its capacity bounds the jobs it can run at once.
type Machine struct {
	Name string    `yaml:"name"`
	GPUs []GPUSlot `yaml:"gpus"`
	// CPUModel is informative (hivegym profile fills it in).
	CPUModel string  `yaml:"cpu_model"`
	CPUCores int     `yaml:"cpu_cores"`
	RAMGB    float64 `yaml:"ram_gb"`
	// Location names one of world.locations; the machine pays its electricity price.
	Location string `yaml:"location"`
	// FailuresPerHour is the rate of failures (a running job is lost) per hour.
	FailuresPerHour float64 `yaml:"failures_per_hour"`
	// IdlePowerW is the draw of the machine when it runs nothing, in watts.
	IdlePowerW float64 `yaml:"idle_power_w"`
}

// Validate checks the machine against the catalog and the configured locations (when
// locs is nil the location is not checked). Paths are relative to the machine.
func (m *Machine) Validate(cat *Catalog, locs []LocationConfig) error {
	v := &validator{}
	if strings.TrimSpace(m.Name) == "" {
		v.add("name", "must not be empty")
	}
	for i, g := range m.GPUs {
		p := fmt.Sprintf("gpus[%d]", i)
		d, ok := cat.Lookup(g.Model)
		switch {
		case !ok:
			v.add(p+".model", "unknown GPU model %q (known: %s; add it under world.catalog)", g.Model, strings.Join(cat.gpuModels(), ", "))
		case d.Kind != KindGPU:
			v.add(p+".model", "%q is a %s, not a GPU", g.Model, d.Kind)
		}
		if g.Count < 1 || g.Count > 1024 {
			v.add(p+".count", "must be between 1 and 1024, got %d", g.Count)
		}
	}
	if m.CPUCores < 1 || m.CPUCores > 1<<16 {
		v.add("cpu_cores", "must be between 1 and %d, got %d", 1<<16, m.CPUCores)
	}
	v.positive("ram_gb", m.RAMGB)
	if locs != nil {
		found := false
		for _, l := range locs {
			found = found || l.Name == m.Location
		}
		if !found {
			v.add("location", "unknown location %q (valid: %s)", m.Location, locationList(locs))
		}
	}
	v.nonNegative("failures_per_hour", m.FailuresPerHour)
	v.nonNegative("idle_power_w", m.IdlePowerW)
	return errors.Join(v.errs...)
}

func (c *Catalog) gpuModels() []string {
	var out []string
	for _, m := range c.Models() {
		if d, _ := c.Lookup(m); d.Kind == KindGPU {
			out = append(out, m)
		}
	}
	return out
}

// GPUCount is the number of GPUs in the machine.
func (m *Machine) GPUCount() int {
	n := 0
	for _, g := range m.GPUs {
		n += g.Count
	}
	return n
}

// GPUMemoryGB is the total GPU memory of the machine; unknown models count 0.
func (m *Machine) GPUMemoryGB(cat *Catalog) float64 {
	total := 0.0
	for _, g := range m.GPUs {
		if d, ok := cat.Lookup(g.Model); ok {
			total += d.MemoryGB * float64(g.Count)
		}
	}
	return total
}

// CPUWattsPerCore is the CPU power per busy core used by PeakPowerW: the catalog's
// 16-core node at 170 W (an assumption that every core draws the same).
const CPUWattsPerCore = 170.0 / 16

// PeakPowerW is the machine's draw with every GPU and core busy: idle power plus the
// GPUs' board power plus CPUWattsPerCore per core.
func (m *Machine) PeakPowerW(cat *Catalog) float64 {
	p := m.IdlePowerW + CPUWattsPerCore*float64(m.CPUCores)
	for _, g := range m.GPUs {
		if d, ok := cat.Lookup(g.Model); ok {
			p += d.PowerW * float64(g.Count)
		}
	}
	return math.Max(p, 0)
}
