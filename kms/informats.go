package kms

import (
	"encoding/binary"
	"fmt"
)

// FormatModifiers is one pixel format a plane accepts and the modifiers
// (tilings, compressions) it takes it with.
type FormatModifiers struct {
	Format    uint32
	Modifiers []uint64
}

// ParseInFormats decodes an IN_FORMATS blob (struct drm_format_modifier_blob
// followed by its format and modifier arrays). Formats keep the blob's
// order; a format no modifier entry mentions is listed with no modifiers.
func ParseInFormats(blob []byte) ([]FormatModifiers, error) {
	const headerSize = 24
	if len(blob) < headerSize {
		return nil, fmt.Errorf("IN_FORMATS blob: %d bytes, shorter than its header", len(blob))
	}
	le := binary.NativeEndian
	version := le.Uint32(blob[0:])
	countFormats := int(le.Uint32(blob[8:]))
	formatsOffset := int(le.Uint32(blob[12:]))
	countModifiers := int(le.Uint32(blob[16:]))
	modifiersOffset := int(le.Uint32(blob[20:]))
	if version != 1 {
		return nil, fmt.Errorf("IN_FORMATS blob: version %d, want 1", version)
	}
	if countFormats < 0 || formatsOffset < headerSize || formatsOffset+4*countFormats > len(blob) || formatsOffset+4*countFormats < formatsOffset {
		return nil, fmt.Errorf("IN_FORMATS blob: %d formats at %d overrun %d bytes", countFormats, formatsOffset, len(blob))
	}
	const modSize = 24 // struct drm_format_modifier
	if countModifiers < 0 || modifiersOffset < headerSize || modifiersOffset+modSize*countModifiers > len(blob) || modifiersOffset+modSize*countModifiers < modifiersOffset {
		return nil, fmt.Errorf("IN_FORMATS blob: %d modifiers at %d overrun %d bytes", countModifiers, modifiersOffset, len(blob))
	}
	out := make([]FormatModifiers, countFormats)
	for i := range out {
		out[i].Format = le.Uint32(blob[formatsOffset+4*i:])
	}
	for i := range countModifiers {
		m := blob[modifiersOffset+modSize*i:]
		mask := le.Uint64(m[0:])
		offset := int(le.Uint32(m[8:]))
		modifier := le.Uint64(m[16:])
		// Bit b of mask stands for format number offset+b.
		for b := 0; b < 64; b++ {
			if mask&(1<<b) == 0 {
				continue
			}
			if f := offset + b; f < countFormats {
				out[f].Modifiers = append(out[f].Modifiers, modifier)
			}
		}
	}
	return out, nil
}

// InFormats reads a plane's IN_FORMATS property. ok is false when the driver
// does not expose it (then only Plane.Formats, without modifiers, is known).
func (d *Device) InFormats(p *Plane) (formats []FormatModifiers, ok bool, err error) {
	v, has := p.Props["IN_FORMATS"]
	if !has || v.Value == 0 {
		return nil, false, nil
	}
	blob, err := d.Blob(uint32(v.Value))
	if err != nil {
		return nil, false, fmt.Errorf("plane %d IN_FORMATS: %w", p.ID, err)
	}
	formats, err = ParseInFormats(blob)
	if err != nil {
		return nil, false, fmt.Errorf("plane %d: %w", p.ID, err)
	}
	return formats, true, nil
}

// ModifierName names the common modifiers; others are printed in hex with
// their vendor.
func ModifierName(m uint64) string {
	switch m {
	case ModifierLinear:
		return "LINEAR"
	case ModifierInvalid:
		return "INVALID"
	}
	vendors := map[uint64]string{
		0x01: "INTEL", 0x02: "AMD", 0x03: "NVIDIA", 0x04: "SAMSUNG", 0x05: "QCOM",
		0x06: "VIVANTE", 0x07: "BROADCOM", 0x08: "ARM", 0x09: "ALLWINNER", 0x0a: "AMLOGIC",
	}
	v := m >> 56
	if name, ok := vendors[v]; ok {
		return fmt.Sprintf("%s(%#x)", name, m&0x00ffffffffffffff)
	}
	return fmt.Sprintf("%#x", m)
}
