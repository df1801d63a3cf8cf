package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var commandStartedRE = regexp.MustCompile(`msg="command started" .* pid=(\d+)`)

// childPIDs are the pids of every command start vitrine logged.
func (c *compositor) childPIDs() []int {
	var pids []int
	for _, m := range commandStartedRE.FindAllStringSubmatch(c.log(), -1) {
		n, _ := strconv.Atoi(m[1])
		pids = append(pids, n)
	}
	return pids
}

// TestKioskChildKilledMidFrameRestarts: the --restart child, drawing a
// frame every refresh, is killed with SIGKILL; the next start (another
// pattern, so a stale picture shows) must be on screen, exact, right
// after its first frame.
func TestKioskChildKilledMidFrameRestarts(t *testing.T) {
	need(t, "grim")
	marker := filepath.Join(t.TempDir(), "started-once")
	script := fmt.Sprintf(`if [ -e %[1]s ]; then exec shm-client --pattern quadrants --fullscreen; fi; touch %[1]s; exec shm-client --pattern moving-box --fullscreen`, marker)
	c := startVitrine(t, "--output", "320x240", "--restart", "--", "sh", "-c", script)
	c.stdout.wait(t, `^first-frame 320x240$`, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // animating: a frame is always in flight
	pids := c.childPIDs()
	if len(pids) != 1 {
		t.Fatalf("want one command start, log has %v:\n%s", pids, c.log())
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(strings.Join(c.stdout.snapshot(), "\n"), "first-frame 320x240") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted child showed no first frame:\n%s", c.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkQuadrants(t, c.screenshot())
	if !strings.Contains(c.log(), "status=137") || !strings.Contains(c.log(), `msg="restarting command"`) {
		t.Errorf("vitrine did not log the SIGKILL (status=137) and the restart:\n%s", c.log())
	}
}

// TestPrivilegeFollowsRestartedChild: under --restart the default
// --privileged-clients child follows the command to its new process:
// each start's wayland-info (a child of the command's sh) lists
// screencopy.
func TestPrivilegeFollowsRestartedChild(t *testing.T) {
	need(t, "wayland-info")
	c := startVitrineAsIs(t, "--output", "320x240", "--restart", "--", "sh", "-c",
		`if wayland-info | grep -q zwlr_screencopy_manager_v1; then echo privileged-run; else echo unprivileged-run; fi; exit 1`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := strings.Join(c.stdout.snapshot(), "\n")
		if strings.Contains(out, "unprivileged-run") {
			t.Fatalf("a start of the command was not privileged:\n%s", out)
		}
		if strings.Count(out, "privileged-run") >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want two privileged starts within 15 s, got:\n%s\nlog:\n%s", out, c.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(c.childPIDs()); n < 2 {
		t.Fatalf("%d command starts logged, want 2", n)
	}
}

// snapshot is the lines so far.
func (w *lineWaiter) snapshot() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.lines...)
}
