// Package experiments owns what a user configures and runs: the YAML config (strict
// decoding, validation with field paths and line numbers, the embedded default), and,
// as the project grows, the training and evaluation runner, sweeps, the run store and
// reports.
//
// It is the top of the library: it may import every other hivegym package, and none of
// them imports it. It must not print, exit or read flags; the CLI in cmd/hivegym does
// that and calls in here. Each lower package owns the config section it reads
// (data.Config for the world, for example) together with its defaults and validation;
// this package only composes the sections, decodes files into them and reports errors
// in terms of the file the user wrote.
package experiments
