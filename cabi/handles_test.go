//go:build cgo

package main

import (
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments"
)

// TestCreateBadConfig: a bad config is a bad-config status whose message names the
// file, the line and the key, as the CLI prints it.
func TestCreateBadConfig(t *testing.T) {
	_, st, err := create([]byte("env:\n  reward:\n    kind: nope\n"), "c.yaml", 0, false, "", 1, 1, "")
	if st != statusBadConfig || err == nil || !strings.HasPrefix(err.Error(), "c.yaml:3: env.reward.kind: ") {
		t.Fatalf("status %d, error %v", st, err)
	}
}

// BenchmarkHandleStep steps a handle (every agent controlled, the default config)
// through the same path as hg_step: validate the actions, step the driver, write the
// rows into the C buffers. A step allocates nothing in steady state.
func BenchmarkHandleStep(b *testing.B) {
	h, _, err := create(nil, "", 0, false, "", 1, 1, experiments.ControlAll)
	if err != nil {
		b.Fatal(err)
	}
	hd := take(h)
	defer hd.buf.free()
	if hd.reset(1) != statusOK {
		b.Fatal(hd.err)
	}
	var acts []int32
	seed := uint64(2)
	step := func() {
		if hd.d.Done() {
			if hd.reset(seed) != statusOK {
				b.Fatal(hd.err)
			}
			seed++
		}
		acts = acts[:0]
		n, na := int(hd.buf.view.n), hd.d.NumActions()
		for j := 0; j < n; j++ {
			acts = append(acts, int32(experiments.LegalByAgent(hd.d.Rows()[j].Agent, boolsOf(hd.buf.mask[j*na:(j+1)*na]))))
		}
		if hd.step(acts) != statusOK {
			b.Fatal(hd.err)
		}
	}
	for range 3000 {
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		step()
		rows += int(hd.buf.view.n)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "decisions/s")
}

var maskScratch []bool

func boolsOf(m []byte) []bool {
	maskScratch = maskScratch[:0]
	for _, x := range m {
		maskScratch = append(maskScratch, x != 0)
	}
	return maskScratch
}
