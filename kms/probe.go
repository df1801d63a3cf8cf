package kms

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/kms/dmabuf"
)

// ProbeReport describes every DRM device and which dma-bufs each display
// device can import: what `vitrine probe` prints.
type ProbeReport struct {
	Devices []DeviceReport `json:"devices"`
	Imports []ImportResult `json:"imports"`
	// Allocators: buffers from the system-memory allocators a client
	// without a GPU uses (udmabuf, dma-heaps) imported into each display.
	Allocators []ImportResult `json:"allocators"`
	// PlaneTests: for each display, plane, format (XRGB8888, ARGB8888,
	// NV12 where the plane lists it) and allocator (dumb buffers of
	// every card, udmabuf, dma-heaps), whether the buffer imports and
	// the plane takes it in a TEST_ONLY commit. Needs DRM master: run
	// it with no compositor on the devices.
	PlaneTests []PlaneTest `json:"plane_tests"`
}

// DeviceReport is one DRM node.
type DeviceReport struct {
	DeviceInfo
	Driver      string            `json:"driver,omitempty"`
	DriverDesc  string            `json:"driver_description,omitempty"`
	Caps        map[string]uint64 `json:"caps,omitempty"`
	Atomic      bool              `json:"atomic"`
	Master      bool              `json:"master"`
	CRTCs       []uint32          `json:"crtcs,omitempty"`
	Connectors  []ConnectorReport `json:"connectors,omitempty"`
	Planes      []PlaneReport     `json:"planes,omitempty"`
	Error       string            `json:"error,omitempty"`
	ResourceErr string            `json:"resources_error,omitempty"`
}

// ConnectorReport is one connector.
type ConnectorReport struct {
	ID       uint32   `json:"id"`
	Name     string   `json:"name"`
	Status   string   `json:"status"`
	MmWidth  int      `json:"mm_width"`
	MmHeight int      `json:"mm_height"`
	Make     string   `json:"make,omitempty"`
	Model    string   `json:"model,omitempty"`
	Modes    []string `json:"modes"` // "1920x1080@60.000", preferred marked with a trailing "*"
}

// PlaneReport is one plane.
type PlaneReport struct {
	ID            uint32         `json:"id"`
	Type          string         `json:"type"`
	PossibleCrtcs uint32         `json:"possible_crtcs"`
	Formats       []FormatReport `json:"formats"`
	InFormats     bool           `json:"in_formats"` // modifiers known from IN_FORMATS
	Rotation      []string       `json:"rotation,omitempty"`
	DamageClips   bool           `json:"fb_damage_clips"`
}

// FormatReport is a format and its modifiers.
type FormatReport struct {
	Format    string   `json:"format"`
	Modifiers []string `json:"modifiers,omitempty"`
}

// ImportResult is one cell of the import matrix: a dumb buffer of From
// exported as a dma-buf and imported into To, then made a framebuffer.
// Each step holds "ok", an errno name (EINVAL, ENODEV, ...) or "" when it
// was not reached.
type ImportResult struct {
	From       string `json:"from"`
	FromDriver string `json:"from_driver"`
	To         string `json:"to"`
	ToDriver   string `json:"to_driver"`
	Export     string `json:"export"`
	Import     string `json:"import"`
	AddFB2     string `json:"addfb2"`
	Summary    string `json:"summary"`
}

// Probe inspects every DRM node under /sys/class/drm and tries dma-buf
// import between every pair of primary nodes. It needs no DRM master and
// changes no display state.
func Probe() (*ProbeReport, error) {
	infos, err := ListDevices("/sys", "/dev")
	if err != nil {
		return nil, err
	}
	return ProbeDevices(infos), nil
}

// ProbeDevices is Probe over a given device list.
func ProbeDevices(infos []DeviceInfo) *ProbeReport {
	rep := &ProbeReport{}
	var open []*Device
	defer func() {
		for _, d := range open {
			d.Close()
		}
	}()
	for _, info := range infos {
		dr := DeviceReport{DeviceInfo: info}
		d, err := Open(info.Path)
		if err != nil {
			dr.Error = err.Error()
			rep.Devices = append(rep.Devices, dr)
			continue
		}
		describe(d, &dr)
		rep.Devices = append(rep.Devices, dr)
		if info.Node == NodePrimary {
			open = append(open, d)
		} else {
			d.Close()
		}
	}
	for _, from := range open {
		for _, to := range open {
			rep.Imports = append(rep.Imports, tryImport(from, to))
		}
	}
	for _, to := range open {
		if !to.hasKMS() {
			continue
		}
		rep.Allocators = append(rep.Allocators, tryAllocator("udmabuf", to, func(size int) (int, error) {
			fd, memfd, err := dmabuf.Udmabuf(size)
			if err == nil {
				unix.Close(memfd)
			}
			return fd, err
		}))
		for _, heap := range dmabuf.Heaps() {
			rep.Allocators = append(rep.Allocators, tryAllocator("dma-heap:"+heap, to, func(size int) (int, error) {
				return dmabuf.HeapAlloc(heap, size)
			}))
		}
	}
	for _, to := range open {
		if to.hasKMS() {
			rep.PlaneTests = append(rep.PlaneTests, testPlanes(to, open)...)
		}
	}
	return rep
}

// hasKMS reports whether d is a display device (vgem is not).
func (d *Device) hasKMS() bool {
	res, err := d.Resources()
	return err == nil && len(res.CRTCs) > 0
}

// tryAllocator imports a buffer from a system-memory allocator into a
// display device as a framebuffer, as a client's would be for scanout.
func tryAllocator(name string, to *Device, alloc func(size int) (int, error)) (r ImportResult) {
	r = ImportResult{From: name, FromDriver: name, To: to.Path(), ToDriver: to.Driver()}
	defer func() { r.Summary = r.summary() }()
	fd, err := alloc(probeSize * probeSize * 4)
	if err != nil {
		r.Export = errnoName(err)
		return r
	}
	defer unix.Close(fd)
	r.Export = "ok"
	handle, err := to.ImportDMABUF(fd)
	if err != nil {
		r.Import = errnoName(err)
		return r
	}
	r.Import = "ok"
	defer to.CloseHandle(handle)
	fb, err := to.AddFB2(probeSize, probeSize, FormatXRGB8888, ModifierInvalid, []FBPlane{{Handle: handle, Pitch: probeSize * 4}})
	if err != nil {
		r.AddFB2 = errnoName(err)
		return r
	}
	to.RmFB(fb)
	r.AddFB2 = "ok"
	return r
}

func describe(d *Device, dr *DeviceReport) {
	dr.Driver, dr.DriverDesc = d.Driver(), d.DriverDescription()
	dr.Caps = map[string]uint64{}
	for _, c := range capNames {
		if v, err := d.Cap(c.Cap); err == nil {
			dr.Caps[c.Name] = v
		}
	}
	if d.Node() != NodePrimary {
		return
	}
	dr.Master = d.IsMaster()
	dr.Atomic = d.EnableAtomic()
	res, err := d.Resources()
	if err != nil {
		// Render-only drivers (vgem, v3d) have no KMS: EOPNOTSUPP here.
		dr.ResourceErr = errnoName(err)
		return
	}
	dr.CRTCs = res.CRTCs
	for _, id := range res.Connectors {
		c, err := d.Connector(id)
		if err != nil {
			continue
		}
		cr := ConnectorReport{ID: id, Name: c.Name, Status: connectionName(c.Connection), MmWidth: c.MmWidth, MmHeight: c.MmHeight}
		if edid, err := d.ConnectorEDID(c); err == nil && edid != nil {
			if info, err := ParseEDID(edid); err == nil {
				cr.Make, cr.Model = info.Make, info.Model
			}
		}
		for _, m := range c.Modes {
			s := m.String()
			if m.Preferred {
				s += "*"
			}
			cr.Modes = append(cr.Modes, s)
		}
		dr.Connectors = append(dr.Connectors, cr)
	}
	planes, err := d.Planes()
	if err != nil {
		return
	}
	for _, p := range planes {
		pr := PlaneReport{ID: p.ID, Type: planeTypeName(p.Type()), PossibleCrtcs: p.PossibleCrtcs, DamageClips: p.Props.Has("FB_DAMAGE_CLIPS")}
		if rot, ok := p.Props["rotation"]; ok {
			for _, e := range rot.Enums {
				pr.Rotation = append(pr.Rotation, e.Name)
			}
		}
		if fms, ok, err := d.InFormats(p); err == nil && ok {
			pr.InFormats = true
			for _, fm := range fms {
				fr := FormatReport{Format: FourCC(fm.Format)}
				for _, m := range fm.Modifiers {
					fr.Modifiers = append(fr.Modifiers, ModifierName(m))
				}
				pr.Formats = append(pr.Formats, fr)
			}
		} else {
			for _, f := range p.Formats {
				pr.Formats = append(pr.Formats, FormatReport{Format: FourCC(f)})
			}
		}
		dr.Planes = append(dr.Planes, pr)
	}
}

func connectionName(c uint32) string {
	switch c {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	}
	return "unknown"
}

func planeTypeName(t uint64) string {
	switch t {
	case PlanePrimary:
		return "primary"
	case PlaneCursor:
		return "cursor"
	}
	return "overlay"
}

const probeSize = 256 // pixels on a side of the probe buffer: small, and a multiple of every tiling

// tryImport exports a dumb buffer from one device and imports it into
// another (possibly the same) as a framebuffer.
func tryImport(from, to *Device) (r ImportResult) {
	r = ImportResult{From: from.Path(), FromDriver: from.Driver(), To: to.Path(), ToDriver: to.Driver()}
	defer func() { r.Summary = r.summary() }()
	buf, err := from.CreateDumb(probeSize, probeSize, 32)
	if err != nil {
		r.Export = errnoName(err)
		return r
	}
	defer from.DestroyDumb(buf)
	fd, err := from.ExportDMABUF(buf.Handle)
	if err != nil {
		r.Export = errnoName(err)
		return r
	}
	defer unix.Close(fd)
	r.Export = "ok"
	handle, err := to.ImportDMABUF(fd)
	if err != nil {
		r.Import = errnoName(err)
		return r
	}
	r.Import = "ok"
	// Importing into the exporting device hands back the original handle;
	// closing it would free the dumb buffer under DestroyDumb.
	if to != from {
		defer to.CloseHandle(handle)
	}
	fb, err := to.AddFB2(probeSize, probeSize, FormatXRGB8888, ModifierInvalid, []FBPlane{{Handle: handle, Pitch: uint32(buf.Pitch)}})
	if err != nil {
		r.AddFB2 = errnoName(err)
		return r
	}
	to.RmFB(fb)
	r.AddFB2 = "ok"
	return r
}

// summary words a result the way the lab notes do.
func (r ImportResult) summary() string {
	switch {
	case r.Export != "ok" && r.From == r.To:
		return fmt.Sprintf("own buffers only (export %s)", r.Export)
	case r.Export != "ok":
		return fmt.Sprintf("%s (%s cannot export)", r.Export, r.FromDriver)
	case r.Import != "ok":
		return "import " + r.Import
	case r.AddFB2 != "ok":
		return "import ok, ADDFB2 " + r.AddFB2
	}
	return "import + ADDFB2 ok"
}

// WriteText prints the report for people.
func (rep *ProbeReport) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, d := range rep.Devices {
		fmt.Fprintf(&b, "%s (%s)", d.Path, d.NodeName)
		if d.Driver != "" {
			fmt.Fprintf(&b, " driver %s", d.Driver)
		}
		if d.KernelDrv != "" {
			fmt.Fprintf(&b, " [%s]", d.KernelDrv)
		}
		b.WriteString("\n")
		if d.Error != "" {
			fmt.Fprintf(&b, "  error: %s\n", d.Error)
			continue
		}
		keys := make([]string, 0, len(d.Caps))
		for k := range d.Caps {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("  caps:")
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, d.Caps[k])
		}
		b.WriteString("\n")
		if d.NodeName != "primary" {
			continue
		}
		if d.ResourceErr != "" {
			fmt.Fprintf(&b, "  no KMS (%s)\n", d.ResourceErr)
			continue
		}
		fmt.Fprintf(&b, "  atomic=%v master=%v crtcs=%v\n", d.Atomic, d.Master, d.CRTCs)
		for _, c := range d.Connectors {
			fmt.Fprintf(&b, "  connector %d %s: %s", c.ID, c.Name, c.Status)
			if c.Make != "" || c.Model != "" {
				fmt.Fprintf(&b, " (%s %s)", c.Make, c.Model)
			}
			if c.MmWidth > 0 {
				fmt.Fprintf(&b, " %dx%dmm", c.MmWidth, c.MmHeight)
			}
			b.WriteString("\n")
			if len(c.Modes) > 0 {
				fmt.Fprintf(&b, "    modes: %s\n", strings.Join(c.Modes, " "))
			}
		}
		for _, p := range d.Planes {
			fmt.Fprintf(&b, "  plane %d %s crtcs=%#x damage_clips=%v", p.ID, p.Type, p.PossibleCrtcs, p.DamageClips)
			if len(p.Rotation) > 0 {
				fmt.Fprintf(&b, " rotation=%s", strings.Join(p.Rotation, ","))
			}
			b.WriteString("\n    formats:")
			for _, f := range p.Formats {
				b.WriteString(" " + f.Format)
				if len(f.Modifiers) > 0 {
					fmt.Fprintf(&b, "(%s)", strings.Join(f.Modifiers, ","))
				}
			}
			b.WriteString("\n")
		}
	}
	if len(rep.Imports) > 0 {
		b.WriteString("dma-buf import (dumb buffer exported from row, imported into column):\n")
		for _, r := range rep.Imports {
			fmt.Fprintf(&b, "  %s (%s) -> %s (%s): %s\n", r.From, r.FromDriver, r.To, r.ToDriver, r.Summary)
		}
	}
	if len(rep.Allocators) > 0 {
		b.WriteString("client allocators (a buffer from the allocator shown on the display: scanout, or copy when it fails):\n")
		for _, r := range rep.Allocators {
			verdict := "scanout possible"
			if r.Outcome() != "ok" {
				verdict = "copy path (" + r.Outcome() + ")"
			}
			fmt.Fprintf(&b, "  %s -> %s (%s): %s\n", r.From, r.To, r.ToDriver, verdict)
		}
	}
	if len(rep.PlaneTests) > 0 {
		b.WriteString("planes (a buffer of the format from the allocator on the plane, TEST_ONLY with the mode set):\n")
		for _, t := range rep.PlaneTests {
			if t.Plane == 0 {
				fmt.Fprintf(&b, "  %s (%s): not tested (%s)\n", t.Device, t.Driver, t.TestOnly)
				continue
			}
			fmt.Fprintf(&b, "  %s plane %d %s %s %s from %s: %s\n", t.Device, t.Plane, t.PlaneType, t.Format, t.Size, t.Allocator, t.Outcome())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Outcome condenses a result to "ok" (the buffer became a framebuffer on
// To) or the first errno name that stopped it.
func (r ImportResult) Outcome() string {
	for _, step := range []string{r.Export, r.Import, r.AddFB2} {
		if step != "ok" {
			return step
		}
	}
	return "ok"
}

// shortDriver drops the "-drm" some drivers append to their name
// ("bochs-drm"), so reports compare with notes that say "bochs".
func shortDriver(name string) string { return strings.TrimSuffix(name, "-drm") }

// CompareImportMatrix checks the report's import results against expected
// outcomes keyed by [from driver, into driver] (short names: "virtio_gpu",
// "bochs", "cirrus", "vgem"), each "ok" or an errno name. It returns one
// line per mismatch or missing pair; none means the matrix reproduces.
func (rep *ProbeReport) CompareImportMatrix(expected map[[2]string]string) []string {
	got := map[[2]string]string{}
	for _, r := range rep.Imports {
		got[[2]string{shortDriver(r.FromDriver), shortDriver(r.ToDriver)}] = r.Outcome()
	}
	keys := make([][2]string, 0, len(expected))
	for k := range expected {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0]+"\x00"+keys[i][1] < keys[j][0]+"\x00"+keys[j][1]
	})
	var diffs []string
	for _, k := range keys {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s -> %s: not probed (want %s)", k[0], k[1], expected[k]))
		case g != expected[k]:
			diffs = append(diffs, fmt.Sprintf("%s -> %s: got %s, want %s", k[0], k[1], g, expected[k]))
		}
	}
	return diffs
}
