package kms

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// MainDevice is the device a compositor tells clients to allocate and
// render with (linux-dmabuf feedback's main_device), and why it was
// chosen.
type MainDevice struct {
	Path string
	ID   uint64 // dev_t
	Why  string
}

// NodeID is the dev_t of a DRM node, checking that path is one: a
// character device of the DRM major (226).
func NodeID(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != drmMajor {
		return 0, fmt.Errorf("%s is not a DRM device node (want /dev/dri/renderDN or /dev/dri/cardN)", path)
	}
	return st.Rdev, nil
}

const drmMajor = 226

// ChooseMainDevice picks the main device for clients of display (nil on
// the headless backend) among infos (ListDevices):
//
//  1. the render node of another GPU whose buffers display imports and
//     makes framebuffers of (a dumb buffer exported from that GPU's
//     primary node, as `vitrine probe` tries): clients render there and
//     their buffers can still be scanned out;
//  2. display's own render node;
//  3. the first render node: any GPU clients can render with beats a
//     display-only device, which has no render node (vc4 on a Raspberry
//     Pi, where v3d renders);
//  4. display itself.
//
// The result has ID 0 when there is no DRM device at all.
func ChooseMainDevice(display *Device, infos []DeviceInfo) MainDevice {
	ids := make([]uint64, len(infos))
	for i, info := range infos {
		ids[i], _ = NodeID(info.Path)
	}
	parent := ""
	if display != nil {
		for i, info := range infos {
			if ids[i] == display.DeviceID() {
				parent = info.Parent
			}
		}
	}
	if display != nil {
		for i, info := range infos {
			if info.Node != NodeRender || ids[i] == 0 || (parent != "" && info.Parent == parent) {
				continue
			}
			// Its primary node (same parent device) exports dumb
			// buffers; render nodes cannot create them.
			for _, p := range infos {
				if p.Node != NodePrimary || p.Parent != info.Parent || p.Parent == "" {
					continue
				}
				from, err := Open(p.Path)
				if err != nil {
					continue
				}
				r := tryImport(from, display)
				from.Close()
				if r.Import == "ok" && r.AddFB2 == "ok" {
					return MainDevice{Path: info.Path, ID: ids[i], Why: fmt.Sprintf("%s (%s) exports buffers %s imports and scans out", info.Path, r.FromDriver, display.Path())}
				}
			}
		}
		for i, info := range infos {
			if info.Node == NodeRender && ids[i] != 0 && parent != "" && info.Parent == parent {
				return MainDevice{Path: info.Path, ID: ids[i], Why: "the display device's own render node"}
			}
		}
	}
	for i, info := range infos {
		if info.Node == NodeRender && ids[i] != 0 {
			return MainDevice{Path: info.Path, ID: ids[i], Why: "the first render node"}
		}
	}
	if display != nil {
		return MainDevice{Path: display.Path(), ID: display.DeviceID(), Why: "no render node: the display device"}
	}
	for i, info := range infos {
		if ids[i] != 0 {
			return MainDevice{Path: info.Path, ID: ids[i], Why: "no render node: the first DRM device"}
		}
	}
	return MainDevice{Why: "no DRM device"}
}
