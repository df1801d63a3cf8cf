package scene

import (
	"slices"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
)

// The X11 selections (CLIPBOARD and PRIMARY) and the seat's two
// selections are bridged by the X window manager: when a Wayland client
// sets a selection, the window manager takes the X selection and serves
// X clients' requests by reading the Wayland source through a pipe;
// when an X client takes one, the scene's selection becomes a source
// owned by the window manager, which answers Wayland readers by
// converting the X selection into their fd.

// Selection names one of the seat's selections.
type Selection int

const (
	// SelectionClipboard is wl_data_device's selection, X11's CLIPBOARD.
	SelectionClipboard Selection = Selection(clipboardSelection)
	// SelectionPrimary is the primary selection, X11's PRIMARY.
	SelectionPrimary Selection = Selection(primarySelection)
)

// X11SelectionBridge is the window manager's side of the bridge.
type X11SelectionBridge interface {
	// WaylandSelection says a Wayland client's data became the
	// selection (mimes), or that it has none any more (nil). It is not
	// called for the bridge's own X11 sources.
	WaylandSelection(kind Selection, mimes []string)
	// SendX11 asks for the X11 selection as mime, written into fd; the
	// bridge owns fd and closes it when done.
	SendX11(kind Selection, mime string, fd int)
}

// SetX11SelectionBridge connects the window manager (nil: disconnects
// it) and tells it the selections Wayland clients hold now.
func (c *Compositor) SetX11SelectionBridge(b X11SelectionBridge) {
	c.x11Bridge = b
	for kind := range c.sel.current {
		if src, ok := c.sel.current[kind].(*x11Source); ok && b == nil {
			src.dead = true
			c.setSelection(selectionKind(kind), nil)
		}
	}
	if b == nil {
		return
	}
	for kind := range c.sel.current {
		c.tellBridge(selectionKind(kind))
	}
}

// tellBridge passes a selection change to the bridge, unless the bridge
// made it.
func (c *Compositor) tellBridge(kind selectionKind) {
	if c.x11Bridge == nil {
		return
	}
	switch src := c.sel.current[kind].(type) {
	case nil:
		c.x11Bridge.WaylandSelection(Selection(kind), nil)
	case *x11Source:
	default:
		c.x11Bridge.WaylandSelection(Selection(kind), slices.Clone(src.mimeTypes()))
	}
}

// SetX11Selection makes an X client's selection the seat's (mimes are
// what it converts to; nil: the X selection has no owner, which clears
// the seat's selection if it was X's).
func (c *Compositor) SetX11Selection(pc *protocol.Client, kind Selection, mimes []string) {
	k := selectionKind(kind)
	if k != clipboardSelection && k != primarySelection {
		return
	}
	if mimes == nil {
		if _, ok := c.sel.current[k].(*x11Source); ok {
			c.setSelection(k, nil)
		}
		return
	}
	if len(mimes) > maxMIMETypes {
		mimes = mimes[:maxMIMETypes]
	}
	c.setSelection(k, &x11Source{c: c, pc: pc, kind: kind, mimes: mimes})
}

// ReadSelection reads the seat's selection of that kind as mime into fd
// for an X client; it always closes fd. false when there is no Wayland
// selection of that kind.
func (c *Compositor) ReadSelection(kind Selection, mime string, fd int) bool {
	k := selectionKind(kind)
	if k != clipboardSelection && k != primarySelection {
		unix.Close(fd)
		return false
	}
	src := c.sel.current[k]
	if _, ok := src.(*x11Source); ok || src == nil || !slices.Contains(src.mimeTypes(), mime) {
		unix.Close(fd)
		return false
	}
	defer unix.Close(fd)
	src.send(mime, fd)
	return true
}

// x11Source is an X client's selection, served by the window manager.
type x11Source struct {
	c     *Compositor
	pc    *protocol.Client // Xwayland's connection, whose death ends it
	kind  Selection
	mimes []string
	dead  bool
}

func (s *x11Source) owner() *protocol.Client { return s.pc }
func (s *x11Source) mimeTypes() []string     { return s.mimes }
func (s *x11Source) replaced()               { s.dead = true }

// send hands a duplicate of fd to the bridge (the caller closes fd).
func (s *x11Source) send(mime string, fd int) {
	if s.dead || s.c.x11Bridge == nil {
		return
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		s.c.log.Warn("X11 selection read: dup", "err", err)
		return
	}
	s.c.x11Bridge.SendX11(s.kind, mime, dup)
}
