package scene_test

import (
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/cursorshape"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
)

// Hostile cursor-shape clients.

func TestHostileCursorShapeInvalid(t *testing.T) {
	for _, shape := range []uint32{0, 35, 1 << 31} {
		runHostile(t, protocol.Options{}, reaction{code: cursorshape.CursorShapeDeviceV1ErrorInvalidShape, msg: "invalid shape"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
			reg := getRegistry(t, h)
			ptr := h.NewID()
			must(t, h.Send(reg.bind(t, "wl_seat", 5), 0, ptr))
			dev := h.NewID()
			must(t, h.Send(reg.bind(t, "wp_cursor_shape_manager_v1", 1), shapeManagerGetPointer, dev, ptr))
			must(t, h.Send(dev, shapeDeviceSetShape, uint32(1), shape))
			return dev
		})
	}
}

// A device whose wl_pointer is gone, or made for a tablet tool vitrine
// never handed out, is inert: requests on it change nothing.
func TestHostileCursorShapeInertDevices(t *testing.T) {
	runHostile(t, protocol.Options{}, reaction{code: protocol.ErrInvalidObject, msg: "zwp_tablet_tool_v2"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
		reg := getRegistry(t, h)
		ptr := h.NewID()
		seat := reg.bind(t, "wl_seat", 5)
		must(t, h.Send(seat, 0, ptr))
		mgr := reg.bind(t, "wp_cursor_shape_manager_v1", 1)
		dev := h.NewID()
		must(t, h.Send(mgr, shapeManagerGetPointer, dev, ptr))
		must(t, h.Send(ptr, 1)) // release
		must(t, h.Send(dev, shapeDeviceSetShape, uint32(1), uint32(2)))
		must(t, h.Roundtrip(3*time.Second))
		// The manager's third request names a tablet tool: any object
		// here is the wrong interface.
		must(t, h.Send(mgr, 2, h.NewID(), seat))
		return 0
	})
}
