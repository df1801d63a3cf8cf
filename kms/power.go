package kms

import (
	"fmt"
	"unsafe"
)

// Legacy DPMS property values (DRM_MODE_DPMS_*).
const (
	dpmsOn  = 0
	dpmsOff = 3
)

// SetConnectorProperty sets a connector property the legacy way
// (DRM_IOCTL_MODE_SETPROPERTY), for drivers driven without atomic.
func (d *Device) SetConnectorProperty(connID, propID uint32, value uint64) error {
	a := modeConnectorSetProperty{Value: value, PropID: propID, ConnectorID: connID}
	if err := d.ioctl(ioctlModeSetProperty, unsafe.Pointer(&a)); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_MODE_SETPROPERTY connector %d: %w", d.path, connID, err)
	}
	return nil
}

// SetPower switches the display off (atomic: the CRTC's ACTIVE to 0,
// keeping its mode, so coming back is a plain modeset; legacy: the
// connector's DPMS property) or back on, blocking until done. Off, the
// output takes no frames: the caller stops presenting until it is on
// again, and then repaints everything (the cursor plane included).
func (o *Output) SetPower(on bool) error {
	if o.closed {
		return fmt.Errorf("output %s: closed", o.name)
	}
	if on == !o.off {
		return nil
	}
	var err error
	switch {
	case o.atomic && !on:
		req := &AtomicRequest{}
		req.Add(o.crtcID, o.crtcProps.ID("ACTIVE"), 0)
		err = o.dev.Commit(req, AtomicAllowModeset, 0)
	case o.atomic:
		// The CRTC kept its mode and plane: Resume lights it again with
		// the buffer last shown.
		o.off = false
		err = o.Resume()
		if err != nil {
			o.off = true
		}
		o.log.Debug("display power", "on", true, "atomic", true)
		return err
	case o.connProps.Has("DPMS"):
		v := uint64(dpmsOff)
		if on {
			v = dpmsOn
		}
		err = o.dev.SetConnectorProperty(o.connID, o.connProps.ID("DPMS"), v)
	default:
		return fmt.Errorf("output %s: no DPMS property and no atomic modesetting: cannot switch the display off", o.name)
	}
	if err != nil {
		return fmt.Errorf("output %s: power %v: %w", o.name, on, err)
	}
	o.off = !on
	o.log.Debug("display power", "on", on, "atomic", o.atomic)
	return nil
}
