package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for vitrine-bench when a run
// re-executes it as the fullscreen workload's client or the floor's two
// processes.
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) != "" && len(os.Args) > 1 && slices.Contains([]string{fullscreenClientCommand, floorLoopCommand, floorEchoCommand}, os.Args[1]) {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// The quick check the compositor engineers run: vitrine and the floor,
// one workload, one second, two rounds. It builds vitrine from this
// repository.
func TestCompareVitrineSmoke(t *testing.T) {
	if _, err := exec.LookPath("weston-simple-shm"); err != nil {
		t.Skip("weston-simple-shm is not installed (apt-get install weston)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is needed to build vitrine")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // so the test sees that runs clean up after themselves
	jsonPath := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"compare", "--seconds", "1", "--warmup", "500ms", "--rounds", "2", "--compositors", "vitrine,floor", "--workloads", "simple-shm", "--json", jsonPath}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	out := stdout.String()
	if !strings.Contains(out, "cpu_per_commit_ratio_vs_best_peer=n/a\n") {
		t.Errorf("no ratio line (n/a without peers) in:\n%s", out)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Compositor, Workload string
		Commits, Frames      uint64
		CPUNS                uint64 `json:"cpu_ns"`
		Error                string
		Round, Rounds        int
	}
	var doc struct {
		Results, Runs []row
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse --json output: %v", err)
	}
	if len(doc.Results) != 2 || len(doc.Runs) != 4 {
		t.Fatalf("%d results and %d runs, want 2 and 4:\n%s", len(doc.Results), len(doc.Runs), b)
	}
	for i, r := range doc.Results {
		want := []string{"vitrine", "floor"}[i]
		if r.Compositor != want || r.Workload != "simple-shm" || r.Error != "" || r.Rounds != 2 {
			t.Fatalf("result %d: %+v, want %s's median of 2 rounds", i, r, want)
		}
		// The floor's frames are its 60 Hz ticks: about 60 in the second.
		if r.Commits == 0 || r.Frames < 30 || r.CPUNS == 0 {
			t.Errorf("%s: commits=%d frames=%d cpu_ns=%d, want > 0, >= 30, > 0\ntable:\n%s", r.Compositor, r.Commits, r.Frames, r.CPUNS, out)
		}
	}
	for i, r := range doc.Runs {
		// In turn: vitrine, floor, vitrine, floor.
		if want := []string{"vitrine", "floor"}[i%2]; r.Compositor != want || r.Round != i/2+1 {
			t.Errorf("run %d is %s round %d, want %s round %d", i, r.Compositor, r.Round, want, i/2+1)
		}
	}
	if !strings.Contains(out, "note: floor:") {
		t.Errorf("no floor note in:\n%s", out)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "vitrine-bench") {
			t.Errorf("temporary directory %s left behind", e.Name())
		}
	}
}
