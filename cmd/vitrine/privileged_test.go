package main

import (
	"os"
	"testing"

	"github.com/vitrine-wm/vitrine/protocol"
)

func TestPrivilegedClientsFlag(t *testing.T) {
	for _, bad := range []string{"", "grim,,wlr-randr", "/usr/bin/grim"} {
		if _, err := privilegedClients(bad); err == nil {
			t.Errorf("--privileged-clients %q accepted", bad)
		}
	}
	if f, err := privilegedClients("all"); err != nil || f != nil {
		t.Fatalf("all: %v, filter set %v; want no filter", err, f != nil)
	}
	self := &protocol.Client{PID: os.Getpid()}
	if f, _ := privilegedClients("none"); f(self) {
		t.Fatal("none lets a client in")
	}
	// This test binary is vitrine.test.
	if f, _ := privilegedClients("grim,vitrine.test"); !f(self) {
		t.Fatal("a listed program is refused")
	}
	if f, _ := privilegedClients("grim"); f(self) || f(&protocol.Client{PID: -1}) {
		t.Fatal("a program not listed, or a client of unknown pid, is let in")
	}
}
