package scene

import (
	"image"
	"math"
	"math/bits"
	"slices"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// dataDeviceErrorUsedSource is wl_data_device.error.used_source, added
// in wayland 1.22 (the wayland.xml here is 1.21's).
const dataDeviceErrorUsedSource = 1

// allDndActions is copy | move | ask.
const allDndActions = wl.DataDeviceManagerDndActionCopy | wl.DataDeviceManagerDndActionMove | wl.DataDeviceManagerDndActionAsk

type dataDeviceManager struct{ c *Compositor }

func (m dataDeviceManager) CreateDataSource(_ *wl.DataDeviceManager, res *wl.DataSource) error {
	src := &dataSource{c: m.c, res: res}
	if res.Version() < 3 {
		// Sources from before drag actions mean copy.
		src.actions = wl.DataDeviceManagerDndActionCopy
	}
	res.Handler = src
	res.OnDestroy(src.gone)
	return nil
}

func (m dataDeviceManager) GetDataDevice(_ *wl.DataDeviceManager, res *wl.DataDevice, _ *wl.Seat) error {
	c := m.c
	d := &dataDevice{c: c, res: res}
	res.Handler = d
	c.sel.dataDevices = append(c.sel.dataDevices, d)
	res.OnDestroy(func() {
		c.sel.dataDevices = slices.DeleteFunc(c.sel.dataDevices, func(x *dataDevice) bool { return x == d })
	})
	if c.focusClient() == res.Client() {
		d.sendSelection()
	}
	return nil
}

// dataSource is a wl_data_source: a selection or a drag's data.
type dataSource struct {
	c     *Compositor
	res   *wl.DataSource
	mimes mimeList
	// used: given to set_selection or start_drag, which a source may be
	// only once.
	used       bool
	actionsSet bool
	actions    uint32
	// action is the drag action last sent to the source.
	action uint32
	// dropped: the drop was performed on dropOffer, which may still
	// read and must finish.
	dropped   bool
	dropOffer *dataOffer
}

func (s *dataSource) mimeTypes() []string      { return s.mimes }
func (s *dataSource) send(mime string, fd int) { s.res.SendSend(mime, fd) }
func (s *dataSource) replaced()                { s.res.SendCancelled() }

func (s *dataSource) gone() {
	s.c.sourceGone(s)
	if d := s.c.sel.drag; d != nil && d.src == s {
		s.c.endDrag()
	}
}

func (s *dataSource) Offer(r *wl.DataSource, mime string) error {
	if !s.mimes.add(mime) {
		return protocol.NewError(r, protocol.ErrNoMemory, "too many MIME types: the limit is %d (%d bytes) per source", maxMIMETypes, maxMIMEBytes)
	}
	return nil
}

func (s *dataSource) Destroy(*wl.DataSource) error { return nil }

func (s *dataSource) SetActions(r *wl.DataSource, actions uint32) error {
	switch {
	case actions&^allDndActions != 0:
		return protocol.NewError(r, wl.DataSourceErrorInvalidActionMask, "invalid drag-and-drop actions %#x", actions)
	case s.actionsSet:
		return protocol.NewError(r, wl.DataSourceErrorInvalidActionMask, "set_actions may be sent only once")
	case s.used:
		return protocol.NewError(r, wl.DataSourceErrorInvalidActionMask, "set_actions after the source was used")
	}
	s.actionsSet, s.actions = true, actions
	return nil
}

// sendTarget tells the source which MIME type the target accepts; ""
// is sent as null, which is what "no type" is on the wire.
func (s *dataSource) sendTarget(mime string) {
	if mime != "" {
		s.res.SendTarget(mime)
		return
	}
	w := s.res.NewEvent(0)
	w.Uint(0)
	w.Send()
}

// dataDevice is a wl_data_device.
type dataDevice struct {
	c   *Compositor
	res *wl.DataDevice
}

func (d *dataDevice) Release(*wl.DataDevice) error { return nil }

// newDragOffer introduces a wl_data_offer for the drag's src (nil:
// none) to the device's client with the source's types and actions.
func (d *dataDevice) newDragOffer(src *dataSource) *dataOffer {
	if src == nil {
		return nil
	}
	res := &wl.DataOffer{}
	protocol.RegisterServer(d.res.Client(), res, wl.DataOfferInterface, d.res.Version())
	o := &dataOffer{c: d.c, res: res, src: src, dnd: true}
	res.Handler = o
	d.res.SendDataOffer(res)
	for _, m := range src.mimes {
		res.SendOffer(m)
	}
	res.SendSourceActions(src.actions)
	return o
}

// sendSelection sends the clipboard as it is now.
func (d *dataDevice) sendSelection() {
	if cur := d.c.sel.current[clipboardSelection]; cur != nil {
		// A selection set through data control is offered the same way:
		// an offer needs only the types and a way to reach the source.
		d.res.SendSelection(d.newSelectionOffer(cur).res)
		return
	}
	d.res.SendSelection(nil)
}

// newSelectionOffer is newOffer for a selection of any origin.
func (d *dataDevice) newSelectionOffer(src selectionSource) *dataOffer {
	res := &wl.DataOffer{}
	protocol.RegisterServer(d.res.Client(), res, wl.DataOfferInterface, d.res.Version())
	o := &dataOffer{c: d.c, res: res, sel: src}
	res.Handler = o
	d.res.SendDataOffer(res)
	for _, m := range src.mimeTypes() {
		res.SendOffer(m)
	}
	return o
}

func (d *dataDevice) SetSelection(r *wl.DataDevice, ws *wl.DataSource, serial uint32) error {
	c := d.c
	var src *dataSource
	if ws != nil {
		src = ws.Handler.(*dataSource)
		if src.used {
			return protocol.NewError(r, dataDeviceErrorUsedSource, "wl_data_source#%d was already used", ws.ID())
		}
		if src.actionsSet {
			return protocol.NewError(ws, wl.DataSourceErrorInvalidSource, "a drag-and-drop source (set_actions) cannot be the selection")
		}
		src.used = true
	}
	if err := c.checkSelectionSerial(r.Client(), clipboardSelection, serial); err != nil {
		c.log.Debug("set_selection refused", "pid", r.Client().PID, "serial", serial, "reason", err)
		if src != nil {
			src.res.SendCancelled()
		}
		return nil
	}
	c.sel.serial[clipboardSelection] = serial
	if src == nil {
		c.setSelection(clipboardSelection, nil)
	} else {
		c.setSelection(clipboardSelection, src)
	}
	return nil
}

// dataOffer is a wl_data_offer: of the clipboard (sel) or of a drag.
type dataOffer struct {
	c   *Compositor
	res *wl.DataOffer
	sel selectionSource // a clipboard offer

	// A drag's offer.
	src       *dataSource
	dnd       bool
	accepted  string
	actionSet bool
	actions   uint32
	preferred uint32
	action    uint32
	finished  bool
}

// current says whether the offer still stands for live data.
func (o *dataOffer) current() bool {
	if !o.dnd {
		return o.sel != nil && o.c.sel.current[clipboardSelection] == o.sel
	}
	if o.src == nil || !o.src.res.Alive() || o.finished {
		return false
	}
	if o.src.dropped {
		return o.src.dropOffer == o
	}
	d := o.c.sel.drag
	return d != nil && slices.Contains(d.offers, o)
}

func (o *dataOffer) Accept(r *wl.DataOffer, serial uint32, mime string) error {
	if !o.dnd || !o.current() || o.src.dropped {
		return nil
	}
	o.accepted = mime
	o.src.sendTarget(mime)
	return nil
}

func (o *dataOffer) Receive(r *wl.DataOffer, mime string, fd int) error {
	var src selectionSource = o.sel
	if o.dnd && o.src != nil {
		src = o.src
	}
	o.c.offerRead(src, o.current(), r.Client(), mime, fd)
	return nil
}

func (o *dataOffer) Destroy(*wl.DataOffer) error { return nil }

func (o *dataOffer) Finish(r *wl.DataOffer) error {
	switch {
	case !o.dnd:
		return protocol.NewError(r, wl.DataOfferErrorInvalidOffer, "finish on a selection offer")
	case o.src == nil || o.src.dropOffer != o || o.finished:
		return protocol.NewError(r, wl.DataOfferErrorInvalidFinish, "finish before the drop")
	case o.action == 0:
		return protocol.NewError(r, wl.DataOfferErrorInvalidFinish, "finish with no action chosen")
	}
	o.finished = true
	if o.src.res.Alive() {
		o.src.res.SendDndFinished()
	}
	return nil
}

func (o *dataOffer) SetActions(r *wl.DataOffer, actions, preferred uint32) error {
	switch {
	case !o.dnd:
		return protocol.NewError(r, wl.DataOfferErrorInvalidOffer, "set_actions on a selection offer")
	case actions&^allDndActions != 0:
		return protocol.NewError(r, wl.DataOfferErrorInvalidActionMask, "invalid drag-and-drop actions %#x", actions)
	case preferred != 0 && (preferred&actions == 0 || bits.OnesCount32(preferred) > 1):
		return protocol.NewError(r, wl.DataOfferErrorInvalidAction, "preferred action %#x is not one of %#x", preferred, actions)
	}
	o.actionSet, o.actions, o.preferred = true, actions, preferred
	if o.current() && !o.src.dropped {
		o.chooseAction()
	}
	return nil
}

// chooseAction picks the drag action from what source and target allow:
// the target's preference, else copy, move, ask in that order.
func (o *dataOffer) chooseAction() {
	src := o.src
	both := src.actions
	if o.res.Version() >= 3 {
		both &= o.actions
	}
	var act uint32
	if o.preferred&both != 0 {
		act = o.preferred
	} else {
		for _, a := range []uint32{wl.DataDeviceManagerDndActionCopy, wl.DataDeviceManagerDndActionMove, wl.DataDeviceManagerDndActionAsk} {
			if both&a != 0 {
				act = a
				break
			}
		}
	}
	if act != src.action {
		src.action = act
		src.res.SendAction(act)
	}
	if act != o.action {
		o.action = act
		o.res.SendAction(act)
	}
}

// --- drag-and-drop ---

// drag is a drag-and-drop in progress: the pointer is grabbed, the
// surface under it gets wl_data_device enter/motion/leave instead of
// wl_pointer events, and the button release drops.
type drag struct {
	src    *dataSource // nil: a drag within the origin's client
	client *protocol.Client
	origin *surface
	icon   *surface
	// iconOffset is the icon's top-left corner from the pointer.
	iconOffset image.Point

	target       *surface
	targetOrigin image.Point
	offers       []*dataOffer // the target's, one per data device
}

// iconRole is the role of a drag icon surface.
type iconRole struct{ c *Compositor }

const iconRoleName = "wl_data_device-icon"

func (r iconRole) precommit(s *surface) error {
	p := &s.pending
	if d := r.c.sel.drag; d != nil && d.icon == s && (p.dx != 0 || p.dy != 0) {
		r.c.damageDragIcon()
		d.iconOffset = d.iconOffset.Add(image.Pt(int(p.dx), int(p.dy)))
	}
	return nil
}

func (iconRole) committed(*surface) {}

// dragIconOrigin is where the icon's top-left corner is, global.
func (c *Compositor) dragIconOrigin() image.Point {
	in := &c.in
	return image.Pt(int(math.Floor(in.pointer[0])), int(math.Floor(in.pointer[1]))).Add(c.sel.drag.iconOffset)
}

// damageDragIcon repaints where the drag icon is.
func (c *Compositor) damageDragIcon() {
	if d := c.sel.drag; d != nil && d.icon != nil {
		c.damageSurfaceArea(d.icon)
	}
}

// withDragIcon is list with the drag icon on top, for the frames only:
// the icon never takes input.
func (o *output) withDragIcon(list []drawItem) []drawItem {
	d := o.c.sel.drag
	if d == nil || d.icon == nil || d.icon.destroyed || o.c.lock.active {
		// Behind the session lock nothing of a client but the lock
		// screen is shown, a drag icon included.
		return list
	}
	return o.c.appendTree(list, d.icon, o.c.dragIconOrigin().Sub(o.pos))
}

func (d *dataDevice) StartDrag(r *wl.DataDevice, ws *wl.DataSource, worigin, wicon *wl.Surface, serial uint32) error {
	c := d.c
	in := &c.in
	var src *dataSource
	if ws != nil {
		src = ws.Handler.(*dataSource)
		if src.used {
			return protocol.NewError(r, dataDeviceErrorUsedSource, "wl_data_source#%d was already used", ws.ID())
		}
		src.used = true
	}
	var icon *surface
	if wicon != nil {
		icon = surfaceOf(wicon)
		if icon.roleName != "" && icon.roleName != iconRoleName {
			return protocol.NewError(r, wl.DataDeviceErrorRole, "wl_surface#%d already has role %s", wicon.ID(), icon.roleName)
		}
		icon.roleName, icon.role = iconRoleName, iconRole{c}
	}
	origin := surfaceOf(worigin)
	// A drag starts from the press the client got: the button must still
	// be down, on a surface of this client, with that press's serial.
	ok := c.sel.drag == nil && len(in.buttons) > 0 && serial == in.grabSerial &&
		in.ptrFocus != nil && in.ptrFocus.res.Client() == r.Client() && !origin.destroyed
	if !ok {
		c.log.Debug("start_drag refused", "pid", r.Client().PID, "serial", serial)
		if src != nil {
			src.res.SendCancelled()
		}
		return nil
	}
	// The grab takes the pointer from its surface for the drag.
	c.pointerLeave(c.srv.NextSerial())
	c.sel.drag = &drag{src: src, client: r.Client(), origin: origin, icon: icon}
	c.damageDragIcon()
	c.dragMotion(0)
	return nil
}

// dragMotion moves the drag to the pointer: enter and leave as it
// crosses surfaces, motion within one.
func (c *Compositor) dragMotion(ms uint32) {
	d := c.sel.drag
	in := &c.in
	s, origin := c.surfaceAt(in.pointer[0], in.pointer[1])
	if s != nil && d.src == nil && s.res.Client() != d.client {
		// A drag without a source stays within its own client.
		s = nil
	}
	lx, ly := protocol.FixedFromFloat(in.pointer[0]-float64(origin.X)), protocol.FixedFromFloat(in.pointer[1]-float64(origin.Y))
	if s == d.target {
		if s == nil {
			return
		}
		d.targetOrigin = origin
		for _, dev := range c.dataDevicesOf(s.res.Client()) {
			dev.res.SendMotion(ms, lx, ly)
		}
		return
	}
	c.dragLeave()
	if s == nil {
		return
	}
	d.target, d.targetOrigin = s, origin
	serial := c.srv.NextSerial()
	for _, dev := range c.dataDevicesOf(s.res.Client()) {
		o := dev.newDragOffer(d.src)
		var res *wl.DataOffer
		if o != nil {
			d.offers = append(d.offers, o)
			res = o.res
		}
		dev.res.SendEnter(serial, s.res, lx, ly, res)
		if o != nil && o.res.Version() < 3 {
			// Version 1 and 2 targets have no actions: copy is what
			// they mean.
			o.actions, o.preferred = wl.DataDeviceManagerDndActionCopy, wl.DataDeviceManagerDndActionCopy
		}
		if o != nil {
			o.chooseAction()
		}
	}
}

// dragLeave tells the target the drag left it, and the source that no
// target accepts its data any more.
func (c *Compositor) dragLeave() {
	d := c.sel.drag
	if d.target != nil && !d.target.destroyed {
		for _, dev := range c.dataDevicesOf(d.target.res.Client()) {
			dev.res.SendLeave()
		}
	}
	for _, o := range d.offers {
		if o.accepted != "" && d.src != nil && !d.src.dropped {
			d.src.sendTarget("")
			break
		}
	}
	d.target, d.offers = nil, nil
}

func (c *Compositor) dataDevicesOf(pc *protocol.Client) []*dataDevice {
	var out []*dataDevice
	for _, dev := range c.sel.dataDevices {
		if dev.res.Client() == pc {
			out = append(out, dev)
		}
	}
	return out
}

// dragDrop ends the drag at the button release: a target that accepted
// a type and an action gets the drop, else the source is cancelled.
func (c *Compositor) dragDrop() {
	d := c.sel.drag
	var accepted *dataOffer
	for _, o := range d.offers {
		if o.res.Alive() && o.accepted != "" && (o.res.Version() < 3 || o.action != 0) {
			accepted = o
		}
	}
	switch {
	case d.src == nil && d.target != nil:
		for _, dev := range c.dataDevicesOf(d.target.res.Client()) {
			dev.res.SendDrop()
		}
	case accepted != nil:
		for _, dev := range c.dataDevicesOf(d.target.res.Client()) {
			dev.res.SendDrop()
		}
		d.src.dropped, d.src.dropOffer = true, accepted
		d.src.res.SendDndDropPerformed()
		if accepted.res.Version() < 3 {
			// Such a target never finishes; the transfer is its business.
			d.src.res.SendDndFinished()
		}
	case d.src != nil:
		c.dragLeave()
		d.src.res.SendCancelled()
	}
	c.endDrag()
}

// endDrag ends the grab and gives the pointer back to what is under it.
func (c *Compositor) endDrag() {
	d := c.sel.drag
	if d == nil {
		return
	}
	c.dragLeave()
	c.damageDragIcon()
	c.sel.drag = nil
	c.updatePointerFocus(0)
}

// dragSurfaceGone keeps the drag consistent when one of its surfaces
// goes away.
func (c *Compositor) dragSurfaceGone(s *surface) {
	d := c.sel.drag
	if d == nil {
		return
	}
	switch s {
	case d.icon:
		d.icon = nil
	case d.target:
		d.target, d.offers = nil, nil
	case d.origin:
		if d.src == nil {
			// A drag within a client that is gone has nowhere to drop.
			c.endDrag()
		}
	}
}
