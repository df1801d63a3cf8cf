package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for vitrine-bench when a run
// re-executes it as the fullscreen workload's client.
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) != "" && len(os.Args) > 1 && os.Args[1] == fullscreenClientCommand {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// The quick check the compositor engineers run: vitrine alone, one
// workload, one second. It builds vitrine from this repository.
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
	code := run([]string{"compare", "--seconds", "1", "--compositors", "vitrine", "--workloads", "simple-shm", "--json", jsonPath}, &stdout, &stderr)
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
	var doc struct {
		Results []struct {
			Compositor, Workload string
			Commits, Frames      uint64
			CPUNS                uint64 `json:"cpu_ns"`
			Error                string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse --json output: %v", err)
	}
	if len(doc.Results) != 1 {
		t.Fatalf("%d results, want 1:\n%s", len(doc.Results), b)
	}
	r := doc.Results[0]
	if r.Compositor != "vitrine" || r.Workload != "simple-shm" || r.Error != "" {
		t.Fatalf("result %+v", r)
	}
	if r.Commits == 0 || r.Frames == 0 || r.CPUNS == 0 {
		t.Errorf("commits=%d frames=%d cpu_ns=%d, want all > 0\ntable:\n%s", r.Commits, r.Frames, r.CPUNS, out)
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
