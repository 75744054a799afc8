package data

import (
	"bytes"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const cpuinfoX86 = `processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Processor
cpu cores	: 2

processor	: 1
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Processor
cpu cores	: 2
`

const cpuinfoARM = `processor	: 0
BogoMIPS	: 48.00
CPU part	: 0xd0c

processor	: 1
BogoMIPS	: 48.00

Hardware	: BCM2835
`

const meminfo = `MemTotal:        8039460 kB
MemFree:          512000 kB
`

const smi = `NVIDIA GeForce RTX 4090, 24564 MiB
NVIDIA GeForce RTX 4090, 24564 MiB
Tesla T4, 15360 MiB
`

func TestParseHost(t *testing.T) {
	model, n, err := ParseCPUInfo(cpuinfoX86)
	if err != nil || model != "Intel(R) Xeon(R) Processor" || n != 2 {
		t.Errorf("x86: %q %d %v", model, n, err)
	}
	model, n, err = ParseCPUInfo(cpuinfoARM)
	if err != nil || model != "BCM2835" || n != 2 {
		t.Errorf("arm: %q %d %v", model, n, err)
	}
	if _, _, err := ParseCPUInfo("nothing here\n"); err == nil {
		t.Errorf("no processors: no error")
	}
	// 8,039,460 kB / 1,048,576 = 7.667 GiB -> 7.7.
	if gb, err := ParseMemInfo(meminfo); err != nil || gb != 7.7 {
		t.Errorf("meminfo: %g %v", gb, err)
	}
	for _, bad := range []string{"", "MemTotal: lots\n", "MemTotal: 12 MB\n"} {
		if _, err := ParseMemInfo(bad); err == nil {
			t.Errorf("ParseMemInfo(%q): no error", bad)
		}
	}
	gpus, err := ParseNvidiaSMI(smi)
	if err != nil || len(gpus) != 3 || gpus[0] != (GPUInfo{"NVIDIA GeForce RTX 4090", 24564}) || gpus[2].MemoryMiB != 15360 {
		t.Errorf("nvidia-smi: %+v %v", gpus, err)
	}
	if g, err := ParseNvidiaSMI("\n"); err != nil || len(g) != 0 {
		t.Errorf("empty nvidia-smi output: %v %v", g, err)
	}
	for _, bad := range []string{"RTX 4090 24564 MiB", "RTX, 12 GB", ", 12 MiB", "X, -1 MiB"} {
		if _, err := ParseNvidiaSMI(bad); err == nil {
			t.Errorf("ParseNvidiaSMI(%q): no error", bad)
		}
	}
}

// TestProfileMachine: two known RTX 4090s and an unknown T4 give a machine of two
// slots and a catalog extension; the result validates in a config, also after a YAML
// round trip.
func TestProfileMachine(t *testing.T) {
	gpus, _ := ParseNvidiaSMI(smi)
	h := HostInfo{CPUModel: "Xeon", CPUCores: 2, RAMGB: 7.7, GPUs: gpus}
	m, extra := ProfileMachine(h, DefaultCatalog(), "local", "germany")
	if len(m.GPUs) != 2 || m.GPUs[0] != (GPUSlot{"rtx-4090", 2}) || m.GPUs[1] != (GPUSlot{"teslat4", 1}) {
		t.Errorf("gpus %+v", m.GPUs)
	}
	if len(extra) != 1 || extra[0].Model != "teslat4" || extra[0].MemoryGB != 15 {
		t.Errorf("extra %+v", extra)
	}
	if m.IdlePowerW != ProfileIdleBaseW+3*ProfileIdleGPUW {
		t.Errorf("idle power %g", m.IdlePowerW)
	}
	c := DefaultConfig()
	c.Catalog, c.Machines = extra, []Machine{m}
	if err := c.Validate(); err != nil {
		t.Fatalf("profiled machine does not validate: %v", err)
	}
	var doc bytes.Buffer
	if err := yaml.NewEncoder(&doc).Encode(struct {
		Catalog  []Device  `yaml:"catalog"`
		Machines []Machine `yaml:"machines"`
	}{extra, []Machine{m}}); err != nil {
		t.Fatal(err)
	}
	back := DefaultConfig()
	dec := yaml.NewDecoder(&doc)
	dec.KnownFields(true)
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil || back.Machines[0].GPUs[0].Count != 2 {
		t.Errorf("after YAML: %v", err)
	}
	// No GPU at all: an empty list and a CPU-only machine.
	m, extra = ProfileMachine(HostInfo{CPUModel: "x", CPUCores: 4, RAMGB: 16}, DefaultCatalog(), "cpu", "texas")
	if len(m.GPUs) != 0 || m.GPUs == nil || len(extra) != 0 || m.Validate(DefaultCatalog(), DefaultLocations()) != nil {
		t.Errorf("cpu-only machine %+v %+v", m, extra)
	}
}

func FuzzParseNvidiaSMI(f *testing.F) {
	f.Add(smi)
	f.Add("a,b,c, 1 MiB\n\n")
	f.Add(", MiB")
	f.Fuzz(func(t *testing.T, s string) {
		gpus, err := ParseNvidiaSMI(s)
		if err != nil {
			return
		}
		for _, g := range gpus {
			if g.Name == "" || g.MemoryMiB < 0 || strings.ContainsRune(g.Name, '\n') {
				t.Fatalf("bad GPU %+v from %q", g, s)
			}
		}
	})
}

func FuzzParseCPUInfo(f *testing.F) {
	f.Add(cpuinfoX86)
	f.Add(cpuinfoARM)
	f.Add("processor:\nmodel name:")
	f.Fuzz(func(t *testing.T, s string) {
		model, n, err := ParseCPUInfo(s)
		if err == nil && (n < 1 || model == "") {
			t.Fatalf("ParseCPUInfo(%q) = %q, %d without error", s, model, n)
		}
		if _, err := ParseMemInfo(s); err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}
