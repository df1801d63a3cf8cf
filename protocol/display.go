package protocol

import (
	"fmt"
	"slices"
)

// wl_display, wl_registry and the wl_callback of wl_display.sync live in
// the runtime because the runtime itself needs them (errors, delete_id,
// globals); generated code covers every other interface.

var displayInterface = &Interface{
	Name:     "wl_display",
	Version:  1,
	Requests: []Message{{Name: "sync", Since: 1, Signature: "n"}, {Name: "get_registry", Since: 1, Signature: "n"}},
	Events:   []Message{{Name: "error", Since: 1, Signature: "ous"}, {Name: "delete_id", Since: 1, Signature: "u"}},
}

var registryInterface = &Interface{
	Name:     "wl_registry",
	Version:  1,
	Requests: []Message{{Name: "bind", Since: 1, Signature: "usun"}},
	Events:   []Message{{Name: "global", Since: 1, Signature: "usu"}, {Name: "global_remove", Since: 1, Signature: "u"}},
}

var syncCallbackInterface = &Interface{
	Name:    "wl_callback",
	Version: 1,
	Events:  []Message{{Name: "done", Since: 1, Signature: "u"}},
}

type display struct{ Resource }

func (d *display) Dispatch(op uint16, r *Reader) error {
	id := r.Uint()
	if err := r.Finish(); err != nil {
		return err
	}
	c := d.client
	switch op {
	case 0: // sync
		cb := &syncCallback{}
		if err := Register(c, cb, syncCallbackInterface, id, 1); err != nil {
			return err
		}
		w := cb.NewEvent(0)
		w.Uint(c.server.NextSerial())
		w.Send()
		cb.Destroy()
	case 1: // get_registry
		reg := &registry{}
		if err := Register(c, reg, registryInterface, id, 1); err != nil {
			return err
		}
		c.server.registries = append(c.server.registries, reg)
		reg.OnDestroy(func() {
			s := c.server
			if i := slices.Index(s.registries, reg); i >= 0 {
				s.registries = slices.Delete(s.registries, i, i+1)
			}
		})
		for _, g := range c.server.globals {
			if g.visible(c) {
				reg.announce(g)
			}
		}
	}
	return nil
}

type syncCallback struct{ Resource }

func (*syncCallback) Dispatch(uint16, *Reader) error { return nil }

type registry struct{ Resource }

func (reg *registry) announce(g *Global) {
	w := reg.NewEvent(0)
	w.Uint(g.name)
	w.String(g.iface.Name)
	w.Uint(g.version)
	w.Send()
}

func (reg *registry) Dispatch(op uint16, r *Reader) error {
	name := r.Uint()
	ifaceName, _ := r.String()
	version := r.Uint()
	id := r.Uint()
	if err := r.Finish(); err != nil {
		return err
	}
	c := reg.client
	i := slices.IndexFunc(c.server.globals, func(g *Global) bool { return g.name == name })
	if i < 0 {
		// A bind racing with global_remove is legal; the client gets an
		// object that does nothing, as libwayland arranges.
		if removed := slices.Contains(c.server.removedNames, name); removed {
			return Register(c, &inert{}, &Interface{Name: ifaceName}, id, version)
		}
		return &Error{ObjectID: reg.id, Code: ErrInvalidObject, Msg: fmt.Sprintf("invalid global %d (%s)", name, ifaceName)}
	}
	g := c.server.globals[i]
	// Before the interface check: the error for a hidden global must not
	// say what it is.
	if !g.visible(c) {
		return &Error{ObjectID: reg.id, Code: ErrInvalidObject, Msg: fmt.Sprintf("invalid global %d (%s)", name, ifaceName)}
	}
	if ifaceName != g.iface.Name {
		return &Error{ObjectID: reg.id, Code: ErrInvalidObject, Msg: fmt.Sprintf("invalid interface for global %d: have %s, wanted %s", name, g.iface.Name, ifaceName)}
	}
	if version == 0 || version > g.version {
		return &Error{ObjectID: reg.id, Code: ErrInvalidObject, Msg: fmt.Sprintf("invalid version for global %s (%d): have %d, wanted %d", g.iface.Name, name, g.version, version)}
	}
	return g.bind(c, version, id)
}

// inert stands in for a bound global that was removed meanwhile.
type inert struct{ Resource }

func (*inert) Dispatch(uint16, *Reader) error { return nil }

// Global is an object clients can bind through wl_registry.
type Global struct {
	name    uint32
	iface   *Interface
	version uint32
	bind    func(c *Client, version, id uint32) error
	// Filter, if set, hides the global from clients it returns false for.
	Filter func(c *Client) bool
}

func (g *Global) visible(c *Client) bool { return g.Filter == nil || g.Filter(c) }

// Name is the global's registry name.
func (g *Global) Name() uint32 { return g.name }

// AddGlobal advertises iface at version to every registry, now and
// later. bind must create the object with id for client c (generated
// New* helpers do) and return its error if the id is unusable.
func (s *Server) AddGlobal(iface *Interface, version uint32, bind func(c *Client, version, id uint32) error) *Global {
	g := &Global{name: s.nextName, iface: iface, version: version, bind: bind}
	s.nextName++
	s.globals = append(s.globals, g)
	for _, reg := range s.registries {
		if g.visible(reg.client) {
			reg.announce(g)
		}
	}
	return g
}

// RemoveGlobal withdraws g (an unplugged output, say).
func (s *Server) RemoveGlobal(g *Global) {
	i := slices.Index(s.globals, g)
	if i < 0 {
		return
	}
	s.globals = slices.Delete(s.globals, i, i+1)
	s.removedNames = append(s.removedNames, g.name)
	for _, reg := range s.registries {
		w := reg.NewEvent(1)
		w.Uint(g.name)
		w.Send()
	}
}
