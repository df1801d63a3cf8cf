package scene_test

import (
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/headless"
	"github.com/vitrine-wm/vitrine/scene/present"
)

// TestAppOutput: with AppOutputs (--app-output), a toplevel whose
// app_id is listed is configured at its output's size and enters that
// output's wl_output; others stay on the first output.
func TestAppOutput(t *testing.T) {
	r := startRigConfig(t, 64, 64, 60000, render.Normal, protocol.Options{}, func(c *scene.Config) {
		c.AppOutputs = map[string]string{"org.example.Second": "HEADLESS-2"}
	})
	second, err := headless.New(r.srv.Loop(), "HEADLESS-2", 96, 48, 60000, render.Normal, func(i present.Info) {})
	must(t, err)
	t.Cleanup(func() { second.Close() })
	r.onLoop(t, func() { r.comp.AddOutput(second) })
	// open maps a toplevel with app_id and returns its configure size
	// and the wl_output it entered.
	open := func(appID string) (w, h uint32, entered uint32, outputs map[uint32]string) {
		t.Helper()
		c := r.dial(t)
		reg := getRegistry(t, c)
		outputs = map[uint32]string{}
		// Bind every wl_output, named by the order of the globals.
		regID, names := listGlobals(t, c, "wl_output")
		for i, name := range names {
			id := c.NewID()
			must(t, c.Send(regID, 0, name, "wl_output", uint32(4), id))
			outputs[id] = []string{"HEADLESS-1", "HEADLESS-2"}[i]
		}
		comp := reg.bind(t, "wl_compositor", 4)
		wm := reg.bind(t, "xdg_wm_base", 1)
		surf, xs, top := c.NewID(), c.NewID(), c.NewID()
		must(t, c.Send(comp, 0, surf))
		must(t, c.Send(wm, 2, xs, surf))
		must(t, c.Send(xs, 1, top))
		if appID != "" {
			must(t, c.Send(top, 3, appID))
		}
		must(t, c.Send(surf, 6))
		for {
			e, err := c.Read(3 * time.Second)
			must(t, err)
			if e.Object == top && e.Opcode == 0 {
				w, h = e.Uint(0), e.Uint(1)
			}
			if e.Object == xs && e.Opcode == 0 {
				must(t, c.Send(xs, 4, e.Uint(0)))
				break
			}
		}
		// Map it with a buffer of the configured size.
		hs := &hostileRig{rig: r}
		pool := hs.shmPool(t, c, int(w*h*4))
		buf := c.NewID()
		must(t, c.Send(pool, 0, buf, int32(0), int32(w), int32(h), int32(w*4), uint32(1)))
		must(t, c.Send(surf, 1, buf, int32(0), int32(0)))
		must(t, c.Send(surf, 6))
		for {
			e, err := c.Read(3 * time.Second)
			must(t, err)
			if e.Object == 1 && e.Opcode == 0 {
				t.Fatalf("protocol error: %s", e.String(2))
			}
			if e.Object == surf && e.Opcode == 0 {
				return w, h, e.Uint(0), outputs
			}
		}
	}
	w, h, entered, outs := open("org.example.Second")
	if w != 96 || h != 48 || outs[entered] != "HEADLESS-2" {
		t.Fatalf("org.example.Second: configured %dx%d, entered %s; want 96x48 on HEADLESS-2", w, h, outs[entered])
	}
	w, h, entered, outs = open("org.example.Other")
	if w != 64 || h != 64 || outs[entered] != "HEADLESS-1" {
		t.Fatalf("org.example.Other: configured %dx%d, entered %s; want 64x64 on HEADLESS-1", w, h, outs[entered])
	}
}

// listGlobals returns the names of iface's globals in announcement
// order.
func listGlobals(t *testing.T, c *protocoltest.Client, iface string) (uint32, []uint32) {
	t.Helper()
	reg, sync := c.NewID(), c.NewID()
	must(t, c.Send(1, 1, reg))
	must(t, c.Send(1, 0, sync))
	var names []uint32
	for {
		e, err := c.Read(3 * time.Second)
		must(t, err)
		if e.Object == reg && e.Opcode == 0 && e.String(1) == iface {
			names = append(names, e.Uint(0))
		}
		if e.Object == sync {
			return reg, names
		}
	}
}
