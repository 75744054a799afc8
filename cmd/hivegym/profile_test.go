package main

import (
	"context"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

const testCPUInfo = "processor\t: 0\nmodel name\t: AMD Ryzen 9 7950X 16-Core Processor\nprocessor\t: 1\nmodel name\t: AMD Ryzen 9 7950X 16-Core Processor\n"
const testMemInfo = "MemTotal:       65536000 kB\nMemFree: 1 kB\n"

func profileRun(t *testing.T, smi string, found bool, extra ...func(*profileOptions)) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	opts := &profileOptions{
		IO:      &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Name:    "rig",
		CPUInfo: writeFile(t, "cpuinfo", testCPUInfo),
		MemInfo: writeFile(t, "meminfo", testMemInfo),
		NvidiaSMI: func(context.Context) (string, bool, error) {
			return smi, found, nil
		},
	}
	for _, f := range extra {
		f(opts)
	}
	err := runProfile(context.Background(), opts)
	return out.String(), err
}

// loadProfile loads the printed spec as a config over the defaults and validates its
// world section.
func loadProfile(t *testing.T, doc string) experiments.Config {
	t.Helper()
	cfg, err := experiments.Load("profile.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("profile output does not load: %v\n%s", err, doc)
	}
	if err := cfg.World.Validate(); err != nil {
		t.Fatalf("profile output does not validate: %v\n%s", err, doc)
	}
	return cfg
}

func TestProfileNoGPU(t *testing.T) {
	doc, err := profileRun(t, "", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadProfile(t, doc)
	m := cfg.World.Machines[0]
	// 65,536,000 kB / 1,048,576 = 62.5 GiB.
	if m.Name != "rig" || m.CPUCores != 2 || m.RAMGB != 62.5 || len(m.GPUs) != 0 || m.Location != "germany" ||
		m.CPUModel != "AMD Ryzen 9 7950X 16-Core Processor" {
		t.Errorf("machine %+v", m)
	}
	if !strings.Contains(doc, "not on PATH: no GPUs") {
		t.Errorf("output does not say nvidia-smi was absent:\n%s", doc)
	}
}

func TestProfileGPUs(t *testing.T) {
	smi := "NVIDIA H100 80GB HBM3, 81559 MiB\nNVIDIA H100 80GB HBM3, 81559 MiB\nNVIDIA L4, 23034 MiB\n"
	doc, err := profileRun(t, smi, true, func(o *profileOptions) { o.Location = "texas" })
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadProfile(t, doc)
	m := cfg.World.Machines[0]
	if len(m.GPUs) != 2 || m.GPUs[0].Model != "h100-sxm" || m.GPUs[0].Count != 2 || m.GPUs[1].Model != "nvidial4" || m.Location != "texas" {
		t.Errorf("machine %+v", m)
	}
	if len(cfg.World.Catalog) != 1 || cfg.World.Catalog[0].MemoryGB != 22.5 {
		t.Errorf("catalog extension %+v", cfg.World.Catalog)
	}
}

func TestProfileBadInput(t *testing.T) {
	_, err := profileRun(t, "", false, func(o *profileOptions) { o.Location = "mars" })
	if err == nil || !strings.Contains(err.Error(), `unknown location "mars"`) {
		t.Errorf("unknown location: %v", err)
	}
	_, err = profileRun(t, "garbage without a comma", true)
	if err == nil || !strings.Contains(err.Error(), "nvidia-smi output line 1") {
		t.Errorf("bad nvidia-smi output: %v", err)
	}
	code, out, stderr := runCLI(t, "profile", "--location", "mars")
	wantOneErrorLine(t, code, out, stderr, `unknown location "mars"`)
}

// TestProfileThisMachine runs the real command: on a machine without nvidia-smi it
// prints a GPU-less spec that validates.
func TestProfileThisMachine(t *testing.T) {
	code, out, stderr := runCLI(t, "profile")
	if code != 0 {
		t.Skipf("profile on this machine: exit %d (%s)", code, stderr)
	}
	loadProfile(t, out)
}
