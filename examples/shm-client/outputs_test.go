package main

import (
	"bytes"
	"io"
	"log/slog"
	"testing"

	"github.com/neurlang/wayland/wl"

	"github.com/vitrine-wm/vitrine/examples/internal/report"
)

// TestOutputWatch feeds the watcher the events a compositor sends when a
// second monitor is plugged in and pulled out again.
func TestOutputWatch(t *testing.T) {
	var buf bytes.Buffer
	w := &outputWatch{out: report.NewLines(&buf), log: slog.New(slog.NewTextHandler(io.Discard, nil)), byGlobal: map[uint32]*watchedOutput{}}
	var bound []uint32
	w.bind = func(global, version uint32) (*wl.Output, error) {
		if version != 4 {
			t.Errorf("bound wl_output version %d, want 4", version)
		}
		bound = append(bound, global)
		return nil, nil
	}
	describe := func(global uint32, name string, width, height int32) {
		o := w.byGlobal[global]
		if o == nil {
			t.Fatalf("global %d was not bound", global)
		}
		o.HandleOutputMode(wl.OutputModeEvent{Flags: 0, Width: 640, Height: 480})
		o.HandleOutputMode(wl.OutputModeEvent{Flags: wl.OutputModeCurrent | 2, Width: width, Height: height})
		o.HandleOutputName(wl.OutputNameEvent{Name: name})
		o.HandleOutputDone(wl.OutputDoneEvent{})
	}
	w.HandleRegistryGlobal(wl.RegistryGlobalEvent{Name: 1, Interface: "wl_compositor", Version: 6})
	w.HandleRegistryGlobal(wl.RegistryGlobalEvent{Name: 7, Interface: "wl_output", Version: 4})
	describe(7, "Virtual-1", 1280, 800)
	// The window's enter and leave name the output by its proxy.
	v1 := new(wl.Output)
	w.byGlobal[7].proxy = v1
	w.HandleSurfaceEnter(wl.SurfaceEnterEvent{Output: v1})
	w.HandleRegistryGlobal(wl.RegistryGlobalEvent{Name: 12, Interface: "wl_output", Version: 4})
	if w.named("Virtual-2") != nil || len(w.byGlobal) != 2 {
		t.Errorf("an output counts as named before its done event")
	}
	describe(12, "Virtual-2", 1024, 768)
	// A second done (a mode change) prints nothing more.
	w.byGlobal[12].HandleOutputDone(wl.OutputDoneEvent{})
	w.HandleRegistryGlobalRemove(wl.RegistryGlobalRemoveEvent{Name: 12})
	w.HandleSurfaceLeave(wl.SurfaceLeaveEvent{Output: v1})
	w.HandleSurfaceLeave(wl.SurfaceLeaveEvent{Output: new(wl.Output)})
	w.HandleRegistryGlobalRemove(wl.RegistryGlobalRemoveEvent{Name: 1})
	// The same connector plugged in again is a new global.
	w.HandleRegistryGlobal(wl.RegistryGlobalEvent{Name: 13, Interface: "wl_output", Version: 5})
	describe(13, "Virtual-2", 1920, 1080)

	want := "output-added Virtual-1 1280x800\nsurface-enter Virtual-1\noutput-added Virtual-2 1024x768\noutput-removed Virtual-2\nsurface-leave Virtual-1\nsurface-leave unknown-output\noutput-added Virtual-2 1920x1080\n"
	if buf.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", buf.String(), want)
	}
	if len(bound) != 3 || bound[0] != 7 || bound[1] != 12 || bound[2] != 13 {
		t.Errorf("bound globals %v, want [7 12 13]", bound)
	}
	if _, ok := w.byGlobal[12]; ok {
		t.Errorf("the removed output is still tracked")
	}
}
