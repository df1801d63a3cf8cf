package kms

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Flags for atomic commits and legacy page flips (drm_mode.h).
const (
	PageFlipEvent      = 0x01
	PageFlipAsync      = 0x02
	AtomicTestOnly     = 0x0100
	AtomicNonblock     = 0x0200
	AtomicAllowModeset = 0x0400
)

// AtomicRequest collects property changes for one atomic commit. The kernel
// wants them grouped by object; Add keeps that grouping whatever the order
// of calls.
type AtomicRequest struct {
	objs   []uint32
	props  [][]uint32
	values [][]uint64
}

// Add sets property prop of object obj to value. A zero prop (a property the
// object lacks) is an error at Commit, not a silent no-op.
func (r *AtomicRequest) Add(obj, prop uint32, value uint64) {
	i := 0
	for i < len(r.objs) && r.objs[i] != obj {
		i++
	}
	if i == len(r.objs) {
		r.objs = append(r.objs, obj)
		r.props = append(r.props, nil)
		r.values = append(r.values, nil)
	}
	for j, p := range r.props[i] {
		if p == prop {
			r.values[i][j] = value
			return
		}
	}
	r.props[i] = append(r.props[i], prop)
	r.values[i] = append(r.values[i], value)
}

// Len is the number of property changes in the request.
func (r *AtomicRequest) Len() int {
	n := 0
	for _, p := range r.props {
		n += len(p)
	}
	return n
}

// Commit submits the request. flags combine AtomicTestOnly, AtomicNonblock,
// AtomicAllowModeset and PageFlipEvent; userData comes back in the
// page-flip event of every CRTC in the request.
func (d *Device) Commit(r *AtomicRequest, flags uint32, userData uint64) error {
	counts := make([]uint32, len(r.objs))
	var props []uint32
	var values []uint64
	for i := range r.objs {
		for j, p := range r.props[i] {
			if p == 0 {
				return fmt.Errorf("%s: atomic commit: object %d: property missing", d.path, r.objs[i])
			}
			props = append(props, p)
			values = append(values, r.values[i][j])
		}
		counts[i] = uint32(len(r.props[i]))
	}
	objs := append([]uint32(nil), r.objs...)
	a := modeAtomic{Flags: flags, CountObjs: uint32(len(objs)), UserData: userData}
	var pins runtime.Pinner
	a.ObjsPtr = addr(&pins, objs)
	a.CountPropsPtr = addr(&pins, counts)
	a.PropsPtr = addr(&pins, props)
	a.PropValuesPtr = addr(&pins, values)
	err := d.ioctl(ioctlModeAtomic, unsafe.Pointer(&a))
	pins.Unpin()
	if err != nil {
		what := "commit"
		if flags&AtomicTestOnly != 0 {
			what = "test"
		}
		return fmt.Errorf("%s: DRM_IOCTL_MODE_ATOMIC %s (flags %#x, %d properties): %w", d.path, what, flags, len(props), err)
	}
	return nil
}

// SetCRTC is the legacy modeset: show fb on crtc driving connectors with
// mode. fb 0 with no connectors and no mode turns the CRTC off.
func (d *Device) SetCRTC(crtc, fb uint32, x, y uint32, connectors []uint32, mode *Mode) error {
	c := modeCrtc{CrtcID: crtc, FbID: fb, X: x, Y: y, CountConnectors: uint32(len(connectors))}
	if mode != nil {
		c.Mode = mode.info
		c.ModeValid = 1
	}
	conns := append([]uint32(nil), connectors...)
	var pins runtime.Pinner
	c.SetConnectorsPtr = addr(&pins, conns)
	err := d.ioctl(ioctlModeSetCrtc, unsafe.Pointer(&c))
	pins.Unpin()
	if err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_MODE_SETCRTC crtc %d fb %d: %w", d.path, crtc, fb, err)
	}
	return nil
}

// PageFlip is the legacy flip: show fb on crtc at the next vblank. With
// PageFlipEvent, a flip-complete event carrying userData follows.
func (d *Device) PageFlip(crtc, fb uint32, flags uint32, userData uint64) error {
	f := modeCrtcPageFlip{CrtcID: crtc, FbID: fb, Flags: flags, UserData: userData}
	if err := d.ioctl(ioctlModePageFlip, unsafe.Pointer(&f)); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_MODE_PAGE_FLIP crtc %d fb %d: %w", d.path, crtc, fb, err)
	}
	return nil
}
