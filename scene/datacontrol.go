package scene

import (
	"slices"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/datacontrol"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// zwlr_data_control_manager_v1: clipboard tools (wl-copy, wl-paste,
// clipboard managers) read and set both selections without a surface or
// keyboard focus. That lets them see everything anyone copies, so the
// global is offered to privileged clients only.

const dataControlVersion = 2

func (c *Compositor) bindDataControl(pc *protocol.Client, v, id uint32) error {
	res, err := datacontrol.NewDataControlManagerV1(pc, id, v)
	if err == nil {
		res.Handler = dataControlManager{c}
	}
	return err
}

type dataControlManager struct{ c *Compositor }

func (m dataControlManager) CreateDataSource(_ *datacontrol.DataControlManagerV1, res *datacontrol.DataControlSourceV1) error {
	src := &controlSource{res: res}
	res.Handler = src
	res.OnDestroy(func() { m.c.sourceGone(src) })
	return nil
}

func (m dataControlManager) GetDataDevice(_ *datacontrol.DataControlManagerV1, res *datacontrol.DataControlDeviceV1, _ *wl.Seat) error {
	c := m.c
	d := &dataControlDevice{c: c, res: res}
	res.Handler = d
	c.sel.controls = append(c.sel.controls, d)
	res.OnDestroy(func() {
		c.sel.controls = slices.DeleteFunc(c.sel.controls, func(x *dataControlDevice) bool { return x == d })
	})
	// The protocol sends the selections on creation.
	d.sendSelection(clipboardSelection)
	d.sendSelection(primarySelection)
	return nil
}

func (dataControlManager) Destroy(*datacontrol.DataControlManagerV1) error { return nil }

type controlSource struct {
	res   *datacontrol.DataControlSourceV1
	mimes mimeList
	used  bool
}

func (s *controlSource) owner() *protocol.Client  { return s.res.Client() }
func (s *controlSource) mimeTypes() []string      { return s.mimes }
func (s *controlSource) send(mime string, fd int) { s.res.SendSend(mime, fd) }
func (s *controlSource) replaced()                { s.res.SendCancelled() }

func (s *controlSource) Offer(r *datacontrol.DataControlSourceV1, mime string) error {
	if s.used {
		return protocol.NewError(r, datacontrol.DataControlSourceV1ErrorInvalidOffer, "offer after the source was set as a selection")
	}
	if !s.mimes.add(mime) {
		return protocol.NewError(r, protocol.ErrNoMemory, "too many MIME types: the limit is %d per source", maxMIMETypes)
	}
	return nil
}

func (s *controlSource) Destroy(*datacontrol.DataControlSourceV1) error { return nil }

type dataControlDevice struct {
	c   *Compositor
	res *datacontrol.DataControlDeviceV1
}

func (d *dataControlDevice) set(r *datacontrol.DataControlDeviceV1, kind selectionKind, ws *datacontrol.DataControlSourceV1) error {
	var src selectionSource
	if ws != nil {
		cs := ws.Handler.(*controlSource)
		if cs.used {
			return protocol.NewError(r, datacontrol.DataControlDeviceV1ErrorUsedSource, "zwlr_data_control_source_v1#%d was already used", ws.ID())
		}
		cs.used = true
		src = cs
	}
	d.c.setSelection(kind, src)
	return nil
}

func (d *dataControlDevice) SetSelection(r *datacontrol.DataControlDeviceV1, ws *datacontrol.DataControlSourceV1) error {
	return d.set(r, clipboardSelection, ws)
}

func (d *dataControlDevice) SetPrimarySelection(r *datacontrol.DataControlDeviceV1, ws *datacontrol.DataControlSourceV1) error {
	return d.set(r, primarySelection, ws)
}

func (d *dataControlDevice) Destroy(*datacontrol.DataControlDeviceV1) error { return nil }

func (d *dataControlDevice) sendSelection(kind selectionKind) {
	if kind == primarySelection && d.res.Version() < 2 {
		return
	}
	var res *datacontrol.DataControlOfferV1
	if cur := d.c.sel.current[kind]; cur != nil {
		res = &datacontrol.DataControlOfferV1{}
		protocol.RegisterServer(d.res.Client(), res, datacontrol.DataControlOfferV1Interface, d.res.Version())
		res.Handler = &controlOffer{c: d.c, kind: kind, src: cur}
		d.res.SendDataOffer(res)
		for _, m := range cur.mimeTypes() {
			res.SendOffer(m)
		}
	}
	if kind == clipboardSelection {
		d.res.SendSelection(res)
	} else {
		d.res.SendPrimarySelection(res)
	}
}

type controlOffer struct {
	c    *Compositor
	kind selectionKind
	src  selectionSource
}

func (o *controlOffer) Receive(r *datacontrol.DataControlOfferV1, mime string, fd int) error {
	o.c.offerRead(o.src, o.c.sel.current[o.kind] == o.src, r.Client(), mime, fd)
	return nil
}

func (o *controlOffer) Destroy(*datacontrol.DataControlOfferV1) error { return nil }
