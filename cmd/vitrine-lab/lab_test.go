package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/cmd/vitrine-lab/internal/lab"
)

// labEnabled gates the tests that boot QEMU: they take minutes and, the
// first time, download a kernel and build a disk image.
func labEnabled(t *testing.T) {
	t.Helper()
	if os.Getenv("VITRINE_LAB") != "1" && os.Getenv("CI") != "true" {
		t.Skip("boots QEMU for minutes; set VITRINE_LAB=1 (or CI=true) to run the lab")
	}
}

// buildLab builds this command, as `vitrine-lab check` is run for real.
func buildLab(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vitrine-lab")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// noQEMULeft fails if a QEMU whose sockets live under tmp still runs.
// Each test gives its lab a private TMPDIR, so other users' QEMUs on the
// machine do not count.
func noQEMULeft(t *testing.T, tmp string) {
	t.Helper()
	out, err := exec.Command("pgrep", "-af", "qemu-system.*"+tmp).Output()
	if err == nil {
		t.Errorf("QEMU left behind:\n%s", out)
	}
}

// TestLabCheck runs the whole scenario matrix as CI does.
// VITRINE_LAB_RUN narrows it to a --run pattern.
func TestLabCheck(t *testing.T) {
	labEnabled(t)
	bin := buildLab(t)
	tmp := t.TempDir()
	args := []string{"check", "--out", filepath.Join(tmp, "out")}
	if p := os.Getenv("VITRINE_LAB_RUN"); p != "" {
		args = append(args, "--run", p)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	t.Logf("vitrine-lab check:\n%s", stdout.String())
	noQEMULeft(t, tmp)
	if err != nil {
		t.Fatalf("vitrine-lab check: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, " passed, 0 failed") {
		t.Errorf("last line %q", last)
	}
}

// TestLabCatchesFailures proves, with real boots, that the lab can fail:
// a console screendump judged against a wrong expectation fails, and a
// guest command's failing status comes back from `run`.
func TestLabCatchesFailures(t *testing.T) {
	labEnabled(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	root, err := lab.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	env, err := lab.Prepare(ctx, log, lab.PrepareOptions{Source: root, BinDir: filepath.Join(tmp, "bin")})
	if err != nil && !errors.Is(err, lab.ErrVitrineBuild) {
		t.Fatal(err)
	}

	t.Run("wrong-screendump-expectation", func(t *testing.T) {
		s := lab.ConsoleScenario("console-wrong", "virtio")
		// Red and blue swapped: the guest draws red top-left.
		s.Screendumps["console"] = lab.ConsoleQuadrantRegions(lab.ConsoleBlue, lab.ConsoleRed, lab.ConsoleGreen, lab.ConsoleGrey)
		o := env.RunScenario(ctx, &s, filepath.Join(tmp, "out", s.Name), false)
		if o.Err == nil {
			t.Fatal("a screendump judged against swapped colours passed")
		}
		if !strings.Contains(o.Err.Error(), "differs from the expectation") || !strings.Contains(o.Err.Error(), "top-left") {
			t.Errorf("failure does not explain the difference: %v", o.Err)
		}
		t.Logf("failed as it must:\n%v", o.Err)
		right := lab.ConsoleScenario("console-right", "virtio")
		if o := env.RunScenario(ctx, &right, filepath.Join(tmp, "out", right.Name), false); o.Err != nil {
			t.Errorf("the same screendump with the right expectation failed: %v", o.Err)
		}
	})

	t.Run("failing-command-fails-check", func(t *testing.T) {
		s := lab.Scenario{Name: "fails", Command: "echo trying; false"}
		o := env.RunScenario(ctx, &s, filepath.Join(tmp, "out", s.Name), false)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "exited 1, want 0") {
			t.Errorf("a failing guest command gave %v", o.Err)
		}
	})

	t.Run("run-exit-status", func(t *testing.T) {
		bin := buildLab(t)
		cmd := exec.Command(bin, "run", "--require-vitrine=false", "--out", filepath.Join(tmp, "out", "run"), "--", "echo failing on purpose; exit 3")
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Fatalf("run exited %v, want status 3:\n%s", err, out)
		}
		if !strings.Contains(string(out), "guest| failing on purpose") {
			t.Errorf("guest output not streamed with its prefix:\n%s", out)
		}
	})

	for _, pid := range env.Started() {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("QEMU pid %d still exists (kill 0: %v)", pid, err)
		}
	}
	noQEMULeft(t, tmp)
	env.Close()
}

// TestRunTimeoutKillsQEMU checks the per-run timeout through the CLI:
// status 124, a message naming the timeout, and no QEMU afterwards.
func TestRunTimeoutKillsQEMU(t *testing.T) {
	labEnabled(t)
	bin := buildLab(t)
	tmp := t.TempDir()
	cmd := exec.Command(bin, "run", "--require-vitrine=false", "--timeout", "20s", "--out", filepath.Join(tmp, "out"), "--", "echo stuck; sleep 600")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitTimeout {
		t.Fatalf("run exited %v, want status %d:\n%s", err, exitTimeout, out)
	}
	if !strings.Contains(string(out), "guest timed out after 20s while the command was running; QEMU killed") {
		t.Errorf("no clear timeout message:\n%s", out)
	}
	if d := time.Since(start); d > 50*time.Second {
		t.Errorf("a 20s timeout took %s", d)
	}
	noQEMULeft(t, tmp)
}

func TestDispatchUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := dispatch([]string{"vitrine-lab", "frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("unknown command: status %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{"/lab/bin/lab-screendump"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage: lab-screendump") {
		t.Errorf("lab-screendump without NAME: status %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{"vitrine-lab", "run", "--display", "vga", "--", "true"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown display") {
		t.Errorf("bad display: status %d, %q", code, errb.String())
	}
	out.Reset()
	if code := dispatch([]string{"vitrine-lab", "check", "--list"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "console-virtio") {
		t.Errorf("check --list: status %d, %q", code, out.String())
	}
}

func TestPrefixWriter(t *testing.T) {
	var buf bytes.Buffer
	w := &prefixWriter{w: &buf, prefix: "> "}
	io.WriteString(w, "one\r\ntw")
	io.WriteString(w, "o\nthree")
	if got := buf.String(); got != "> one\n> two\n> three" {
		t.Errorf("got %q", got)
	}
}
