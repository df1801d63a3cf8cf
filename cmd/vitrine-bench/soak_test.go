package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSoak60s is the CI soak: 60 s of clients coming and going (after a
// 15 s warm-up), failing when vitrine's RSS, fds or goroutines grow past
// the tolerance, when vitrine dies, or when a screenshot or mode change
// fails. It takes 60 s, so it runs in CI (CI set) or with VITRINE_SOAK=1.
func TestSoak60s(t *testing.T) {
	if os.Getenv("CI") == "" && os.Getenv("VITRINE_SOAK") == "" {
		t.Skip("takes 60 s: runs with CI=true or VITRINE_SOAK=1")
	}
	for _, tool := range []string{"grim", "wlr-randr", "wayland-info", "weston-simple-shm", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (.ci/install installs it)", tool)
		}
	}
	jsonPath := filepath.Join(t.TempDir(), "soak.json")
	var stdout, stderr bytes.Buffer
	code := runSoak(context.Background(), []string{"--duration", "60s", "--warmup", "15s", "--json", jsonPath}, &stdout, &stderr)
	t.Logf("stdout:\n%s", &stdout)
	if code != 0 {
		t.Fatalf("soak exit %d\nstderr:\n%s", code, &stderr)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep soakReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	// A soak that did nothing proves nothing: at ~0.8 s a round, 60 s
	// is ~70 rounds; half of that on a loaded machine is still a soak.
	if rep.Rounds < 20 || rep.Shots < 2*rep.Rounds || rep.Resizes < rep.Rounds {
		t.Fatalf("only %d rounds, %d screenshots, %d resizes in 60 s", rep.Rounds, rep.Shots, rep.Resizes)
	}
}

// TestJudgeSoak: the verdict flags each kind of growth past its
// tolerance and nothing within it, and ignores the warm-up.
func TestJudgeSoak(t *testing.T) {
	mk := func(grow func(i int, s *soakSample)) *soakReport {
		rep := &soakReport{Warmup: 10, Tolerance: defaultSoakTolerance}
		for i := 0; i < 30; i++ {
			s := soakSample{Seconds: float64(i), Round: i, RSSKB: 20000, FDs: 17, Goroutines: 4}
			if i < 10 {
				s.RSSKB, s.FDs, s.Goroutines = 5000+uint64(i)*2000, 10+i, 2 // warm-up: growing is fine
			}
			grow(i, &s)
			rep.Samples = append(rep.Samples, s)
		}
		judgeSoak(rep)
		return rep
	}
	if rep := mk(func(int, *soakSample) {}); len(rep.Leaks) != 0 {
		t.Errorf("flat after warm-up: leaks %q", rep.Leaks)
	}
	if rep := mk(func(i int, s *soakSample) { s.RSSKB += uint64(i%2) * 3000 }); len(rep.Leaks) != 0 {
		t.Errorf("RSS that wobbles by 3 MiB: leaks %q", rep.Leaks)
	}
	for name, grow := range map[string]func(int, *soakSample){
		"RSS":        func(i int, s *soakSample) { s.RSSKB += uint64(max(0, i-10)) * 1000 },
		"open fds":   func(i int, s *soakSample) { s.FDs += max(0, i-10) },
		"goroutines": func(i int, s *soakSample) { s.Goroutines += max(0, i-10) / 3 },
	} {
		rep := mk(grow)
		if len(rep.Leaks) != 1 || !strings.HasPrefix(rep.Leaks[0], name) {
			t.Errorf("%s grows by one a round: leaks %q, want one about %s", name, rep.Leaks, name)
		}
	}
}
