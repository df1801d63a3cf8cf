package kms

import (
	"fmt"
	"strings"
)

// EDIDInfo is what a compositor shows of an EDID: manufacturer PNP id,
// monitor name and serial.
type EDIDInfo struct {
	Make   string
	Model  string
	Serial string
}

// ParseEDID extracts the manufacturer, monitor name and serial from a base
// EDID block. Only the 128-byte base block is needed.
func ParseEDID(edid []byte) (EDIDInfo, error) {
	var info EDIDInfo
	if len(edid) < 128 {
		return info, fmt.Errorf("EDID: %d bytes, want at least 128", len(edid))
	}
	header := []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}
	if string(edid[:8]) != string(header) {
		return info, fmt.Errorf("EDID: bad header % x", edid[:8])
	}
	// Manufacturer: three 5-bit letters, 'A' = 1, big-endian in bytes 8-9.
	m := uint16(edid[8])<<8 | uint16(edid[9])
	for _, shift := range []uint{10, 5, 0} {
		c := byte(m>>shift) & 0x1f
		if c < 1 || c > 26 {
			info.Make = ""
			break
		}
		info.Make += string(rune('A' + c - 1))
	}
	product := uint16(edid[10]) | uint16(edid[11])<<8
	serial := uint32(edid[12]) | uint32(edid[13])<<8 | uint32(edid[14])<<16 | uint32(edid[15])<<24
	// Four 18-byte descriptors; display descriptors start with 0,0,0,tag.
	for i := 54; i+18 <= 126; i += 18 {
		d := edid[i : i+18]
		if d[0] != 0 || d[1] != 0 || d[2] != 0 {
			continue
		}
		text := descriptorText(d[5:18])
		switch d[3] {
		case 0xfc:
			info.Model = text
		case 0xff:
			info.Serial = text
		}
	}
	if info.Model == "" {
		info.Model = fmt.Sprintf("0x%04X", product)
	}
	if info.Serial == "" && serial != 0 {
		info.Serial = fmt.Sprintf("0x%08X", serial)
	}
	return info, nil
}

// descriptorText decodes a descriptor string: ASCII, ended by a newline and
// padded with spaces.
func descriptorText(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, " \x00")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
}
