package scene_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/render"
	"github.com/vitrine-wm/vitrine/scene/headless"
)

// zwlr_output_manager_v1 and friends, spoken raw.
const (
	mgrCreateConfiguration = 0
	mgrStop                = 1
	mgrEvHead              = 0
	mgrEvDone              = 1
	mgrEvFinished          = 2

	headEvName      = 0
	headEvMode      = 3
	headEvTransform = 7
	headEvScale     = 8
	headEvFinished  = 9
	headRelease     = 0

	cfgEnableHead  = 0
	cfgDisableHead = 1
	cfgApply       = 2
	cfgTest        = 3
	cfgDestroy     = 4
	cfgSucceeded   = 0
	cfgFailed      = 1
	cfgCancelled   = 2

	cheadSetMode      = 0
	cheadSetTransform = 3
	cheadSetScale     = 4
)

// outputHeads is what a client's output manager was told.
type outputHeads struct {
	h       *protocoltest.Client
	manager uint32
	serial  uint32
	heads   map[string]uint32   // head id by output name
	modes   map[uint32][]uint32 // mode ids by head id
}

// bindOutputManager binds zwlr_output_manager_v1 and reads the heads up
// to the first done.
func bindOutputManager(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) *outputHeads {
	t.Helper()
	oh := &outputHeads{h: h, heads: map[string]uint32{}, modes: map[uint32][]uint32{}}
	oh.manager = bind(h, reg, g["zwlr_output_manager_v1"][0], "zwlr_output_manager_v1", 4)
	oh.readUntilDone(t)
	return oh
}

// readUntilDone reads manager events up to the next done and returns the
// other events it saw.
func (oh *outputHeads) readUntilDone(t *testing.T) []protocoltest.Event {
	t.Helper()
	var seen []protocoltest.Event
	isHead := map[uint32]bool{}
	for id := range oh.modes {
		isHead[id] = true
	}
	for {
		e, err := oh.h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for zwlr_output_manager_v1.done: %v", err)
		}
		switch {
		case e.Object == 1 && e.Opcode == 0:
			t.Fatalf("protocol error: %s", e.String(2))
		case e.Object == oh.manager && e.Opcode == mgrEvHead:
			isHead[e.Uint(0)] = true
			oh.modes[e.Uint(0)] = nil
		case e.Object == oh.manager && e.Opcode == mgrEvDone:
			oh.serial = e.Uint(0)
			return seen
		case isHead[e.Object] && e.Opcode == headEvName:
			oh.heads[e.String(0)] = e.Object
		case isHead[e.Object] && e.Opcode == headEvMode:
			oh.modes[e.Object] = append(oh.modes[e.Object], e.Uint(0))
		}
		seen = append(seen, e)
	}
}

// configure makes a configuration with serial enabling every head with
// no changes but those set asks for, and returns its id.
func (oh *outputHeads) configure(serial uint32, set func(head, chead uint32)) uint32 {
	cfg := oh.h.NewID()
	oh.h.Send(oh.manager, mgrCreateConfiguration, cfg, serial)
	for _, head := range oh.heads {
		ch := oh.h.NewID()
		oh.h.Send(cfg, cfgEnableHead, ch, head)
		if set != nil {
			set(head, ch)
		}
	}
	return cfg
}

// answer waits for the configuration's succeeded, failed or cancelled.
func (oh *outputHeads) answer(t *testing.T, cfg uint32) uint16 {
	t.Helper()
	for {
		e, err := oh.h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("no answer to the configuration: %v", err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object == cfg {
			return e.Opcode
		}
	}
}

// twoOutputs runs a compositor with HEADLESS-1 (320x240) and HEADLESS-2
// (640x480) and returns it once the second is advertised.
func twoOutputs(t *testing.T) (*inProcess, *headless.Output) {
	t.Helper()
	p := startInProcess(t, 320, 240, render.Normal)
	h, _, reg := p.dial(t)
	second := p.addOutput(t, "HEADLESS-2", 640, 480)
	waitRegistry(t, h, reg, 0)
	return p, second
}

func TestOutputManagerListsAndConfiguresHeads(t *testing.T) {
	p, out2 := twoOutputs(t)
	h, g, reg := p.dial(t)
	oh := bindOutputManager(t, h, g, reg)
	if len(oh.heads) != 2 || oh.heads["HEADLESS-1"] == 0 || oh.heads["HEADLESS-2"] == 0 {
		t.Fatalf("heads %v, want HEADLESS-1 and HEADLESS-2", oh.heads)
	}
	second := oh.heads["HEADLESS-2"]
	// test: validated, answered, nothing changes.
	cfg := oh.configure(oh.serial, func(head, ch uint32) {
		if head == second {
			h.Send(ch, cheadSetTransform, int32(1))
		}
	})
	h.Send(cfg, cfgTest)
	if a := oh.answer(t, cfg); a != cfgSucceeded {
		t.Fatalf("test of a 90° transform answered %d, want succeeded", a)
	}
	if err := h.Roundtrip(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	if tr := transformOf(p, out2); tr != render.Normal {
		t.Fatalf("HEADLESS-2 transform %v after a test, want it unchanged", tr)
	}
	// failed: a scale out of vitrine's range; nothing changes either.
	cfg = oh.configure(oh.serial, func(head, ch uint32) {
		if head == second {
			h.Send(ch, cheadSetScale, int32(20*256))
		}
	})
	h.Send(cfg, cfgApply)
	if a := oh.answer(t, cfg); a != cfgFailed {
		t.Fatalf("apply of scale 20 answered %d, want failed", a)
	}
	// apply: the head reports the new transform with a new serial.
	old := oh.serial
	cfg = oh.configure(oh.serial, func(head, ch uint32) {
		if head == second {
			h.Send(ch, cheadSetTransform, int32(1))
		}
	})
	h.Send(cfg, cfgApply)
	if a := oh.answer(t, cfg); a != cfgSucceeded {
		t.Fatalf("apply of a 90° transform answered %d, want succeeded", a)
	}
	evs := oh.readUntilDone(t)
	told := false
	for _, e := range evs {
		if e.Object == second && e.Opcode == headEvTransform && e.Uint(0) == 1 {
			told = true
		}
	}
	if !told || oh.serial == old {
		t.Fatalf("after the apply: transform 90 told %v, serial %d (was %d)", told, oh.serial, old)
	}
	if tr := transformOf(p, out2); tr != render.Rotate90 {
		t.Fatalf("HEADLESS-2 transform %v after the apply, want 90", tr)
	}
	// A configuration made before that change is cancelled.
	stale := oh.configure(old, nil)
	h.Send(stale, cfgApply)
	if a := oh.answer(t, stale); a != cfgCancelled {
		t.Fatalf("apply with a stale serial answered %d, want cancelled", a)
	}
	// Disabling is not something vitrine does: failed, not an error.
	cfg = oh.h.NewID()
	h.Send(oh.manager, mgrCreateConfiguration, cfg, oh.serial)
	h.Send(cfg, cfgEnableHead, h.NewID(), oh.heads["HEADLESS-1"])
	h.Send(cfg, cfgDisableHead, second)
	h.Send(cfg, cfgApply)
	if a := oh.answer(t, cfg); a != cfgFailed {
		t.Fatalf("disabling a head answered %d, want failed", a)
	}
	// Unplugging an output finishes its head and starts a new serial.
	p.comp.Post(func() { p.comp.RemoveOutput(p.out) })
	before := oh.serial
	evs = oh.readUntilDone(t)
	finished := false
	for _, e := range evs {
		if e.Object == oh.heads["HEADLESS-1"] && e.Opcode == headEvFinished {
			finished = true
		}
	}
	if !finished || oh.serial == before {
		t.Fatalf("unplug: head finished %v, serial %d (was %d)", finished, oh.serial, before)
	}
}

// transformOf reads o's transform on the loop, which changes it.
func transformOf(p *inProcess, o *headless.Output) render.Transform {
	got := make(chan render.Transform, 1)
	p.comp.Post(func() { got <- o.Transform() })
	return <-got
}

// Hostile output configurations: each is a protocol error for its
// client alone.
var hostileOutputConfigs = []struct {
	name   string
	do     func(oh *outputHeads)
	object func(oh *outputHeads) uint32 // the object the error names; 0: any
	code   uint32
	msg    string
}{
	{"apply twice", func(oh *outputHeads) {
		cfg := oh.configure(oh.serial, nil)
		oh.h.Send(cfg, cfgApply)
		oh.h.Send(cfg, cfgApply)
	}, nil, 3, "already applied or tested"},
	{"a head configured twice", func(oh *outputHeads) {
		cfg := oh.configure(oh.serial, nil)
		oh.h.Send(cfg, cfgDisableHead, oh.heads["HEADLESS-1"])
	}, nil, 1, "configured twice"},
	{"a head left out", func(oh *outputHeads) {
		cfg := oh.h.NewID()
		oh.h.Send(oh.manager, mgrCreateConfiguration, cfg, oh.serial)
		oh.h.Send(cfg, cfgEnableHead, oh.h.NewID(), oh.heads["HEADLESS-1"])
		oh.h.Send(cfg, cfgTest)
	}, nil, 2, "HEADLESS-2 is missing"},
	{"a mode of another head", func(oh *outputHeads) {
		other := oh.modes[oh.heads["HEADLESS-2"]][0]
		oh.configure(oh.serial, func(head, ch uint32) {
			if head == oh.heads["HEADLESS-1"] {
				oh.h.Send(ch, cheadSetMode, other)
			}
		})
	}, nil, 2, "is a mode of head HEADLESS-2, not of HEADLESS-1"},
	{"a transform outside the enum", func(oh *outputHeads) {
		oh.configure(oh.serial, func(head, ch uint32) { oh.h.Send(ch, cheadSetTransform, int32(8)) })
	}, nil, 4, "transform 8"},
	{"a transform set twice", func(oh *outputHeads) {
		oh.configure(oh.serial, func(head, ch uint32) {
			oh.h.Send(ch, cheadSetTransform, int32(0))
			oh.h.Send(ch, cheadSetTransform, int32(1))
		})
	}, nil, 1, "transform of head"},
	{"a zero scale", func(oh *outputHeads) {
		oh.configure(oh.serial, func(head, ch uint32) { oh.h.Send(ch, cheadSetScale, int32(0)) })
	}, nil, 5, "not positive"},
	{"a released head", func(oh *outputHeads) {
		head := oh.heads["HEADLESS-1"]
		oh.h.Send(head, headRelease)
		cfg := oh.h.NewID()
		oh.h.Send(oh.manager, mgrCreateConfiguration, cfg, oh.serial)
		oh.h.Send(cfg, cfgEnableHead, oh.h.NewID(), head)
	}, func(*outputHeads) uint32 { return 1 }, 0, "invalid object"},
	{"a destroyed configuration", func(oh *outputHeads) {
		cfg := oh.configure(oh.serial, nil)
		oh.h.Send(cfg, cfgDestroy)
		oh.h.Send(cfg, cfgApply)
	}, func(*outputHeads) uint32 { return 1 }, 0, "invalid object"},
	{"requests after stop", func(oh *outputHeads) {
		oh.h.Send(oh.manager, mgrStop)
		oh.h.Send(oh.manager, mgrCreateConfiguration, oh.h.NewID(), oh.serial)
	}, func(*outputHeads) uint32 { return 1 }, 0, "invalid object"},
}

func TestHostileOutputConfigurationsDisconnectOnlyTheirClient(t *testing.T) {
	p, _ := twoOutputs(t)
	bystander, bg, breg := p.dial(t)
	watcher := bindOutputManager(t, bystander, bg, breg)
	for _, tc := range hostileOutputConfigs {
		t.Run(tc.name, func(t *testing.T) {
			h, g, reg := p.dial(t)
			oh := bindOutputManager(t, h, g, reg)
			tc.do(oh)
			e, err := h.WaitError(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("wl_display.error code %d %q, want code %d with %q", e.Code, e.Message, tc.code, tc.msg)
			}
			if tc.object != nil && e.Object != tc.object(oh) {
				t.Fatalf("error names object %d, want %d", e.Object, tc.object(oh))
			}
			t.Logf("disconnected with: object %d code %d %q", e.Object, e.Code, e.Message)
			// The other client is served as before: a configuration of
			// its own still gets its answer.
			cfg := watcher.configure(watcher.serial, nil)
			bystander.Send(cfg, cfgTest)
			if a := watcher.answer(t, cfg); a != cfgSucceeded {
				t.Fatalf("the bystander's test answered %d, want succeeded", a)
			}
		})
	}
}

// TestOutputManagerAppliesScale: a scale set through output management
// is reported by the head, by wl_output.scale (rounded up) and in the
// logical size of xdg_output; the shadow keeps the mode's pixels.
func TestOutputManagerAppliesScale(t *testing.T) {
	p := startInProcess(t, 320, 240, render.Normal)
	h, g, reg := p.dial(t)
	out := bind(h, reg, g["wl_output"][0], "wl_output", 4)
	xm := bind(h, reg, g["zxdg_output_manager_v1"][0], "zxdg_output_manager_v1", 3)
	xo := h.NewID()
	h.Send(xm, 1, xo, out)
	oh := bindOutputManager(t, h, g, reg)
	head := oh.heads["HEADLESS-1"]
	cfg := oh.configure(oh.serial, func(hd, ch uint32) {
		if hd == head {
			h.Send(ch, cheadSetScale, int32(384)) // 1.5
		}
	})
	h.Send(cfg, cfgApply)
	var headScale, outScale int32
	var logical [2]int32
	answered, done := false, false
	for !answered || !done {
		e, err := h.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("after applying scale 1.5: %v", err)
		}
		switch {
		case e.Object == 1 && e.Opcode == 0:
			t.Fatalf("protocol error: %s", e.String(2))
		case e.Object == cfg:
			if e.Opcode != cfgSucceeded {
				t.Fatalf("apply of scale 1.5 answered %d, want succeeded", e.Opcode)
			}
			answered = true
		case e.Object == oh.manager && e.Opcode == mgrEvDone:
			done = answered
		case e.Object == head && e.Opcode == headEvScale:
			headScale = int32(e.Uint(0))
		case e.Object == out && e.Opcode == 3:
			outScale = int32(e.Uint(0))
		case e.Object == xo && e.Opcode == 1:
			logical = [2]int32{int32(e.Uint(0)), int32(e.Uint(1))}
		}
	}
	if headScale != 384 || outScale != 2 || logical != [2]int32{213, 160} {
		t.Fatalf("after scale 1.5: head scale %d/256, wl_output.scale %d, xdg_output logical size %v; want 384, 2, [213 160]", headScale, outScale, logical)
	}
	if s := p.out.Shadow(); s.Width != 320 || s.Height != 240 {
		t.Fatalf("shadow %dx%d, want the mode's 320x240", s.Width, s.Height)
	}
}
