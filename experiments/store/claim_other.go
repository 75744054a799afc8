//go:build !unix

package store

// processExists cannot check other processes here; it assumes they are alive.
func processExists(int) bool { return true }
