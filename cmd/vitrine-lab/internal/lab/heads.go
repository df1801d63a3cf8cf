package lab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Monitors plugged in and pulled out on the host side.
//
// QEMU has no QMP command that plugs a monitor into a display device, but
// a display's user interface can tell the device the size it wants (a
// GTK window being resized does). virtio-gpu turns that into a display
// change event for the guest: a head given a size becomes a connected
// connector whose EDID prefers that size, a head given 0x0 becomes
// disconnected, and the guest driver answers the event with a HOTPLUG=1
// uevent, as a real monitor plug would. The lab drives that with one VNC
// server per head (-vnc ...,display=ID,head=N): the RFB SetDesktopSize
// message is the one UI request QEMU forwards without a window.
//
// Writing on/off to a connector's sysfs status changes what the driver
// reports but sends no uevent on virtio-gpu, bochs or cirrus (their
// probe helpers do not poll), so it cannot stand in for a plug.

// headSocket is the VNC socket of head of display id in the run's
// temporary directory.
func headSocket(tmp, id string, head int) string {
	return filepath.Join(tmp, fmt.Sprintf("vnc-%s-%d.sock", id, head))
}

// headArgs are the QEMU arguments that give every head of the multi-head
// displays its VNC server.
func headArgs(tmp string, cfg *Config) []string {
	var args []string
	ids := cfg.DisplayIDs()
	for i, d := range cfg.Displays {
		for h := 0; h < displayDevices[d].heads; h++ {
			args = append(args, "-vnc", fmt.Sprintf("unix:%s,id=%s-head%d,display=%s,head=%d",
				headSocket(tmp, ids[i], h), ids[i], h, ids[i], h))
		}
	}
	return args
}

// parseHeadTarget splits a "DEVICE:HEAD" target (head 0 when there is
// no ":HEAD") and checks it against the run's displays.
func parseHeadTarget(cfg *Config, target string) (string, int, error) {
	ids := cfg.DisplayIDs()
	dev, hs, hasHead := strings.Cut(target, ":")
	if dev == "" {
		dev = ids[0]
	}
	head := 0
	if hasHead {
		n, err := strconv.Atoi(hs)
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("display %q: head %q is not a number", target, hs)
		}
		head = n
	}
	for i, id := range ids {
		if id != dev {
			continue
		}
		if heads := max(displayDevices[cfg.Displays[i]].heads, 1); head >= heads {
			return "", 0, fmt.Errorf("display %q: %s has %d head(s)", target, dev, heads)
		}
		return dev, head, nil
	}
	return "", 0, fmt.Errorf("display %q: this guest's displays are %s", target, strings.Join(ids, ", "))
}

// parseHeadSize reads "WxH", or "off" for 0x0 (unplugged).
func parseHeadSize(s string) (int, int, error) {
	if s == "off" {
		return 0, 0, nil
	}
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 8192 || h > 8192 {
		return 0, 0, fmt.Errorf("monitor size %q: want WxH (up to 8192x8192) or off", s)
	}
	return w, h, nil
}

// RFB (RFC 6143) message and encoding numbers.
const (
	rfbSetEncodings        = 2
	rfbSetDesktopSize      = 251
	rfbFramebufferUpdate   = 0
	rfbSetColourMap        = 1
	rfbBell                = 2
	rfbServerCutText       = 3
	rfbExtendedDesktopSize = -308
)

// setHeadSize connects to a head's VNC server and asks for a w×h
// monitor (0x0: none). It returns once QEMU has answered the request;
// the guest sees the change a moment later.
func setHeadSize(sock string, w, h int, timeout time.Duration) error {
	conn, err := net.DialTimeout("unix", sock, timeout)
	if err != nil {
		return fmt.Errorf("connect to the head's VNC server %s: %w", sock, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if err := rfbSetSize(conn, w, h); err != nil {
		return fmt.Errorf("VNC %s: %w", sock, err)
	}
	return nil
}

// rfbSetSize speaks RFB 3.8 without authentication, announces the
// ExtendedDesktopSize encoding (so the server reports what it did with
// the request), sends SetDesktopSize and waits for the report.
func rfbSetSize(rw io.ReadWriter, w, h int) error {
	var version [12]byte
	if _, err := io.ReadFull(rw, version[:]); err != nil {
		return fmt.Errorf("read the server's version: %w", err)
	}
	if !strings.HasPrefix(string(version[:]), "RFB 003.") {
		return fmt.Errorf("not an RFB server: %q", version[:])
	}
	if _, err := io.WriteString(rw, "RFB 003.008\n"); err != nil {
		return err
	}
	var n [1]byte
	if _, err := io.ReadFull(rw, n[:]); err != nil {
		return fmt.Errorf("read security types: %w", err)
	}
	if n[0] == 0 {
		return errors.New("the server refused the connection")
	}
	types := make([]byte, n[0])
	if _, err := io.ReadFull(rw, types); err != nil {
		return fmt.Errorf("read security types: %w", err)
	}
	if !strings.ContainsRune(string(types), 1) {
		return fmt.Errorf("the server wants authentication (security types %v)", types)
	}
	if _, err := rw.Write([]byte{1}); err != nil {
		return err
	}
	var result uint32
	if err := binary.Read(rw, binary.BigEndian, &result); err != nil {
		return fmt.Errorf("read the security result: %w", err)
	}
	if result != 0 {
		return fmt.Errorf("security handshake failed (%d)", result)
	}
	// ClientInit: share the desktop with other clients.
	if _, err := rw.Write([]byte{1}); err != nil {
		return err
	}
	var init struct {
		W, H   uint16
		Format [16]byte
		Len    uint32
	}
	if err := binary.Read(rw, binary.BigEndian, &init); err != nil {
		return fmt.Errorf("read ServerInit: %w", err)
	}
	if _, err := io.CopyN(io.Discard, rw, int64(init.Len)); err != nil {
		return fmt.Errorf("read the desktop name: %w", err)
	}
	msg := binary.BigEndian.AppendUint16([]byte{rfbSetEncodings, 0}, 1)
	enc := int32(rfbExtendedDesktopSize)
	msg = binary.BigEndian.AppendUint32(msg, uint32(enc))
	// SetDesktopSize with one screen covering the whole desktop.
	msg = append(msg, rfbSetDesktopSize, 0)
	msg = binary.BigEndian.AppendUint16(msg, uint16(w))
	msg = binary.BigEndian.AppendUint16(msg, uint16(h))
	msg = append(msg, 1, 0)
	msg = binary.BigEndian.AppendUint32(msg, 0) // screen id
	msg = binary.BigEndian.AppendUint16(msg, 0)
	msg = binary.BigEndian.AppendUint16(msg, 0)
	msg = binary.BigEndian.AppendUint16(msg, uint16(w))
	msg = binary.BigEndian.AppendUint16(msg, uint16(h))
	msg = binary.BigEndian.AppendUint32(msg, 0) // flags
	if _, err := rw.Write(msg); err != nil {
		return err
	}
	return awaitResizeReport(rw)
}

// awaitResizeReport reads server messages until the ExtendedDesktopSize
// rectangle that answers this client's request (reason 1). Its status
// says whether the display took it: QEMU answers 4 ("forwarded to the
// device") when the device has a UI-info hook, 3 when it has none.
func awaitResizeReport(r io.Reader) error {
	for {
		var typ [1]byte
		if _, err := io.ReadFull(r, typ[:]); err != nil {
			return fmt.Errorf("wait for the answer to SetDesktopSize: %w", err)
		}
		switch typ[0] {
		case rfbFramebufferUpdate:
			var hdr struct {
				Pad   uint8
				Rects uint16
			}
			if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
				return fmt.Errorf("read FramebufferUpdate: %w", err)
			}
			for range hdr.Rects {
				var rect struct {
					X, Y, W, H uint16
					Encoding   int32
				}
				if err := binary.Read(r, binary.BigEndian, &rect); err != nil {
					return fmt.Errorf("read FramebufferUpdate: %w", err)
				}
				if rect.Encoding != rfbExtendedDesktopSize {
					// Only pseudo-encodings were announced and no
					// update requested: anything else is a protocol
					// mismatch this client cannot skip.
					return fmt.Errorf("unexpected rectangle encoding %d", rect.Encoding)
				}
				var screens [4]byte
				if _, err := io.ReadFull(r, screens[:]); err != nil {
					return fmt.Errorf("read ExtendedDesktopSize: %w", err)
				}
				if _, err := io.CopyN(io.Discard, r, int64(screens[0])*16); err != nil {
					return fmt.Errorf("read ExtendedDesktopSize: %w", err)
				}
				if rect.X != 1 {
					continue // the server's own report, not the answer
				}
				switch rect.Y {
				case 0, 4:
					return nil
				case 1:
					return errors.New("the display refused the new size (resize prohibited)")
				case 2:
					return errors.New("the display refused the new size (out of resources)")
				case 3:
					return errors.New("the display cannot change its size (QEMU: no UI-info support for this device)")
				default:
					return fmt.Errorf("the display answered SetDesktopSize with status %d", rect.Y)
				}
			}
		case rfbBell:
		case rfbSetColourMap:
			var hdr struct {
				Pad          uint8
				First, Count uint16
			}
			if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
				return err
			}
			if _, err := io.CopyN(io.Discard, r, int64(hdr.Count)*6); err != nil {
				return err
			}
		case rfbServerCutText:
			var hdr struct {
				Pad [3]byte
				Len uint32
			}
			if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
				return err
			}
			if _, err := io.CopyN(io.Discard, r, int64(hdr.Len)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected server message %d", typ[0])
		}
	}
}
