package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hivegym/hivegym/data"
	"github.com/hivegym/hivegym/experiments"
	"github.com/spf13/cobra"
)

func newConfigCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Print the default config or check a config file",
		Long: `A config is a YAML file. Every key is optional: a key you leave out keeps its default.
Unknown keys, duplicate keys and values of the wrong type are errors that name the key
and its line.`,
		Example: `  hivegym config default > my.yaml
  hivegym config validate my.yaml`,
	}
	cmd.AddCommand(newConfigDefaultCmd(ios), newConfigValidateCmd(ios))
	return cmd
}

type configDefaultOptions struct{ IO *IOStreams }

func newConfigDefaultCmd(ios *IOStreams) *cobra.Command {
	opts := &configDefaultOptions{IO: ios}
	return &cobra.Command{
		Use:     "default",
		Short:   "Print the embedded default config, with a comment on every key",
		Example: "  hivegym config default > my.yaml",
		Args:    cobra.NoArgs,
		RunE:    func(*cobra.Command, []string) error { return runConfigDefault(opts) },
	}
}

func runConfigDefault(opts *configDefaultOptions) error {
	_, err := opts.IO.Out.Write(experiments.DefaultYAML())
	return err
}

type configValidateOptions struct {
	IO   *IOStreams
	File string
}

func newConfigValidateCmd(ios *IOStreams) *cobra.Command {
	opts := &configValidateOptions{IO: ios}
	return &cobra.Command{
		Use:     "validate FILE",
		Short:   "Check a config file; exit 2 with the key and line of the first problem",
		Example: "  hivegym config validate my.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			return runConfigValidate(opts)
		},
	}
}

func runConfigValidate(opts *configValidateOptions) error {
	if _, err := experiments.LoadFile(opts.File); err != nil {
		return err
	}
	_, err := fmt.Fprintf(opts.IO.Out, "%s: ok\n", opts.File)
	return err
}

// applyRunFlags applies the --seed (when it was given) and --scenario flags that the
// commands running a world share; an unknown scenario is bad input listing the valid ones.
func applyRunFlags(cfg *experiments.Config, seedSet bool, seed uint64, scenario string) error {
	if seedSet {
		cfg.Seed = seed
	}
	if scenario == "" {
		return nil
	}
	if !slices.Contains(data.Scenarios(), scenario) {
		return usagef("unknown scenario %q (valid: %s)", scenario, strings.Join(data.Scenarios(), ", "))
	}
	cfg.World.Scenario.Name = scenario
	return nil
}
