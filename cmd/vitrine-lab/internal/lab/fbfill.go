package lab

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Framebuffer describes a /dev/fbN as sysfs reports it.
type Framebuffer struct {
	Dev           string // /dev/fbN
	Name          string // e.g. virtio_gpudrmfb, bochs-drmdrmfb, cirrusdrmfb
	Width, Height int
	BitsPerPixel  int
	Stride        int
}

// FindFramebuffer returns the framebuffer whose device path or sysfs
// name matches which: "/dev/fb1", "fb1", or part of the name such as
// "bochs" (DRM's fbdev emulation names it after the driver).
func FindFramebuffer(which string) (*Framebuffer, error) {
	dirs, _ := filepath.Glob("/sys/class/graphics/fb[0-9]*")
	var names []string
	for _, d := range dirs {
		base := filepath.Base(d)
		name := readSysfs(d, "name")
		names = append(names, base+"="+name)
		if which != "/dev/"+base && which != base && !strings.Contains(name, which) {
			continue
		}
		fb := &Framebuffer{Dev: "/dev/" + base, Name: name}
		if _, err := fmt.Sscanf(readSysfs(d, "virtual_size"), "%d,%d", &fb.Width, &fb.Height); err != nil {
			return nil, fmt.Errorf("%s virtual_size: %w", base, err)
		}
		var err1, err2 error
		fb.BitsPerPixel, err1 = strconv.Atoi(readSysfs(d, "bits_per_pixel"))
		fb.Stride, err2 = strconv.Atoi(readSysfs(d, "stride"))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: unreadable bits_per_pixel or stride", base)
		}
		return fb, nil
	}
	return nil, fmt.Errorf("no framebuffer matches %q (have %s)", which, strings.Join(names, ", "))
}

func readSysfs(dir, name string) string {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return strings.TrimSpace(string(b))
}

// Fill paints the whole framebuffer one colour with write(2), which
// DRM's fbdev emulation turns into damage for the device, so the host
// sees it. Scenarios use it to put known pixels on a particular display.
func (fb *Framebuffer) Fill(c color.RGBA) error {
	var px []byte
	switch fb.BitsPerPixel {
	case 32: // XRGB8888, little-endian
		px = []byte{c.B, c.G, c.R, 0xff}
	case 24:
		px = []byte{c.B, c.G, c.R}
	case 16: // RGB565, little-endian
		v := uint16(c.R>>3)<<11 | uint16(c.G>>2)<<5 | uint16(c.B>>3)
		px = []byte{byte(v), byte(v >> 8)}
	default:
		return fmt.Errorf("%s: %d bits per pixel is not supported", fb.Dev, fb.BitsPerPixel)
	}
	row := make([]byte, fb.Stride)
	for x := 0; x < fb.Width*len(px) && x+len(px) <= len(row); x += len(px) {
		copy(row[x:], px)
	}
	f, err := os.OpenFile(fb.Dev, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", fb.Dev, err)
	}
	if err := forceMode(f); err != nil {
		f.Close()
		return err
	}
	// One write(2) from offset 0: per-row pwrite(2)s reached the
	// framebuffer memory but not the display in 6.12's fbdev emulation
	// (observed in the lab; the screendump stayed black).
	if _, err := f.Write(bytes.Repeat(row, fb.Height)); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", fb.Dev, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", fb.Dev, err)
	}
	return nil
}

// Framebuffer ioctls and fields from <linux/fb.h>.
const (
	fbioGetVScreenInfo = 0x4600
	fbioPutVScreenInfo = 0x4601
	fbVarInfoSize      = 160 // sizeof(struct fb_var_screeninfo)
	fbVarActivate      = 84  // offsetof(struct fb_var_screeninfo, activate)
	fbActivateForce    = 128 // FB_ACTIVATE_FORCE, with FB_ACTIVATE_NOW (0)
)

// forceMode makes DRM's fbdev emulation set its mode on the display.
// Until something does (fbcon, on its first output, or a client like
// this), nothing the framebuffer holds is scanned out, and a display
// without a console would show black whatever is written.
func forceMode(f *os.File) error {
	var v [fbVarInfoSize]byte
	if err := fbIoctl(f, fbioGetVScreenInfo, &v); err != nil {
		return fmt.Errorf("FBIOGET_VSCREENINFO on %s: %w", f.Name(), err)
	}
	binary.NativeEndian.PutUint32(v[fbVarActivate:], fbActivateForce)
	if err := fbIoctl(f, fbioPutVScreenInfo, &v); err != nil {
		return fmt.Errorf("FBIOPUT_VSCREENINFO on %s: %w", f.Name(), err)
	}
	return nil
}

func fbIoctl(f *os.File, req uintptr, v *[fbVarInfoSize]byte) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), req, uintptr(unsafe.Pointer(v)))
	if errno != 0 {
		return errno
	}
	return nil
}

// ParseColor reads RRGGBB (an optional leading '#').
func ParseColor(s string) (color.RGBA, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	if err != nil || len(strings.TrimPrefix(s, "#")) != 6 {
		return color.RGBA{}, fmt.Errorf("colour %q: want RRGGBB", s)
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}, nil
}
