package data

import (
	"errors"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/internal/fieldpath"
)

// TestDefaultCatalogMatchesSpec checks the embedded catalog against the table of
// specs/world.md, copied here by hand.
func TestDefaultCatalogMatchesSpec(t *testing.T) {
	spec := []struct {
		model                  string
		mem, bw, fp32, fp16, w float64
		rentLo, rentHi         float64
	}{
		{"rtx-3090", 24, 936, 35.6, 0, 350, 0.18, 0.30},
		{"rtx-4090", 24, 1008, 82.6, 0, 450, 0.31, 0.88},
		{"a100-80gb-sxm", 80, 2039, 19.5, 312, 400, 0.78, 1.84},
		{"h100-sxm", 80, 3350, 66.9, 989, 700, 1.49, 4.92},
		{"h100-pcie", 80, 2000, 51, 0, 350, 0, 0},
		{"cpu-16c", 0, 0, 0, 0, 170, 0, 0},
	}
	cat := DefaultCatalog()
	if len(cat.Devices()) != len(spec) {
		t.Errorf("%d devices, want %d", len(cat.Devices()), len(spec))
	}
	for _, s := range spec {
		d, ok := cat.Lookup(s.model)
		if !ok {
			t.Errorf("no %s", s.model)
			continue
		}
		if d.MemoryGB != s.mem || d.BandwidthGBs != s.bw || d.FP32TFLOPS != s.fp32 || d.TensorFP16TFLOPS != s.fp16 ||
			d.PowerW != s.w || d.RentUSDPerHourMin != s.rentLo || d.RentUSDPerHourMax != s.rentHi {
			t.Errorf("%s = %+v, want %+v", s.model, d, s)
		}
	}
	if d, _ := cat.Lookup("cpu-16c"); d.Kind != KindCPU || d.CPUCores != 16 {
		t.Errorf("cpu node %+v", d)
	}
}

func TestMatchGPU(t *testing.T) {
	cat := DefaultCatalog()
	cases := map[string]string{
		"NVIDIA GeForce RTX 3090": "rtx-3090",
		"NVIDIA GeForce RTX 4090": "rtx-4090",
		"NVIDIA A100-SXM4-80GB":   "a100-80gb-sxm",
		"NVIDIA H100 80GB HBM3":   "h100-sxm",
		"NVIDIA H100 PCIe":        "h100-pcie",
		"Tesla T4":                "",
		"NVIDIA A100-PCIE-40GB":   "",
	}
	for name, want := range cases {
		d, ok := cat.MatchGPU(name)
		if got := d.Model; got != want || ok != (want != "") {
			t.Errorf("MatchGPU(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

func TestCatalogExtend(t *testing.T) {
	extra := []Device{
		{Model: "l40s", Name: "NVIDIA L40S", Kind: KindGPU, MemoryGB: 48, PowerW: 350, Match: []string{"l40s"}},
		{Model: "rtx-3090", Name: "RTX 3090 (recalibrated)", Kind: KindGPU, MemoryGB: 24, PowerW: 300},
	}
	cat, err := NewCatalog(extra)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := cat.Lookup("l40s"); !ok || d.MemoryGB != 48 {
		t.Errorf("added device: %+v %v", d, ok)
	}
	if d, _ := cat.Lookup("rtx-3090"); d.PowerW != 300 {
		t.Errorf("replaced device power %g, want 300", d.PowerW)
	}
	if d, _ := DefaultCatalog().Lookup("rtx-3090"); d.PowerW != 350 {
		t.Errorf("the default catalog changed: %g", d.PowerW)
	}
	if d, ok := cat.MatchGPU("NVIDIA L40S"); !ok || d.Model != "l40s" {
		t.Errorf("MatchGPU on an added device: %+v", d)
	}
	_, err = NewCatalog([]Device{{Model: "Bad Name", Kind: "tpu", MemoryGB: -1, Match: []string{"X-1"}}})
	for _, p := range []string{"catalog[0].model", "catalog[0].name", "catalog[0].kind", "catalog[0].match[0]"} {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("error %v does not name %s", err, p)
		}
	}
}

func TestMachineValidate(t *testing.T) {
	locs := DefaultLocations()
	m := Machine{Name: "rig", GPUs: []GPUSlot{{Model: "rtx-4090", Count: 2}}, CPUCores: 16, RAMGB: 64,
		Location: "sweden", FailuresPerHour: 0.001, IdlePowerW: 80}
	if err := m.Validate(DefaultCatalog(), locs); err != nil {
		t.Fatalf("valid machine: %v", err)
	}
	// Power by hand: 80 idle + 2 x 450 + 16 x 170/16 = 1150 W.
	if p := m.PeakPowerW(DefaultCatalog()); p != 1150 {
		t.Errorf("peak power %g W, want 1150", p)
	}
	if m.GPUCount() != 2 || m.GPUMemoryGB(DefaultCatalog()) != 48 {
		t.Errorf("gpus %d memory %g", m.GPUCount(), m.GPUMemoryGB(DefaultCatalog()))
	}
	bad := m
	bad.GPUs = []GPUSlot{{Model: "rtx-4090", Count: 1}, {Model: "rtx-5090", Count: 0}, {Model: "cpu-16c", Count: 1}}
	bad.Location = "mars"
	bad.RAMGB = 0
	err := bad.Validate(DefaultCatalog(), locs)
	var fe *fieldpath.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a fieldpath error", err)
	}
	for _, frag := range []string{
		`gpus[1].model: unknown GPU model "rtx-5090" (known: a100-80gb-sxm, h100-pcie, h100-sxm, rtx-3090, rtx-4090`,
		"gpus[1].count", `gpus[2].model: "cpu-16c" is a cpu, not a GPU`, `location: unknown location "mars"`, "ram_gb",
	} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error %q does not contain %q", err, frag)
		}
	}
	// In a config, the path is prefixed by the machine's index.
	c := DefaultConfig()
	c.Machines = []Machine{m, bad}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `machines[1].gpus[1].model: unknown GPU model "rtx-5090"`) {
		t.Errorf("config validation: %v", err)
	}
	// An added catalog device makes it valid.
	c.Catalog = []Device{{Model: "rtx-5090", Name: "RTX 5090", Kind: KindGPU, MemoryGB: 32, PowerW: 575}}
	c.Machines[1].GPUs = []GPUSlot{{Model: "rtx-5090", Count: 1}}
	c.Machines[1].Location, c.Machines[1].RAMGB = "texas", 32
	if err := c.Validate(); err != nil {
		t.Errorf("machine with a catalog extension: %v", err)
	}
}
