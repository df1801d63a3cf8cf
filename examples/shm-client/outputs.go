package main

import (
	"fmt"
	"image"
	"log/slog"

	"github.com/neurlang/wayland/wl"

	"github.com/vitrine-wm/vitrine/examples/internal/report"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

// outputWatch follows the compositor's wl_output globals (--watch-outputs):
// it prints "output-added NAME WxH" once an output's first done event
// has told its name and current mode, and "output-removed NAME" when its
// global is withdrawn; with the window's surface handlers added, also
// "surface-enter NAME" and "surface-leave NAME". Its handlers run on the
// goroutine that dispatches events.
type outputWatch struct {
	out  *report.Lines
	log  *slog.Logger
	bind func(global, version uint32) (*wl.Output, error)
	// byGlobal holds every bound output, announced or not.
	byGlobal map[uint32]*watchedOutput
}

type watchedOutput struct {
	w         *outputWatch
	global    uint32
	version   uint32
	proxy     *wl.Output
	name      string
	mode      image.Point
	announced bool
}

// watchOutputs binds the outputs conn already knows and every one the
// compositor announces later.
func watchOutputs(conn *window.Conn, out *report.Lines, log *slog.Logger) *outputWatch {
	w := &outputWatch{out: out, log: log, byGlobal: map[uint32]*watchedOutput{}}
	w.bind = func(global, version uint32) (*wl.Output, error) {
		o := wl.NewOutput(conn.Context())
		if err := conn.Registry.Bind(global, "wl_output", version, o); err != nil {
			return nil, err
		}
		return o, nil
	}
	for _, g := range conn.Globals {
		w.HandleRegistryGlobal(wl.RegistryGlobalEvent{Name: g.Name, Interface: g.Interface, Version: g.Version})
	}
	conn.Registry.AddGlobalHandler(w)
	conn.Registry.AddGlobalRemoveHandler(w)
	return w
}

// HandleRegistryGlobal binds each new wl_output (version 4 at most, for
// its name event).
func (w *outputWatch) HandleRegistryGlobal(ev wl.RegistryGlobalEvent) {
	if ev.Interface != "wl_output" || w.byGlobal[ev.Name] != nil {
		return
	}
	version := min(ev.Version, 4)
	proxy, err := w.bind(ev.Name, version)
	if err != nil {
		w.log.Warn("bind wl_output", "global", ev.Name, "err", err)
		return
	}
	o := &watchedOutput{w: w, global: ev.Name, version: version, proxy: proxy}
	if proxy != nil {
		proxy.AddModeHandler(o)
		proxy.AddNameHandler(o)
		proxy.AddDoneHandler(o)
	}
	w.byGlobal[ev.Name] = o
}

// HandleRegistryGlobalRemove reports a withdrawn output and releases it.
func (w *outputWatch) HandleRegistryGlobalRemove(ev wl.RegistryGlobalRemoveEvent) {
	o := w.byGlobal[ev.Name]
	if o == nil {
		return
	}
	delete(w.byGlobal, ev.Name)
	if o.announced {
		w.out.Printf("output-removed %s", o.label())
	}
	if o.proxy == nil {
		return
	}
	if o.version >= 3 {
		if err := o.proxy.Release(); err != nil {
			w.log.Warn("release wl_output", "output", o.label(), "err", err)
		}
	}
	o.proxy.Unregister()
}

// HandleSurfaceEnter reports the window shown on an output.
func (w *outputWatch) HandleSurfaceEnter(ev wl.SurfaceEnterEvent) {
	w.out.Printf("surface-enter %s", w.labelOf(ev.Output))
}

// HandleSurfaceLeave reports the window no longer shown on an output.
func (w *outputWatch) HandleSurfaceLeave(ev wl.SurfaceLeaveEvent) {
	w.out.Printf("surface-leave %s", w.labelOf(ev.Output))
}

func (w *outputWatch) labelOf(p *wl.Output) string {
	for _, o := range w.byGlobal {
		if p != nil && o.proxy == p {
			return o.label()
		}
	}
	return "unknown-output"
}

// named returns the announced output called name, or nil.
func (w *outputWatch) named(name string) *wl.Output {
	for _, o := range w.byGlobal {
		if o.announced && o.name == name {
			return o.proxy
		}
	}
	return nil
}

func (o *watchedOutput) label() string {
	if o.name == "" {
		// Before version 4 outputs have no name.
		return fmt.Sprintf("wl_output-%d", o.global)
	}
	return o.name
}

func (o *watchedOutput) HandleOutputMode(ev wl.OutputModeEvent) {
	if ev.Flags&wl.OutputModeCurrent != 0 {
		o.mode = image.Pt(int(ev.Width), int(ev.Height))
	}
}

func (o *watchedOutput) HandleOutputName(ev wl.OutputNameEvent) { o.name = ev.Name }

// HandleOutputDone announces the output the first time its description
// is complete.
func (o *watchedOutput) HandleOutputDone(wl.OutputDoneEvent) {
	if o.announced {
		return
	}
	o.announced = true
	o.w.out.Printf("output-added %s %dx%d", o.label(), o.mode.X, o.mode.Y)
}
