//go:build torch

package main

import "github.com/hivegym/hivegym/agents/torchnn"

// In a build with -tags torch the libtorch backend registers itself as "torch", and
// --device is checked by libtorch itself.
func init() {
	checkDevice = func(device string) error {
		_, err := torchnn.NewBackend(device)
		return err
	}
}
