//go:build torch

// Package torchnn is the libtorch network backend of hivegym: the agents/nn backend
// interface (nn.Backend, nn.Module, nn.Optimizer) implemented on libtorch through gotch
// (github.com/sugarme/gotch). It builds only with the build tag `torch`, after
// `make torch-setup` (scripts/torch-setup.sh) has installed libtorch and prepared a patched
// copy of gotch; see docs/torch.md. Importing it registers the backend as "torch" with
// nn.Register, so `nn.Lookup("torch")` finds it.
//
// What it owns: the MLP and Adam of agents/nn on libtorch tensors, and the device choice
// (NewBackend; only the CPU is supported, "cuda" is refused with ErrNoCUDA when libtorch has
// no CUDA).
//
// How it computes. All arithmetic is libtorch kernels (linear, addmm, mm, tanh, the
// activation backward kernels, the Adam update as in-place tensor ops); the backward pass is
// written out layer by layer, because the interface hands the module dLoss/dOutput rather
// than a loss, so autograd is not needed (nor used: no tensor here requires grad). Data
// crosses between Go and libtorch only through host memory: inputs, outputs, parameters,
// gradients and Adam moments are copied through the data pointers of contiguous CPU
// tensors, without cgo calls or allocation.
//
// Seeding. The initial weights are nn.InitParams(spec, seed), drawn in Go from internal/rng
// and copied in, so both backends start bit-identical, and nothing here draws from
// libtorch's generator. ManualSeed seeds that generator anyway, for code that uses it.
//
// What it must not do: call gotch's Must* functions or anything else that calls log.Fatal
// (every libtorch error is returned, wrapping ErrTorch); leave tensors to finalizers in hot
// loops (every temporary handle is freed as soon as the op returns; modules and
// optimizers free their tensors on Close, with a runtime cleanup only as a safety net for
// values dropped without Close); depend on goroutine scheduling (each call runs locked to
// its OS thread, because libtorch reports errors through a thread-local slot).
//
// Performance: libtorch pays a fixed cost per op (dispatch plus one cgo call, about a
// microsecond), so the pure-Go backend is faster for the small batches of acting and
// libtorch's kernels win on large minibatches; docs/torch.md has the measured numbers.
package torchnn
