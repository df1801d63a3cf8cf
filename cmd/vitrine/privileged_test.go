package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/vitrine-wm/vitrine/protocol"
)

func TestPrivilegedClientsFlag(t *testing.T) {
	for _, bad := range []string{"", "grim,,wlr-randr", "/usr/bin/grim"} {
		if _, err := privilegedClients(bad, nil); err == nil {
			t.Errorf("--privileged-clients %q accepted", bad)
		}
	}
	if _, err := privilegedClients("child", nil); err == nil {
		t.Error("--privileged-clients child accepted without a command")
	}
	if f, err := privilegedClients("all", nil); err != nil || f != nil {
		t.Fatalf("all: %v, filter set %v; want no filter", err, f != nil)
	}
	self := &protocol.Client{PID: os.Getpid()}
	if f, _ := privilegedClients("none", nil); f(self) {
		t.Fatal("none lets a client in")
	}
	// This test binary is vitrine.test.
	if f, _ := privilegedClients("grim,vitrine.test", nil); !f(self) {
		t.Fatal("a listed program is refused")
	}
	if f, _ := privilegedClients("grim", nil); f(self) || f(&protocol.Client{PID: -1}) {
		t.Fatal("a program not listed, or a client of unknown pid, is let in")
	}
	if defaultPrivileged([]string{"foot"}) != "child" || defaultPrivileged(nil) != "all" {
		t.Fatal("default: want child with a command, all without")
	}
}

// TestInProcessTree: a grandchild is in its grandparent's tree; the
// parent is not in its child's, and nothing is in the tree of no
// process.
func TestInProcessTree(t *testing.T) {
	// sh starts sleep as its child and waits for it, so the tree is
	// test -> sh -> sleep.
	sh := exec.Command("sh", "-c", "sleep 30 & echo $!; wait")
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sh.Process.Kill(); sh.Wait() }()
	var sleepPID int
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	for _, b := range buf[:n] {
		if b >= '0' && b <= '9' {
			sleepPID = sleepPID*10 + int(b-'0')
		}
	}
	defer func() {
		if p, err := os.FindProcess(sleepPID); err == nil {
			p.Kill()
		}
	}()
	me := os.Getpid()
	child := func() int { return sh.Process.Pid }
	f, _ := privilegedClients("child", child)
	switch {
	case !f(&protocol.Client{PID: sleepPID}):
		t.Errorf("sleep (pid %d), a child of the command (pid %d), is not privileged", sleepPID, sh.Process.Pid)
	case !f(&protocol.Client{PID: sh.Process.Pid}):
		t.Errorf("the command itself is not privileged")
	case f(&protocol.Client{PID: me}):
		t.Errorf("the command's parent (pid %d) is privileged", me)
	case f(&protocol.Client{PID: -1}):
		t.Errorf("a client of unknown pid is privileged")
	}
	none, _ := privilegedClients("child", func() int { return 0 })
	if none(&protocol.Client{PID: sleepPID}) {
		t.Errorf("with no command running, a process is privileged")
	}
}
