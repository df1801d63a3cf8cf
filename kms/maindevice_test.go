package kms

import (
	"strings"
	"testing"
)

func TestNodeIDRefusesWhatIsNotADRMNode(t *testing.T) {
	for _, p := range []string{"/dev/null", t.TempDir()} {
		if _, err := NodeID(p); err == nil || !strings.Contains(err.Error(), "not a DRM device node") {
			t.Errorf("NodeID(%s) = %v, want a 'not a DRM device node' error", p, err)
		}
	}
	if _, err := NodeID("/nonexistent/renderD128"); err == nil {
		t.Error("NodeID of a missing path succeeded")
	}
}

// TestChooseMainDeviceWithoutDevices: no usable node gives ID 0 and says
// so, instead of a made-up path.
func TestChooseMainDeviceWithoutDevices(t *testing.T) {
	m := ChooseMainDevice(nil, []DeviceInfo{{Path: "/dev/null", Node: NodeRender}, {Path: "/nonexistent/card0", Node: NodePrimary}})
	if m.ID != 0 || m.Why != "no DRM device" {
		t.Errorf("got %+v", m)
	}
}
