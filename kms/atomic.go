package kms

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/scene/present"
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

	// Commit's flattened arrays and pins, kept so that a request reused
	// frame after frame (Reset) commits without allocating.
	counts     []uint32
	flatProps  []uint32
	flatValues []uint64
	pins       runtime.Pinner
}

// Reset empties the request but keeps its memory for the next frame.
func (r *AtomicRequest) Reset() {
	r.objs = r.objs[:0]
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
		if i < len(r.props) {
			// Reuse the lists a Reset left behind.
			r.props[i], r.values[i] = r.props[i][:0], r.values[i][:0]
		} else {
			r.props = append(r.props, nil)
			r.values = append(r.values, nil)
		}
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
	for _, p := range r.props[:len(r.objs)] {
		n += len(p)
	}
	return n
}

// Commit submits the request. flags combine AtomicTestOnly, AtomicNonblock,
// AtomicAllowModeset and PageFlipEvent; userData comes back in the
// page-flip event of every CRTC in the request.
func (d *Device) Commit(r *AtomicRequest, flags uint32, userData uint64) error {
	counts := r.counts[:0]
	props := r.flatProps[:0]
	values := r.flatValues[:0]
	for i := range r.objs {
		for j, p := range r.props[i] {
			if p == 0 {
				return fmt.Errorf("%s: atomic commit: object %d: property missing", d.path, r.objs[i])
			}
			props = append(props, p)
			values = append(values, r.values[i][j])
		}
		counts = append(counts, uint32(len(r.props[i])))
	}
	r.counts, r.flatProps, r.flatValues = counts, props, values
	a := &d.atomicArg
	*a = modeAtomic{Flags: flags, CountObjs: uint32(len(r.objs)), UserData: userData}
	a.ObjsPtr = addr(&r.pins, r.objs)
	a.CountPropsPtr = addr(&r.pins, counts)
	a.PropsPtr = addr(&r.pins, props)
	a.PropValuesPtr = addr(&r.pins, values)
	err := d.ioctl(ioctlModeAtomic, unsafe.Pointer(a))
	r.pins.Unpin()
	if err != nil {
		what := "commit"
		if flags&AtomicTestOnly != 0 {
			what = "test"
		}
		return fmt.Errorf("%s: DRM_IOCTL_MODE_ATOMIC %s (flags %#x, %d properties): %w", d.path, what, flags, len(props), masterOnly(err))
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
		return fmt.Errorf("%s: DRM_IOCTL_MODE_SETCRTC crtc %d fb %d: %w", d.path, crtc, fb, masterOnly(err))
	}
	return nil
}

// PageFlip is the legacy flip: show fb on crtc at the next vblank. With
// PageFlipEvent, a flip-complete event carrying userData follows.
func (d *Device) PageFlip(crtc, fb uint32, flags uint32, userData uint64) error {
	f := &d.flipArg
	*f = modeCrtcPageFlip{CrtcID: crtc, FbID: fb, Flags: flags, UserData: userData}
	if err := d.ioctl(ioctlModePageFlip, unsafe.Pointer(f)); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_MODE_PAGE_FLIP crtc %d fb %d: %w", d.path, crtc, fb, masterOnly(err))
	}
	return nil
}

// masterOnly names the failure of a master-only ioctl (ATOMIC, SETCRTC,
// PAGE_FLIP, DIRTYFB): EACCES there means this fd is not DRM master now,
// which the compositor must tell from a real failure (present.ErrRevoked).
func masterOnly(err error) error {
	if errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (%w)", err, present.ErrRevoked)
	}
	return err
}
