package checkpoint

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestSaveBadMetadataErrorIsStable: with several invalid metadata values, Save names the
// first key in sorted order every time, not whichever one map iteration gives first.
func TestSaveBadMetadataErrorIsStable(t *testing.T) {
	meta := map[string]string{}
	for i := range 12 {
		meta[fmt.Sprintf("k%02d", 11-i)] = "\xff"
	}
	for range 5 {
		var buf bytes.Buffer
		err := Save(&buf, []Tensor{F32Tensor("a", []int{1}, []float32{1})}, meta)
		if err == nil || !strings.Contains(err.Error(), `"k00"`) {
			t.Fatalf("Save = %v, want the error to name k00", err)
		}
	}
}
