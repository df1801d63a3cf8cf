package scene

import (
	"errors"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
)

// The seat has two selections, the clipboard and the primary selection
// (middle-click paste). Three protocols set and read them:
// wl_data_device, zwp_primary_selection_device_v1 and, for privileged
// clipboard tools, zwlr_data_control_device_v1. Whichever set it, a
// selection is a source owned by one client; readers get offers, and a
// read hands the reader's pipe to the source's client. The data goes
// from one client to the other through that pipe: vitrine never reads
// it.

// selectionKind names one of the seat's two selections.
type selectionKind int

const (
	clipboardSelection selectionKind = iota
	primarySelection
)

// selectionSource is a client's data for a selection, whatever protocol
// it came through.
type selectionSource interface {
	mimeTypes() []string
	// send asks the owner to write the data as mime into fd; the caller
	// keeps fd (the event carries a duplicate).
	send(mime string, fd int)
	// replaced tells the owner its data is no longer the selection.
	replaced()
}

// maxMIMETypes and maxMIMEBytes bound the MIME types of one source:
// toolkits offer a dozen short ones; each is copied into every offer
// sent to every reader.
const (
	maxMIMETypes = 256
	maxMIMEBytes = 16 << 10
)

// mimeList is a source's MIME types, without duplicates.
type mimeList []string

// add records mime; false when the source already has too many.
func (l *mimeList) add(mime string) bool {
	if slices.Contains(*l, mime) {
		return true
	}
	total := len(mime)
	for _, m := range *l {
		total += len(m)
	}
	if len(*l) >= maxMIMETypes || total > maxMIMEBytes {
		return false
	}
	*l = append(*l, mime)
	return true
}

// selectionState is the seat's selections and who hears about them.
type selectionState struct {
	current [2]selectionSource
	// serial is the serial of the request that set each selection
	// through wl_data_device or the primary selection device: a request
	// with an older serial comes from an older user action and loses.
	serial [2]uint32
	// focus is the client that was last told the selections because it
	// got keyboard focus.
	focus *protocol.Client

	dataDevices    []*dataDevice
	primaryDevices []*primaryDevice
	controls       []*dataControlDevice
	// controlsPending: the selection of that kind changed since data
	// control devices were last told; they are told once per loop
	// iteration, so a client replacing the selection in a tight loop
	// cannot queue an offer per request on every clipboard tool.
	controlsPending [2]bool

	drag *drag
}

// focusClient is the client with keyboard focus, the only one (besides
// data-control clients) that hears of the selections.
func (c *Compositor) focusClient() *protocol.Client {
	if s := c.in.kbFocus; s != nil && !s.destroyed {
		return s.res.Client()
	}
	return nil
}

// setSelection makes src (nil: nothing) the selection of that kind and
// tells the readers.
func (c *Compositor) setSelection(kind selectionKind, src selectionSource) {
	sel := &c.sel
	old := sel.current[kind]
	if old == src {
		return
	}
	sel.current[kind] = src
	if old != nil {
		old.replaced()
	}
	c.announceSelection(kind)
	c.tellBridge(kind)
}

// sourceGone clears the selection src was.
func (c *Compositor) sourceGone(src selectionSource) {
	for kind, cur := range c.sel.current {
		if cur == src {
			c.sel.current[kind] = nil
			c.announceSelection(selectionKind(kind))
			c.tellBridge(selectionKind(kind))
		}
	}
}

// announceSelection sends the focused client's devices and every data
// control device a new offer for the selection (or none).
func (c *Compositor) announceSelection(kind selectionKind) {
	focus := c.focusClient()
	if kind == clipboardSelection {
		for _, d := range c.sel.dataDevices {
			if d.res.Client() == focus {
				d.sendSelection()
			}
		}
	} else {
		for _, d := range c.sel.primaryDevices {
			if d.res.Client() == focus {
				d.sendSelection()
			}
		}
	}
	c.sel.controlsPending[kind] = true
}

// announceToControls tells data control devices of the selections that
// changed in this loop iteration.
func (c *Compositor) announceToControls() {
	for kind, pending := range c.sel.controlsPending {
		if !pending {
			continue
		}
		c.sel.controlsPending[kind] = false
		for _, d := range c.sel.controls {
			d.sendSelection(selectionKind(kind))
		}
	}
}

// selectionFocusChanged tells a client that gets keyboard focus what the
// selections are, as it is about to get wl_keyboard.enter.
func (c *Compositor) selectionFocusChanged() {
	focus := c.focusClient()
	if focus == c.sel.focus {
		return
	}
	c.sel.focus = focus
	if focus == nil {
		return
	}
	for _, d := range c.sel.dataDevices {
		if d.res.Client() == focus {
			d.sendSelection()
		}
	}
	for _, d := range c.sel.primaryDevices {
		if d.res.Client() == focus {
			d.sendSelection()
		}
	}
}

// checkSelectionSerial says whether a client may set a selection with
// serial: it must have keyboard focus (a client in the background does
// not get to replace what the user copied), and the serial must be one
// the compositor sent and not older than the current selection's.
func (c *Compositor) checkSelectionSerial(pc *protocol.Client, kind selectionKind, serial uint32) error {
	if c.focusClient() != pc {
		return errors.New("the client does not have keyboard focus")
	}
	if int32(serial-c.srv.Serial()) > 0 {
		return errors.New("serial was never sent")
	}
	if c.sel.current[kind] != nil && int32(serial-c.sel.serial[kind]) < 0 {
		return errors.New("serial is older than the current selection's")
	}
	return nil
}

// offerRead hands a reader's fd to src, when src is still what the
// offer stands for; it always closes fd.
func (c *Compositor) offerRead(src selectionSource, valid bool, reader *protocol.Client, mime string, fd int) {
	defer unix.Close(fd)
	if src == nil || !valid {
		// A stale offer: the reader sees an empty transfer (EOF).
		c.log.Debug("selection read on a stale offer", "pid", reader.PID, "mime", mime)
		return
	}
	if err := writableFD(fd); err != nil {
		c.log.Debug("selection read with an fd the source could not write", "pid", reader.PID, "err", err)
		return
	}
	src.send(mime, fd)
}

// writableFD checks that fd can be written: a source given the read end
// of a pipe, or an O_PATH descriptor, would fail to write it, and some
// clients die of that.
func writableFD(fd int) error {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if fl&unix.O_PATH != 0 || fl&unix.O_ACCMODE == unix.O_RDONLY {
		return errors.New("fd is not open for writing")
	}
	return nil
}
