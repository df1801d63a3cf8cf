package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const sampleLog = `{"time":"t","level":"INFO","msg":"output added","name":"VGA-1","size":{"X":1024,"Y":768},"event":"output.added"}
output-added VGA-1 1024x768
{"time":"t","level":"DEBUG","msg":"frame","output":"VGA-1","event":"frame"}
{"time":"t","level":"DEBUG","msg":"frame","output":"VGA-1","event":"frame"}
{"time":"t","level":"INFO","msg":"output power","output":"VGA-1","on":false,"event":"output.power"}
{"time":"t","level":"ERROR","msg":"present failed","output":"VGA-1"}
`

func TestVitrineEvents(t *testing.T) {
	evs := vitrineEvents(strings.Split(sampleLog, "\n"))
	if len(evs) != 5 {
		t.Fatalf("%d records, want 5 (the client's line skipped)", len(evs))
	}
	if n := countEvents(evs, "frame", "output", "VGA-1"); n != 2 {
		t.Errorf("%d frame events, want 2", n)
	}
	if n := countEvents(evs, "output.power", "output", "VGA-1", "on", "false"); n != 1 {
		t.Errorf("%d power-off events, want 1", n)
	}
	if n := countEvents(evs, "output.power", "on", "true"); n != 0 {
		t.Errorf("%d power-on events, want 0", n)
	}
	if p := errorEvents(evs); len(p) != 1 || !strings.Contains(p[0], "present failed") {
		t.Errorf("errors %q", p)
	}
	if w, h, ok := eventSize(findEvents(evs, "output.added")[0]); !ok || w != 1024 || h != 768 {
		t.Errorf("size %dx%d %v", w, h, ok)
	}
}

// TestEventShell runs the guest's helpers in busybox sh, as the guest
// does.
func TestEventShell(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox is not installed (Debian: busybox-static; the lab needs it)")
	}
	log := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(log, []byte(sampleLog), 0o644); err != nil {
		t.Fatal(err)
	}
	script := eventShell + `fail() { echo "FAIL: $*"; exit 1; }
pid=$$
echo frames=$(matchev ` + log + ` frame)
echo off=$(matchev ` + log + ` output.power '"output":"VGA-1"' '"on":false')
echo on=$(matchev ` + log + ` output.power '"on":true')
awaitev ` + log + ` output.added 1 'VGA-1 added' '"name":"VGA-1"'
echo awaited
`
	out, err := exec.Command(bb, "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got, want := string(out), "frames=2\noff=1\non=0\nawaited\n"; got != want {
		t.Fatalf("printed %q, want %q", got, want)
	}
}
