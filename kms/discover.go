package kms

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// DeviceInfo is a DRM device node found in sysfs.
type DeviceInfo struct {
	Path      string   `json:"path"`       // /dev/dri/card0
	SysName   string   `json:"sysname"`    // card0
	Node      NodeType `json:"-"`          //
	NodeName  string   `json:"node"`       // "primary" or "render"
	Parent    string   `json:"parent"`     // sysfs path of the parent device (PCI, platform, virtual)
	KernelDrv string   `json:"bus_driver"` // driver bound to the parent device, from sysfs
}

var drmNodeName = regexp.MustCompile(`^(card|renderD)([0-9]+)$`)

// ListDevices lists the DRM nodes under sysRoot/class/drm (sysRoot is
// normally "/sys"), mapped to devRoot/dri (normally "/dev"), in minor order.
func ListDevices(sysRoot, devRoot string) ([]DeviceInfo, error) {
	dir := filepath.Join(sysRoot, "class", "drm")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list DRM devices: %w", err)
	}
	var out []DeviceInfo
	for _, e := range entries {
		m := drmNodeName.FindStringSubmatch(e.Name())
		if m == nil {
			continue // connectors (card0-HDMI-A-1), "version"
		}
		info := DeviceInfo{Path: filepath.Join(devRoot, "dri", e.Name()), SysName: e.Name(), Node: NodePrimary}
		if m[1] == "renderD" {
			info.Node = NodeRender
		}
		info.NodeName = info.Node.String()
		if p, err := filepath.EvalSymlinks(filepath.Join(dir, e.Name(), "device")); err == nil {
			info.Parent = p
			if drv, err := os.Readlink(filepath.Join(p, "driver")); err == nil {
				info.KernelDrv = filepath.Base(drv)
			}
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		return nodeOrder(out[i].SysName) < nodeOrder(out[j].SysName)
	})
	return out, nil
}

func nodeOrder(name string) int {
	m := drmNodeName.FindStringSubmatch(name)
	if m == nil {
		return 1 << 30
	}
	n, _ := strconv.Atoi(m[2])
	if m[1] == "renderD" {
		n += 1 << 20
	}
	return n
}

// OpenDisplay opens the first primary node that has a connected connector,
// the default when no --drm-device is given.
func OpenDisplay() (*Device, error) {
	devs, err := ListDevices("/sys", "/dev")
	if err != nil {
		return nil, err
	}
	var tried []string
	for _, info := range devs {
		if info.Node != NodePrimary {
			continue
		}
		d, err := Open(info.Path)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		if d.hasConnected() {
			return d, nil
		}
		tried = append(tried, info.Path+": no connected connector")
		d.Close()
	}
	return nil, fmt.Errorf("no DRM display with a connected monitor (tried %v); choose one with --drm-device", tried)
}

func (d *Device) hasConnected() bool {
	res, err := d.Resources()
	if err != nil {
		return false
	}
	for _, id := range res.Connectors {
		if c, err := d.Connector(id); err == nil && c.Connection == Connected {
			return true
		}
	}
	return false
}
