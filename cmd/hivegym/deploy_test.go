package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hivegym/hivegym/experiments/sweep"
	"go.yaml.in/yaml/v3"
)

// TestKubernetesSweepJob checks the Indexed Job example against what `hivegym sweep`
// needs: Indexed completions equal to HIVEGYM_SHARD_COUNT, a per-shard --out, --resume,
// and a sweep file that exists and loads.
func TestKubernetesSweepJob(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", "sweep-job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Template       struct {
				Spec struct {
					Containers []struct {
						Args []string `yaml:"args"`
						Env  []struct {
							Name  string `yaml:"name"`
							Value string `yaml:"value"`
						} `yaml:"env"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	if job.Spec.CompletionMode != "Indexed" || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("not an Indexed Job with one container: %+v", job.Spec)
	}
	c := job.Spec.Template.Spec.Containers[0]
	count := ""
	for _, e := range c.Env {
		if e.Name == "HIVEGYM_SHARD_COUNT" {
			count = e.Value
		}
	}
	if want := strconv.Itoa(job.Spec.Completions); job.Spec.Completions < 1 || count != want {
		t.Errorf("HIVEGYM_SHARD_COUNT %q, completions %d", count, job.Spec.Completions)
	}
	if len(c.Args) == 0 || c.Args[0] != "sweep" || !slices.Contains(c.Args, "--resume") {
		t.Errorf("args %v", c.Args)
	}
	i := slices.Index(c.Args, "--out")
	if i < 0 || i+1 >= len(c.Args) || !strings.Contains(c.Args[i+1], "$(SHARD)") {
		t.Errorf("--out must differ per shard: %v", c.Args)
	}
	i = slices.Index(c.Args, "-c")
	if i < 0 || !strings.HasPrefix(c.Args[i+1], "/sweeps/") {
		t.Fatalf("sweep file: %v", c.Args)
	}
	if _, err := sweep.LoadFile(filepath.Join("..", "..", "examples", "sweeps", strings.TrimPrefix(c.Args[i+1], "/sweeps/"))); err != nil {
		t.Errorf("the Job's sweep file: %v", err)
	}
}
