package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
)

// GTK 4 presents a window through xdg-activation: asked with no user
// input behind it, the window stays below; asked right after the user
// clicked the app (a virtual pointer's click on its other window), the
// token carries the click's serial and the window is raised: grim
// shows its colour.
func TestGTKPresentRaisesOnlyAfterUserInput(t *testing.T) {
	need(t, "grim")
	needGTK(t)
	script, err := filepath.Abs("testdata/gtk-activation.py")
	if err != nil {
		t.Fatal(err)
	}
	c := startVitrine(t, "--output", "320x240", "--privileged-clients", "all", "--", "/usr/bin/python3", script)
	c.stdout.wait(t, `^presented a without input$`, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	blue, red := [3]uint8{0, 0, 0xff}, [3]uint8{0xff, 0, 0}
	if got := rgb(c.screenshot().At(40, 200)); got != blue {
		t.Fatalf("(40,200) %v after a present with no input, want B's blue still on top", got)
	}

	vp, err := protocoltest.Dial(c.socketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer vp.Close()
	g, reg, err := vp.Globals(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ptr := vp.NewID()
	vp.Send(bind(vp, g, reg, "zwlr_virtual_pointer_manager_v1", 1), 0, bind(vp, g, reg, "wl_seat", 5), ptr)
	if err := vp.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // GTK binds its wl_pointer
	const btnLeft = 0x110
	vp.Send(ptr, 1, uint32(0), uint32(160), uint32(120), uint32(320), uint32(240)) // motion_absolute
	vp.Send(ptr, 4)
	vp.Send(ptr, 2, uint32(10), uint32(btnLeft), uint32(1))
	vp.Send(ptr, 4)
	vp.Send(ptr, 2, uint32(60), uint32(btnLeft), uint32(0))
	vp.Send(ptr, 4)
	if err := vp.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	c.stdout.wait(t, `^presented a after the click$`, 10*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := rgb(c.screenshot().At(40, 200))
		if got == red {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("(40,200) %v after the click and present, want A's red raised on top", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
