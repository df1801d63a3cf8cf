package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
)

// outputInfo is what the probe learns of the compositor's first output.
type outputInfo struct {
	width, height int32 // current mode
	transform     int32 // wl_output.transform
}

// wl_output events and values the probe reads.
const (
	outputGeometry      = 0 // x, y, mm w, mm h, subpixel, make, model, transform
	outputMode          = 1 // flags, width, height, refresh
	outputModeCurrent   = 0x1
	wlOutputTransform90 = 1
)

// probeOutput asks the compositor at socket for its first wl_output's
// current mode and transform. Peers cannot all be told the mode (cage
// 0.1.4's headless output is always 1280x720), so every row reports what
// it really got.
func probeOutput(socket string, timeout time.Duration) (info outputInfo, err error) {
	conn, err := net.DialTimeout("unix", socket, timeout)
	if err != nil {
		return outputInfo{}, fmt.Errorf("probe output: connect to %s: %w", socket, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return outputInfo{}, fmt.Errorf("probe output: %w", err)
	}
	const (
		registryID = 2
		sync1ID    = 3
		outputID   = 4
		sync2ID    = 5
	)
	var msg []byte
	msg = appendMessage(msg, displayID, displayGetRegistry, u32(registryID))
	msg = appendMessage(msg, displayID, 0 /* sync */, u32(sync1ID))
	if _, err := conn.Write(msg); err != nil {
		return outputInfo{}, fmt.Errorf("probe output: %w", err)
	}
	var (
		f          framer
		outputName uint32
		outputVer  uint32
		bound      bool
		done       bool
	)
	buf := make([]byte, 8192)
	for !done {
		n, err := conn.Read(buf)
		if err != nil {
			return outputInfo{}, fmt.Errorf("probe output: read from %s: %w", socket, err)
		}
		var reply []byte
		err = f.feed(buf[:n], func(object uint32, opcode uint16, args []byte) {
			r := argReader{b: args}
			switch {
			case object == registryID && opcode == 0: // global
				name, iface, version := r.uint(), r.string(), r.uint()
				if iface == "wl_output" && outputName == 0 && !r.bad {
					outputName, outputVer = name, version
				}
			case object == sync1ID && opcode == callbackDone:
				if outputName == 0 {
					done = true
					return
				}
				bound = true
				bind := appendString(u32(outputName), "wl_output")
				bind = append(bind, u32(min(outputVer, 2))...)
				bind = append(bind, u32(outputID)...)
				reply = appendMessage(reply, registryID, registryBind, bind)
				reply = appendMessage(reply, displayID, 0, u32(sync2ID))
			case object == outputID && opcode == outputMode:
				flags, mw, mh := r.uint(), int32(r.uint()), int32(r.uint())
				if flags&outputModeCurrent != 0 && !r.bad {
					info.width, info.height = mw, mh
				}
			case object == outputID && opcode == outputGeometry:
				for range 5 {
					r.uint()
				}
				r.string()
				r.string()
				if t := int32(r.uint()); !r.bad {
					info.transform = t
				}
			case object == sync2ID && opcode == callbackDone:
				done = true
			case object == displayID && opcode == displayError:
				err = errors.New("protocol error")
				done = true
			}
		})
		if err != nil {
			return outputInfo{}, fmt.Errorf("probe output: %w", err)
		}
		if len(reply) > 0 {
			if _, err := conn.Write(reply); err != nil {
				return outputInfo{}, fmt.Errorf("probe output: %w", err)
			}
		}
	}
	if !bound {
		return outputInfo{}, errors.New("probe output: the compositor offers no wl_output")
	}
	return info, nil
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// appendMessage appends one Wayland message with the given argument bytes.
func appendMessage(b []byte, object uint32, opcode uint16, args []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, object)
	b = binary.LittleEndian.AppendUint32(b, uint32(headerSize+len(args))<<16|uint32(opcode))
	return append(b, args...)
}

// appendString appends a Wayland string: length with NUL, bytes, padding.
func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)+1))
	b = append(b, s...)
	b = append(b, 0)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
