package scene

import (
	"slices"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/primaryselection"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// zwp_primary_selection_device_manager_v1: the selection middle-click
// pastes. It works as the clipboard does, with its own slot.

const primarySelectionVersion = 1

func (c *Compositor) bindPrimarySelection(pc *protocol.Client, v, id uint32) error {
	res, err := primaryselection.NewPrimarySelectionDeviceManagerV1(pc, id, v)
	if err == nil {
		res.Handler = primaryManager{c}
	}
	return err
}

type primaryManager struct{ c *Compositor }

func (m primaryManager) CreateSource(_ *primaryselection.PrimarySelectionDeviceManagerV1, res *primaryselection.PrimarySelectionSourceV1) error {
	src := &primarySource{res: res}
	res.Handler = src
	res.OnDestroy(func() { m.c.sourceGone(src) })
	return nil
}

func (m primaryManager) GetDevice(_ *primaryselection.PrimarySelectionDeviceManagerV1, res *primaryselection.PrimarySelectionDeviceV1, _ *wl.Seat) error {
	c := m.c
	d := &primaryDevice{c: c, res: res}
	res.Handler = d
	c.sel.primaryDevices = append(c.sel.primaryDevices, d)
	res.OnDestroy(func() {
		c.sel.primaryDevices = slices.DeleteFunc(c.sel.primaryDevices, func(x *primaryDevice) bool { return x == d })
	})
	if c.focusClient() == res.Client() {
		d.sendSelection()
	}
	return nil
}

func (primaryManager) Destroy(*primaryselection.PrimarySelectionDeviceManagerV1) error { return nil }

type primarySource struct {
	res   *primaryselection.PrimarySelectionSourceV1
	mimes mimeList
}

func (s *primarySource) owner() *protocol.Client  { return s.res.Client() }
func (s *primarySource) mimeTypes() []string      { return s.mimes }
func (s *primarySource) send(mime string, fd int) { s.res.SendSend(mime, fd) }
func (s *primarySource) replaced()                { s.res.SendCancelled() }

func (s *primarySource) Offer(r *primaryselection.PrimarySelectionSourceV1, mime string) error {
	if !s.mimes.add(mime) {
		return protocol.NewError(r, protocol.ErrNoMemory, "too many MIME types: the limit is %d per source", maxMIMETypes)
	}
	return nil
}

func (s *primarySource) Destroy(*primaryselection.PrimarySelectionSourceV1) error { return nil }

type primaryDevice struct {
	c   *Compositor
	res *primaryselection.PrimarySelectionDeviceV1
}

func (d *primaryDevice) SetSelection(r *primaryselection.PrimarySelectionDeviceV1, ws *primaryselection.PrimarySelectionSourceV1, serial uint32) error {
	c := d.c
	var src selectionSource
	if ws != nil {
		src = ws.Handler.(*primarySource)
	}
	if err := c.checkSelectionSerial(r.Client(), primarySelection, serial); err != nil {
		c.log.Debug("primary set_selection refused", "pid", r.Client().PID, "serial", serial, "reason", err)
		if ws != nil && c.sel.current[primarySelection] != src {
			ws.SendCancelled()
		}
		return nil
	}
	c.sel.serial[primarySelection] = serial
	c.setSelection(primarySelection, src)
	return nil
}

func (d *primaryDevice) Destroy(*primaryselection.PrimarySelectionDeviceV1) error { return nil }

func (d *primaryDevice) sendSelection() {
	cur := d.c.sel.current[primarySelection]
	if cur == nil {
		d.res.SendSelection(nil)
		return
	}
	res := &primaryselection.PrimarySelectionOfferV1{}
	protocol.RegisterServer(d.res.Client(), res, primaryselection.PrimarySelectionOfferV1Interface, d.res.Version())
	res.Handler = &primaryOffer{c: d.c, src: cur}
	d.res.SendDataOffer(res)
	for _, m := range cur.mimeTypes() {
		res.SendOffer(m)
	}
	d.res.SendSelection(res)
}

type primaryOffer struct {
	c   *Compositor
	src selectionSource
}

func (o *primaryOffer) Receive(r *primaryselection.PrimarySelectionOfferV1, mime string, fd int) error {
	o.c.offerRead(o.src, o.c.sel.current[primarySelection] == o.src, r.Client(), mime, fd)
	return nil
}

func (o *primaryOffer) Destroy(*primaryselection.PrimarySelectionOfferV1) error { return nil }
