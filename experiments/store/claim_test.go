package store

import (
	"context"
	"os"
	"strconv"
	"testing"
)

func TestClaim(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t, "runs.db")
	if err := s.Add(ctx, testRun("a", 0), testRun("b", 1)); err != nil {
		t.Fatal(err)
	}
	alive := func(string) bool { return true }
	dead := func(string) bool { return false }
	claim := func(id, owner string, f func(string) bool) bool {
		t.Helper()
		ok, err := s.Claim(ctx, id, owner, f)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("a", "h/1", alive) {
		t.Fatal("a pending run was not claimed")
	}
	if r, _ := s.Get(ctx, "a"); r.Status != StatusRunning {
		t.Errorf("claimed run is %s, want running", r.Status)
	}
	if claim("a", "h/2", alive) {
		t.Error("a run held by a live process was claimed by another")
	}
	if !claim("a", "h/1", alive) {
		t.Error("its owner could not claim it again")
	}
	if !claim("a", "h/2", dead) {
		t.Error("a run whose owner is gone was not taken over")
	}
	if o, _ := s.Owners(ctx); o["a"] != "h/2" || len(o) != 1 {
		t.Errorf("owners %v, want a: h/2", o)
	}
	if err := s.Finish(ctx, "b", Result{Status: StatusDone}); err != nil {
		t.Fatal(err)
	}
	if claim("b", "h/3", dead) {
		t.Error("a done run was claimed")
	}
	if err := s.Finish(ctx, "b", Result{Status: StatusFailed, Error: "x"}); err != nil {
		t.Fatal(err)
	}
	if !claim("b", "h/3", alive) {
		t.Error("a failed run (a retry) was not claimed")
	}
	if _, err := s.Claim(ctx, "nope", "h/1", alive); err == nil {
		t.Error("claiming an unknown run gave no error")
	}
}

func TestAlive(t *testing.T) {
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	if !Alive(Owner()) {
		t.Errorf("this process (%s) is not alive", Owner())
	}
	// Pids are below 2^22 on Linux; this one cannot exist.
	if Alive(host + "/" + strconv.Itoa(1<<30)) {
		t.Error("a pid that cannot exist is alive")
	}
	if !Alive("another-host-" + host + "/1") {
		t.Error("a process on another host must count as alive (it cannot be checked)")
	}
	for _, bad := range []string{"", "nopid", host + "/x", host + "/-1"} {
		if Alive(bad) {
			t.Errorf("malformed owner %q is alive", bad)
		}
	}
}
