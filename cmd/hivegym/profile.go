package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hivegym/hivegym/data"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

type profileOptions struct {
	IO       *IOStreams
	Config   string
	Name     string
	Location string
	// Where the host is read from; tests point these at fixtures.
	CPUInfo string
	MemInfo string
	// NvidiaSMI returns the output of nvidia-smi's GPU query, or found false when the
	// tool is not on PATH.
	NvidiaSMI func(ctx context.Context) (out string, found bool, err error)
}

func newProfileCmd(ios *IOStreams) *cobra.Command {
	opts := &profileOptions{IO: ios, CPUInfo: "/proc/cpuinfo", MemInfo: "/proc/meminfo", NvidiaSMI: runNvidiaSMI}
	cmd := &cobra.Command{
		Use:   "profile [-c CONFIG] [--location NAME] [--name NAME]",
		Short: "Print this machine's hardware as a provider machine spec (YAML)",
		Long: `Read this machine — CPU model and logical cores from /proc/cpuinfo, RAM from
/proc/meminfo, GPUs from nvidia-smi when it is on PATH (none when it is not) — and print
it as a provider machine spec in the config format, with GPUs named by their catalog
model where the catalog knows them. A GPU the catalog does not know is added under
world.catalog with the memory nvidia-smi reports. The failure rate and idle power are
stated assumptions; edit them. The output is a config that validates on its own, and its
world.machines entry can be pasted into any config.`,
		Example: `  hivegym profile > provider.yaml
  hivegym profile --location texas --name rig-1
  hivegym config validate provider.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProfile(cmd.Context(), opts) },
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Config, "config", "c", "", "config whose locations and catalog apply (default: the embedded default config)")
	f.StringVar(&opts.Name, "name", "local", "machine name")
	f.StringVar(&opts.Location, "location", "", "electricity location of the machine (default: the config's first location)")
	return cmd
}

// runNvidiaSMI runs the GPU query of nvidia-smi with a timeout.
func runNvidiaSMI(ctx context.Context) (string, bool, error) {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return "", false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var out, stderr bytes.Buffer
	c := exec.CommandContext(ctx, path, "--query-gpu=name,memory.total", "--format=csv,noheader")
	c.Stdout, c.Stderr = &out, &stderr
	if err := c.Run(); err != nil {
		return "", true, fmt.Errorf("nvidia-smi: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), true, nil
}

// profileDoc is what `hivegym profile` prints: a config fragment.
type profileDoc struct {
	World profileWorld `yaml:"world"`
}

type profileWorld struct {
	Catalog  []data.Device  `yaml:"catalog,omitempty"`
	Machines []data.Machine `yaml:"machines"`
}

func runProfile(ctx context.Context, opts *profileOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := loadWorldConfig(opts.Config)
	if err != nil {
		return err
	}
	loc := opts.Location
	if loc == "" {
		loc = cfg.World.Locations[0].Name
	}
	if strings.TrimSpace(opts.Name) == "" {
		return usagef("--name must not be empty")
	}
	found := false
	var names []string
	for _, l := range cfg.World.Locations {
		found = found || l.Name == loc
		names = append(names, l.Name)
	}
	if !found {
		return usagef("unknown location %q (valid: %s)", loc, strings.Join(names, ", "))
	}

	cpuText, err := os.ReadFile(opts.CPUInfo)
	if err != nil {
		return fmt.Errorf("reading the CPU: %w", err)
	}
	memText, err := os.ReadFile(opts.MemInfo)
	if err != nil {
		return fmt.Errorf("reading the memory size: %w", err)
	}
	var h data.HostInfo
	if h.CPUModel, h.CPUCores, err = data.ParseCPUInfo(string(cpuText)); err != nil {
		return err
	}
	if h.RAMGB, err = data.ParseMemInfo(string(memText)); err != nil {
		return err
	}
	smi, smiFound, err := opts.NvidiaSMI(ctx)
	if err != nil {
		return err
	}
	if smiFound {
		if h.GPUs, err = data.ParseNvidiaSMI(smi); err != nil {
			return err
		}
	}
	cat, err := data.NewCatalog(cfg.World.Catalog)
	if err != nil {
		return err // the config loader has validated it already
	}
	m, extra := data.ProfileMachine(h, cat, opts.Name, loc)

	// The spec must validate against the config it is meant for.
	check := cfg.World
	check.Catalog = append(append([]data.Device(nil), cfg.World.Catalog...), extra...)
	check.Machines = []data.Machine{m}
	if err := check.Validate(); err != nil {
		return errors.Join(errors.New("the profiled machine does not validate"), err)
	}

	var b bytes.Buffer
	gpuSrc := "nvidia-smi (not on PATH: no GPUs)"
	if smiFound {
		gpuSrc = fmt.Sprintf("nvidia-smi (%d GPUs)", len(h.GPUs))
	}
	fmt.Fprintf(&b, "# This machine as a hivegym provider (hivegym profile), read from %s,\n", opts.CPUInfo)
	fmt.Fprintf(&b, "# %s and %s. cpu_cores counts logical CPUs; ram_gb is GiB.\n", opts.MemInfo, gpuSrc)
	fmt.Fprintf(&b, "# Assumptions to edit: failures_per_hour %g (one failure in about six weeks) and\n", data.ProfileFailuresPerHour)
	fmt.Fprintf(&b, "# idle_power_w = %g W + %g W per GPU. Paste the machines entry under world.machines\n", data.ProfileIdleBaseW, data.ProfileIdleGPUW)
	b.WriteString("# of a config (with any catalog entries under world.catalog), or use this file as one.\n")
	if len(extra) > 0 {
		b.WriteString("# GPUs the catalog does not know are added below with their memory only: fill in\n# power_w and the other figures.\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(profileDoc{World: profileWorld{Catalog: extra, Machines: []data.Machine{m}}}); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(b.Bytes())
	return err
}
