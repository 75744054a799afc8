// Command cabi is hivegym's C ABI: a flat C interface over the environment, built as a
// shared library with
//
//	go build -buildmode=c-shared -o libhivegym.so ./cabi
//
// for the Python package (python/, docs/python.md) or any other host. A host creates a
// driver (experiments.Driver: K environments of a config, the agents of the
// population's learning groups controlled by the host, every other agent scripted in
// Go) from config YAML text, a seed and a scenario, then calls hg_reset and hg_step.
// Every step's rows (one per decision of a controlled agent, across the K environments)
// are written into buffers allocated once in C memory, which the host reads without a
// copy (hg_view); a step allocates no C memory in steady state. Handles are integers:
// the host holds no Go pointer. Every function returns a status (HG_OK, HG_BAD_CONFIG,
// HG_BAD_ARGUMENT, HG_DONE, HG_ERROR) and never crashes the host: a panic is recovered
// at the boundary into HG_ERROR, and the message (for a bad config the one line the CLI
// prints, with file, line and key) is read with hg_error. The cgo code is behind the
// cgo build constraint, so builds without cgo (CGO_ENABLED=0) skip it.
package main

func main() {}
