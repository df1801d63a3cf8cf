package xwm

import (
	"errors"
	"slices"
	"time"

	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/scene"
)

// The selection bridge: X11's CLIPBOARD and PRIMARY and the seat's
// clipboard and primary selection, both ways, for text. A Wayland
// selection makes the window manager the X owner, and an X client's
// request reads the Wayland source through a pipe on the loop; an X
// owner (XFixes tells when one takes a selection) becomes a scene
// source, and a Wayland reader's fd gets the X selection converted to
// UTF8_STRING.

// textMIMEs are the Wayland types of X text, best first.
var textMIMEs = []string{"text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "TEXT", "STRING"}

const (
	// maxSelection bounds what one transfer carries: it must fit in one
	// ChangeProperty without BIG-REQUESTS (INCR transfers are not done).
	maxSelection = 240 << 10
	// transferTimeout ends a transfer whose other side does not answer.
	transferTimeout = 5 * time.Second
	// maxOutgoing bounds X clients' requests served at once (each holds
	// a pipe).
	maxOutgoing = 16
)

type selections struct {
	wm  *WM
	win xproto.Window
	// owned: the window manager holds the X selection for a Wayland
	// source with these types.
	owned [2]bool
	mimes [2][]string
	// incoming are Wayland readers of an X selection, served in order.
	incoming [2][]*incoming
	outgoing int
}

// incoming is a Wayland client reading an X selection.
type incoming struct {
	fd    int
	timer *eventloop.Timer
}

func (s *selections) kindOf(sel xproto.Atom) (scene.Selection, bool) {
	switch sel {
	case s.wm.atoms.clipboard:
		return scene.SelectionClipboard, true
	case xproto.AtomPrimary:
		return scene.SelectionPrimary, true
	}
	return 0, false
}

func (s *selections) atomOf(kind scene.Selection) xproto.Atom {
	if kind == scene.SelectionPrimary {
		return xproto.AtomPrimary
	}
	return s.wm.atoms.clipboard
}

// propertyOf is where conversions of a selection land on s.win.
func (s *selections) propertyOf(kind scene.Selection) xproto.Atom {
	if kind == scene.SelectionPrimary {
		return s.wm.atoms.vitrinePrimary
	}
	return s.wm.atoms.vitrineClipboard
}

// setup runs during the handshake: the window conversions land on, and
// XFixes events for owner changes.
func (s *selections) setup(screen *xproto.ScreenInfo) error {
	x := s.wm.x
	if err := xfixes.Init(x); err != nil {
		return err
	}
	if _, err := xfixes.QueryVersion(x, 5, 0).Reply(); err != nil {
		return err
	}
	id, err := xproto.NewWindowId(x)
	if err != nil {
		return err
	}
	s.win = id
	xproto.CreateWindow(x, 0, id, screen.Root, -1, -1, 1, 1, 0, xproto.WindowClassInputOnly, screen.RootVisual,
		xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
	mask := uint32(xfixes.SelectionEventMaskSetSelectionOwner | xfixes.SelectionEventMaskSelectionWindowDestroy | xfixes.SelectionEventMaskSelectionClientClose)
	for _, sel := range []xproto.Atom{s.wm.atoms.clipboard, xproto.AtomPrimary} {
		xfixes.SelectSelectionInput(x, id, sel, mask)
	}
	return nil
}

// ownerChanged is XFixes saying who owns a selection now.
func (s *selections) ownerChanged(e xfixes.SelectionNotifyEvent) {
	kind, ok := s.kindOf(e.Selection)
	if !ok || e.Owner == s.win {
		return
	}
	s.owned[kind] = false
	if e.Owner == 0 {
		s.wm.cfg.Scene.SetX11Selection(s.wm.cfg.Client, kind, nil)
		return
	}
	s.wm.cfg.Scene.SetX11Selection(s.wm.cfg.Client, kind, slices.Clone(textMIMEs))
}

// WaylandSelection implements scene.X11SelectionBridge.
func (s *selections) WaylandSelection(kind scene.Selection, mimes []string) {
	wm := s.wm
	if wm.closed || kind < 0 || int(kind) >= len(s.owned) {
		return
	}
	s.mimes[kind] = mimes
	if s.textMIME(kind) != "" {
		xproto.SetSelectionOwner(wm.x, s.win, s.atomOf(kind), xproto.TimeCurrentTime)
		s.owned[kind] = true
		return
	}
	if s.owned[kind] {
		xproto.SetSelectionOwner(wm.x, 0, s.atomOf(kind), xproto.TimeCurrentTime)
		s.owned[kind] = false
	}
}

// textMIME is the best text type the Wayland selection offers ("": none).
func (s *selections) textMIME(kind scene.Selection) string {
	for _, m := range textMIMEs {
		if slices.Contains(s.mimes[kind], m) {
			return m
		}
	}
	return ""
}

// SendX11 implements scene.X11SelectionBridge: convert the X selection
// and write it into fd.
func (s *selections) SendX11(kind scene.Selection, mime string, fd int) {
	wm := s.wm
	if wm.closed || kind < 0 || int(kind) >= len(s.incoming) || len(s.incoming[kind]) >= maxOutgoing {
		unix.Close(fd)
		return
	}
	in := &incoming{fd: fd}
	in.timer = wm.cfg.Scene.Loop().NewTimer(func() {
		wm.log.Info("X11 selection owner did not answer; the Wayland reader gets nothing", "timeout", transferTimeout)
		s.finishIncoming(kind, in, nil)
	})
	in.timer.SetAfter(transferTimeout)
	s.incoming[kind] = append(s.incoming[kind], in)
	if len(s.incoming[kind]) == 1 {
		s.convert(kind)
	}
}

func (s *selections) convert(kind scene.Selection) {
	xproto.ConvertSelection(s.wm.x, s.win, s.atomOf(kind), s.wm.atoms.utf8String, s.propertyOf(kind), xproto.TimeCurrentTime)
}

// converted is the X owner's answer to convert.
func (s *selections) converted(e xproto.SelectionNotifyEvent) {
	kind, ok := s.kindOf(e.Selection)
	if !ok || e.Requestor != s.win || len(s.incoming[kind]) == 0 {
		return
	}
	in := s.incoming[kind][0]
	if e.Property == 0 {
		s.finishIncoming(kind, in, nil)
		return
	}
	wm := s.wm
	cookie := xproto.GetProperty(wm.x, true, s.win, e.Property, xproto.GetPropertyTypeAny, 0, maxSelection/4)
	go func() {
		r, err := cookie.Reply()
		wm.cfg.Scene.Post(func() {
			if err != nil || r == nil || r.Type == wm.atoms.incr {
				if r != nil && r.Type == wm.atoms.incr {
					wm.log.Info("X11 selection too large for one transfer (INCR): not bridged")
				}
				s.finishIncoming(kind, in, nil)
				return
			}
			s.finishIncoming(kind, in, r.Value)
		})
	}()
}

// finishIncoming writes data (nil: nothing) to the reader and starts the
// next one.
func (s *selections) finishIncoming(kind scene.Selection, in *incoming, data []byte) {
	i := slices.Index(s.incoming[kind], in)
	if i < 0 {
		return
	}
	in.timer.Stop()
	s.incoming[kind] = slices.Delete(s.incoming[kind], i, i+1)
	writeAndClose(s.wm.cfg.Scene.Loop(), in.fd, data)
	if i == 0 && len(s.incoming[kind]) > 0 {
		s.convert(kind)
	}
}

// dropAll ends every transfer (the X connection went).
func (s *selections) dropAll() {
	for kind := range s.incoming {
		for _, in := range s.incoming[kind] {
			in.timer.Stop()
			unix.Close(in.fd)
		}
		s.incoming[kind] = nil
	}
}

// request is an X client asking the window manager, as owner, for a
// Wayland selection.
func (s *selections) request(e xproto.SelectionRequestEvent) {
	wm, a := s.wm, &s.wm.atoms
	kind, ok := s.kindOf(e.Selection)
	prop := e.Property
	if prop == 0 {
		prop = e.Target // ICCCM: obsolete requestors
	}
	if !ok || e.Owner != s.win || !s.owned[kind] {
		s.notify(e, 0)
		return
	}
	switch e.Target {
	case a.targets:
		setAtomsProp(wm.x, e.Requestor, prop, []xproto.Atom{a.targets, a.utf8String, a.text, xproto.AtomString})
		s.notify(e, prop)
	case a.utf8String, a.text, xproto.AtomString:
		mime := s.textMIME(kind)
		if mime == "" || s.outgoing >= maxOutgoing {
			s.notify(e, 0)
			return
		}
		s.readWayland(e, kind, mime, prop)
	default:
		s.notify(e, 0)
	}
}

// readWayland reads the Wayland selection through a pipe on the loop,
// then hands it to the X requestor.
func (s *selections) readWayland(e xproto.SelectionRequestEvent, kind scene.Selection, mime string, prop xproto.Atom) {
	wm := s.wm
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		s.notify(e, 0)
		return
	}
	if !wm.cfg.Scene.ReadSelection(kind, mime, p[1]) {
		unix.Close(p[0])
		s.notify(e, 0)
		return
	}
	s.outgoing++
	var data []byte
	var src *eventloop.Source
	var timer *eventloop.Timer
	finish := func(ok bool) {
		src.Remove()
		timer.Stop()
		unix.Close(p[0])
		s.outgoing--
		if !ok || wm.closed {
			s.notify(e, 0)
			return
		}
		typ := wm.atoms.utf8String
		if e.Target == xproto.AtomString {
			typ = xproto.AtomString
		}
		xproto.ChangeProperty(wm.x, xproto.PropModeReplace, e.Requestor, prop, typ, 8, uint32(len(data)), data)
		s.notify(e, prop)
	}
	timer = wm.cfg.Scene.Loop().NewTimer(func() {
		wm.log.Info("Wayland selection source did not finish writing; the X client gets nothing", "timeout", transferTimeout)
		finish(false)
	})
	timer.SetAfter(transferTimeout)
	buf := make([]byte, 16<<10)
	var err error
	src, err = wm.cfg.Scene.Loop().AddFD(p[0], eventloop.Readable, func(eventloop.Events) {
		for {
			n, err := unix.Read(p[0], buf)
			switch {
			case n > 0:
				data = append(data, buf[:min(n, maxSelection-len(data))]...)
				if len(data) >= maxSelection {
					wm.log.Info("Wayland selection cut for X11", "bytes", len(data))
					finish(true)
					return
				}
				continue
			case n == 0:
				finish(true)
			case errors.Is(err, unix.EAGAIN):
			case errors.Is(err, unix.EINTR):
				continue
			default:
				finish(false)
			}
			return
		}
	})
	if err != nil {
		unix.Close(p[0])
		timer.Stop()
		s.outgoing--
		s.notify(e, 0)
	}
}

// notify answers a SelectionRequest (property 0: refused).
func (s *selections) notify(e xproto.SelectionRequestEvent, prop xproto.Atom) {
	ev := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop}
	xproto.SendEvent(s.wm.x, false, e.Requestor, xproto.EventMaskNoEvent, string(ev.Bytes()))
}

// writeAndClose writes data to a Wayland reader's fd from the loop,
// waiting for it to be writable as needed, then closes it.
func writeAndClose(loop *eventloop.Loop, fd int, data []byte) {
	if len(data) == 0 {
		unix.Close(fd)
		return
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return
	}
	var src *eventloop.Source
	var timer *eventloop.Timer
	done := func() {
		if src != nil {
			src.Remove()
		}
		if timer != nil {
			timer.Stop()
		}
		unix.Close(fd)
	}
	write := func() bool {
		for len(data) > 0 {
			n, err := unix.Write(fd, data)
			if n > 0 {
				data = data[n:]
				continue
			}
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return errors.Is(err, unix.EAGAIN)
		}
		return false
	}
	if !write() {
		done()
		return
	}
	var err error
	src, err = loop.AddFD(fd, eventloop.Writable, func(eventloop.Events) {
		if !write() {
			done()
		}
	})
	if err != nil {
		src = nil
		done()
		return
	}
	timer = loop.NewTimer(done)
	timer.SetAfter(transferTimeout)
}
