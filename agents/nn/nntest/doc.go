// Package nntest is the conformance suite of the nn.Backend contract: Run checks a
// backend's initialization, forward and backward passes (against a float64 reference
// MLP written plainly here, itself checked against finite differences), parameter
// import and export, shape errors, Adam against hand-computed updates, clipping at its
// boundaries, optimizer-state resume, and that an MLP learns sin(x). BenchForward and
// BenchBackward are the benchmarks every backend reports, so backends compare in one
// run.
//
// It imports only the standard testing package and nn; it must not depend on any
// particular backend, so the libtorch backend runs exactly the same checks.
package nntest
