package data

import (
	"bufio"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// HostInfo is what `hivegym profile` reads about the machine it runs on.
type HostInfo struct {
	CPUModel string
	// CPUCores is the number of logical CPUs (the "processor" entries of /proc/cpuinfo):
	// what a scheduler can hand out.
	CPUCores int
	// RAMGB is MemTotal in GiB (2^30 bytes), rounded to 0.1.
	RAMGB float64
	GPUs  []GPUInfo
}

// GPUInfo is one GPU as nvidia-smi reports it.
type GPUInfo struct {
	Name      string
	MemoryMiB int
}

// ParseCPUInfo reads the text of /proc/cpuinfo: the first "model name" (or, on CPUs
// that have none, "Hardware" or "cpu model") and the number of "processor" entries.
func ParseCPUInfo(text string) (model string, logical int, err error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	fallback := ""
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "processor":
			logical++
		case "model name":
			if model == "" {
				model = val
			}
		case "Hardware", "cpu model", "uarch":
			if fallback == "" {
				fallback = val
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", 0, fmt.Errorf("cpuinfo: %w", err)
	}
	if model == "" {
		model = fallback
	}
	if model == "" {
		model = "unknown"
	}
	if logical == 0 {
		return model, 0, fmt.Errorf("cpuinfo: no processor entries")
	}
	return model, logical, nil
}

// ParseMemInfo reads MemTotal from the text of /proc/meminfo and returns it in GiB,
// rounded to 0.1.
func ParseMemInfo(text string) (float64, error) {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("meminfo: cannot read %q", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || kb == 0 {
			return 0, fmt.Errorf("meminfo: cannot read %q", strings.TrimSpace(line))
		}
		return math.Round(float64(kb)/(1<<20)*10) / 10, nil
	}
	return 0, fmt.Errorf("meminfo: no MemTotal line")
}

// ParseNvidiaSMI reads the output of
// `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader`: one GPU a line,
// "NVIDIA GeForce RTX 3090, 24576 MiB". Blank lines are ignored.
func ParseNvidiaSMI(text string) ([]GPUInfo, error) {
	var out []GPUInfo
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		j := strings.LastIndexByte(line, ',')
		if j < 0 {
			return nil, fmt.Errorf("nvidia-smi output line %d: want \"name, memory MiB\", got %q", i+1, line)
		}
		name := strings.TrimSpace(line[:j])
		mem := strings.Fields(line[j+1:])
		if name == "" || len(mem) != 2 || mem[1] != "MiB" {
			return nil, fmt.Errorf("nvidia-smi output line %d: want \"name, memory MiB\", got %q", i+1, line)
		}
		mib, err := strconv.Atoi(mem[0])
		if err != nil || mib < 0 {
			return nil, fmt.Errorf("nvidia-smi output line %d: bad memory %q", i+1, mem[0])
		}
		out = append(out, GPUInfo{Name: name, MemoryMiB: mib})
	}
	return out, nil
}

// Assumptions of ProfileMachine for what a host cannot report about itself.
const (
	// ProfileFailuresPerHour is one failure in about six weeks.
	ProfileFailuresPerHour = 0.001
	// ProfileIdleBaseW and ProfileIdleGPUW make the idle draw: a base for the host plus
	// a typical idle draw per GPU.
	ProfileIdleBaseW = 40.0
	ProfileIdleGPUW  = 25.0
)

// ProfileMachine turns host information into a provider Machine at location, naming
// GPUs by their catalog model where the catalog matches the nvidia-smi name. A GPU the
// catalog does not know becomes a new catalog Device (returned in extra) named after
// its normalized name, with its memory and zero for the figures nvidia-smi does not
// report; add it under world.catalog next to the machine.
func ProfileMachine(h HostInfo, cat *Catalog, name, location string) (m Machine, extra []Device) {
	m = Machine{
		Name: name, CPUModel: h.CPUModel, CPUCores: h.CPUCores, RAMGB: h.RAMGB, Location: location,
		FailuresPerHour: ProfileFailuresPerHour,
		IdlePowerW:      ProfileIdleBaseW + ProfileIdleGPUW*float64(len(h.GPUs)),
		GPUs:            []GPUSlot{},
	}
	for _, g := range h.GPUs {
		model := ""
		if d, ok := cat.MatchGPU(g.Name); ok {
			model = d.Model
		} else {
			model = NormalizeGPUName(g.Name)
			if model == "" {
				model = "gpu"
			}
			known := false
			for _, d := range extra {
				known = known || d.Model == model
			}
			if !known {
				extra = append(extra, Device{
					Model: model, Name: g.Name, Kind: KindGPU,
					MemoryGB: math.Round(float64(g.MemoryMiB)/1024*10) / 10,
					Match:    []string{NormalizeGPUName(g.Name)},
				})
			}
		}
		found := false
		for i := range m.GPUs {
			if m.GPUs[i].Model == model {
				m.GPUs[i].Count++
				found = true
			}
		}
		if !found {
			m.GPUs = append(m.GPUs, GPUSlot{Model: model, Count: 1})
		}
	}
	return m, extra
}
