// Package nn owns hivegym's neural-network backends: the small interface the learners
// program against (Backend, Module, Optimizer), the pure-Go backend that implements it
// on gonum, the initialization every backend shares (InitParams), and the numerically
// stable distribution helpers a policy-gradient learner needs (Categorical with action
// masks, DiagGaussian).
//
// # The interface
//
// A learner holds a Backend (GoBackend{} by default; Lookup("torch") when the libtorch
// backend is compiled in with -tags torch and has called Register) and never learns
// which one it has:
//
//	actor, _ := be.NewMLP(nn.PolicySpec("actor", obsDim, []int{64, 64}, nActions), seed)
//	critic, _ := be.NewMLP(nn.ValueSpec("critic", obsDim, []int{64, 64}), seed)
//	opt, _ := be.NewAdam(nn.DefaultAdam(), actor, critic)
//	for each minibatch {
//		opt.ZeroGrad()
//		actor.Forward(logits, obs, batch)          // float32, batch×In in, batch×Out out
//		// the learner computes its loss and dLoss/dlogits itself, e.g. with
//		// Categorical.AddGradLogProb and AddGradEntropy, row by row
//		actor.Backward(nil, dLogits)               // accumulates parameter gradients
//		critic.Forward(values, obs, batch); critic.Backward(nil, dValues)
//		opt.Step()                                 // global-norm clip, then Adam
//	}
//
// That is the whole contract: forward on a batch, backward from a loss gradient the
// learner computes, parameters in and out as flat named float32 tensors (Params,
// SetParams, Grads), an optimizer step with a state that can be saved and restored
// (State, SetState), so "resume" continues exactly. It maps one to one onto libtorch:
// Forward is a forward under autograd with the input copied in and the output copied
// out, Backward is output.backward(gradOut), Params/SetParams copy tensors in and out.
// Errors, not panics, report shape mismatches, so a backend whose calls can fail
// (libtorch) fits the same signatures. The conformance suite in package nntest is the
// executable form of this contract; every backend runs it.
//
// # Networks
//
// An MLPSpec is In inputs, hidden layers of the given widths with tanh or ReLU, and
// linear outputs. Parameters are named and shaped like a PyTorch nn.Sequential of Linear
// layers (Name.0.weight of shape [out, in], Name.0.bias, Name.2.weight, ...), so a
// checkpoint loads into PyTorch with load_state_dict. Initialization is orthogonal (Saxe
// et al. 2014) with CleanRL's gains — sqrt(2) for hidden layers, 0.01 for a policy head,
// 1 for a value head — and zero biases, drawn from the internal/rng stream
// "nn.init."+Name; InitParams computes it once for every backend, so the same seed gives
// the same network whichever backend runs it.
//
// # The pure-Go backend and its precision
//
// GoBackend computes in float32. Observations arrive as float32; float32 halves the
// memory traffic and doubles the SIMD width of gonum's assembly kernels (Sgemm ran 1.5
// to 2 times as fast as Dgemm on the 64-wide layers, same layout, on the 2-core
// development machine); and it is PyTorch's default dtype, so checkpoints
// and the libtorch backend agree without conversions. The implementation is generic over
// float32 and float64: the tests run the float64 instantiation of the very same code
// against central finite differences with a tight tolerance, which float32 could not
// support.
//
// Matrix products go through gonum's Sgemm, called on tiles of at most 192×64 outputs so
// that gonum never fans out to goroutines: parallelism in hivegym is across
// environments, and a product on the caller's goroutine allocates nothing. Every output
// element is still one dot product over the full inner dimension, so a row's output does
// not depend on the other rows of its batch. Buffers grow to the largest batch seen and
// are reused: in a steady state Forward, Backward and Step allocate nothing. tanh uses a
// float32 rational approximation (Eigen's, within 4e-7 of math.Tanh), ten times faster
// than math.Tanh; the float64 instantiation uses math.Tanh.
//
// # Optimizer
//
// Adam (Kingma and Ba 2015) with bias correction, in PyTorch's form
// p -= lr/(1-β1ᵗ) · m/(√v/√(1-β2ᵗ) + ε), after global-norm gradient clipping (Pascanu et
// al. 2013): if the L2 norm of all gradients of all the optimizer's modules exceeds
// MaxGradNorm, every gradient is scaled by MaxGradNorm/norm, in place. Unlike PyTorch's
// clip_grad_norm_, no 1e-6 is added to the norm, so a norm exactly at the threshold is
// left alone (ClipScale). A non-finite norm is an error and the step is skipped.
//
// # Determinism
//
// Same seed, same parameters; the same inputs give bit-identical outputs run to run; no
// goroutines, no global random source, no map iteration in any computation.
//
// # What this package must not do
//
// It knows nothing of environments, observations' meaning, rewards or learners; it does
// no file I/O (package agents/checkpoint writes parameters to disk); it uses no cgo
// (the libtorch backend lives in its own package behind the torch build tag); it never
// panics on bad input: shapes, specs and configs are checked and reported as errors
// (wrapping ErrShape, ErrParams, ... or fieldpath errors from Validate).
package nn
