//go:build cgo

package main

/*
#include <stdint.h>
*/
import "C"

import (
	"bytes"
	"fmt"
	"os"
	"unsafe"

	"github.com/hivegym/hivegym/agents/ppo"
)

// greedy loads the PPO checkpoint at path and writes its greedy action for each of n
// observation rows (obs n x obsDim, masks n x numActions, 1 legal) into out: what
// `hivegym eval` plays. It is the Go side of the checkpoint interop tests of the
// Python package (python/hivegym/checkpoint.py must agree with it).
func greedy(path string, obs []float32, masks []byte, n int, out []int32) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	l, err := ppo.Load(bytes.NewReader(b), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	d, k := l.ObsDim(), l.NumActions()
	if len(obs) != n*d || len(masks) != n*k {
		return fmt.Errorf("%s: %d rows need %d observation values and %d mask values (obs size %d, %d actions), got %d and %d",
			path, n, n*d, n*k, d, k, len(obs), len(masks))
	}
	legal := make([]bool, len(masks))
	for i, m := range masks {
		legal[i] = m != 0
	}
	acts := make([]int, n)
	if err := l.Greedy(obs, legal, n, acts); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for i, a := range acts {
		out[i] = int32(a)
	}
	return nil
}

// hg_policy_greedy: greedy actions of a PPO checkpoint for n rows (see greedy). obsLen
// and maskLen are the lengths of obs and masks; out holds n values. Returns HG_OK, or
// HG_BAD_ARGUMENT with the message in errBuf.
//
//export hg_policy_greedy
func hg_policy_greedy(path *C.char, obs *C.float, obsLen C.int64_t, masks *C.uint8_t, maskLen C.int64_t,
	n C.int64_t, out *C.int32_t, errBuf *C.char, errLen C.int64_t) (st C.int32_t) {
	defer func() {
		if p := recover(); p != nil {
			putErr(errBuf, errLen, panicMsg(p))
			st = statusError
		}
	}()
	if n < 0 || obsLen < 0 || maskLen < 0 {
		putErr(errBuf, errLen, "negative length")
		return statusBadArgument
	}
	var o []float32
	var m []byte
	var a []int32
	if obsLen > 0 {
		o = unsafe.Slice((*float32)(unsafe.Pointer(obs)), int(obsLen))
	}
	if maskLen > 0 {
		m = unsafe.Slice((*byte)(unsafe.Pointer(masks)), int(maskLen))
	}
	if n > 0 {
		a = unsafe.Slice((*int32)(unsafe.Pointer(out)), int(n))
	}
	if err := greedy(C.GoString(path), o, m, int(n), a); err != nil {
		putErr(errBuf, errLen, err.Error())
		return statusBadArgument
	}
	return statusOK
}
