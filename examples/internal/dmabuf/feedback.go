package dmabuf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/neurlang/wayland/wl"
	"golang.org/x/sys/unix"
)

// FormatModifier is one entry of the feedback's format table.
type FormatModifier struct {
	Format   uint32
	Modifier uint64
}

// Tranche is one preference tranche of dma-buf feedback.
type Tranche struct {
	TargetDevice uint64
	Flags        uint32
	Indices      []uint16 // into the format table
}

// FeedbackState is one complete set of feedback (everything up to "done").
type FeedbackState struct {
	MainDevice uint64
	Table      []FormatModifier
	Tranches   []Tranche
}

// Feedback is a zwp_linux_dmabuf_feedback_v1 proxy. It decodes the events
// itself rather than through the wayland binding: the binding reads
// tranche_formats as 32-bit values and so loses the last index of an odd
// count, and dev_t arrays are clearer as bytes.
type Feedback struct {
	wl.BaseProxy
	// OnDone receives each complete feedback, on the dispatch goroutine.
	OnDone func(FeedbackState)
	// Err is the first decoding problem, if any.
	Err error

	cur     FeedbackState
	tranche Tranche
}

// NewFeedback registers a feedback proxy; send get_default_feedback or
// get_surface_feedback with it as the new id.
func NewFeedback(ctx *wl.Context) *Feedback {
	f := &Feedback{}
	ctx.Register(f)
	return f
}

// Destroy sends zwp_linux_dmabuf_feedback_v1.destroy.
func (f *Feedback) Destroy() error { return f.Context().SendRequest(f, 0) }

// wireArray splits a wl array argument off data.
func wireArray(data []byte) ([]byte, error) {
	if len(data) < 4 {
		return nil, errors.New("truncated array length")
	}
	n := int(binary.NativeEndian.Uint32(data))
	if n > len(data)-4 {
		return nil, fmt.Errorf("array of %d bytes in a %d-byte message", n, len(data))
	}
	return data[4 : 4+n], nil
}

// devT decodes a dev_t array (the kernel's 64-bit dev_t in host order).
func devT(a []byte) (uint64, error) {
	switch len(a) {
	case 8:
		return binary.NativeEndian.Uint64(a), nil
	case 4:
		return uint64(binary.NativeEndian.Uint32(a)), nil
	}
	return 0, fmt.Errorf("dev_t array of %d bytes", len(a))
}

func (f *Feedback) fail(err error) {
	if f.Err == nil {
		f.Err = err
	}
}

// Dispatch decodes one feedback event.
func (f *Feedback) Dispatch(ev *wl.Event) {
	switch ev.Opcode {
	case 0: // done
		if f.OnDone != nil {
			f.OnDone(f.cur)
		}
		// The next batch only sends what changed, except tranches, which
		// always come complete.
		f.cur.Tranches = nil
	case 1: // format_table(fd, size)
		fd, err := ev.FD()
		if err != nil {
			f.fail(fmt.Errorf("format_table without fd: %w", err))
			return
		}
		if len(ev.Data) < 4 {
			unix.Close(int(fd))
			f.fail(errors.New("format_table: truncated"))
			return
		}
		size := binary.NativeEndian.Uint32(ev.Data)
		table, err := readFormatTable(int(fd), int(size))
		unix.Close(int(fd))
		if err != nil {
			f.fail(err)
			return
		}
		f.cur.Table = table
	case 2: // main_device(array)
		a, err := wireArray(ev.Data)
		if err == nil {
			f.cur.MainDevice, err = devT(a)
		}
		if err != nil {
			f.fail(fmt.Errorf("main_device: %w", err))
		}
	case 3: // tranche_done
		f.cur.Tranches = append(f.cur.Tranches, f.tranche)
		f.tranche = Tranche{}
	case 4: // tranche_target_device(array)
		a, err := wireArray(ev.Data)
		if err == nil {
			f.tranche.TargetDevice, err = devT(a)
		}
		if err != nil {
			f.fail(fmt.Errorf("tranche_target_device: %w", err))
		}
	case 5: // tranche_formats(array of u16)
		a, err := wireArray(ev.Data)
		if err != nil {
			f.fail(fmt.Errorf("tranche_formats: %w", err))
			return
		}
		for i := 0; i+2 <= len(a); i += 2 {
			f.tranche.Indices = append(f.tranche.Indices, binary.NativeEndian.Uint16(a[i:]))
		}
	case 6: // tranche_flags(uint)
		if len(ev.Data) < 4 {
			f.fail(errors.New("tranche_flags: truncated"))
			return
		}
		f.tranche.Flags = binary.NativeEndian.Uint32(ev.Data)
	}
}

// readFormatTable maps the table the compositor shared and copies it out.
func readFormatTable(fd, size int) ([]FormatModifier, error) {
	if size == 0 {
		return nil, nil
	}
	if size%16 != 0 {
		return nil, fmt.Errorf("format table of %d bytes is not a multiple of 16", size)
	}
	// The table is shared read-only: MAP_PRIVATE as the protocol asks.
	m, err := unix.Mmap(fd, 0, size, unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("mmap format table (%d bytes): %w", size, err)
	}
	defer unix.Munmap(m)
	return ParseFormatTable(m)
}

// ParseFormatTable decodes format table bytes: entries of u32 format, u32
// padding, u64 modifier, in host byte order.
func ParseFormatTable(b []byte) ([]FormatModifier, error) {
	if len(b)%16 != 0 {
		return nil, fmt.Errorf("format table of %d bytes is not a multiple of 16", len(b))
	}
	t := make([]FormatModifier, len(b)/16)
	for i := range t {
		e := b[i*16:]
		t[i] = FormatModifier{Format: binary.NativeEndian.Uint32(e), Modifier: binary.NativeEndian.Uint64(e[8:])}
	}
	return t, nil
}

// Choice is the tranche, format and modifier a client picked.
type Choice struct {
	Tranche  int // -1 when chosen without feedback
	Format   uint32
	Modifier uint64
}

// Choose picks XRGB8888 from feedback: ChooseFormat(fb, FormatXRGB8888).
func Choose(fb FeedbackState) (Choice, error) { return ChooseFormat(fb, FormatXRGB8888) }

// ChooseFormat picks format with a linear modifier (or, failing that,
// the implicit one) from the first tranche that offers it: tranches come
// in the compositor's order of preference.
func ChooseFormat(fb FeedbackState, format uint32) (Choice, error) {
	for ti, tr := range fb.Tranches {
		implicit := false
		for _, idx := range tr.Indices {
			if int(idx) >= len(fb.Table) {
				continue
			}
			e := fb.Table[idx]
			if e.Format != format {
				continue
			}
			switch e.Modifier {
			case ModLinear:
				return Choice{Tranche: ti, Format: e.Format, Modifier: e.Modifier}, nil
			case ModInvalid:
				implicit = true
			}
		}
		if implicit {
			return Choice{Tranche: ti, Format: format, Modifier: ModInvalid}, nil
		}
	}
	return Choice{}, fmt.Errorf("no tranche offers %s (%s) with a linear or implicit modifier (%d tranches, %d table entries)", FourCC(format), FormatName(format), len(fb.Tranches), len(fb.Table))
}

// ChooseFromModifiers picks XRGB8888 for version 3 compositors, which
// list format/modifier pairs instead of sending feedback.
func ChooseFromModifiers(pairs []FormatModifier) (Choice, error) {
	return ChooseFormatFromModifiers(pairs, FormatXRGB8888)
}

// ChooseFormatFromModifiers is ChooseFormat for version 3 compositors.
func ChooseFormatFromModifiers(pairs []FormatModifier, format uint32) (Choice, error) {
	implicit := false
	for _, p := range pairs {
		if p.Format != format {
			continue
		}
		if p.Modifier == ModLinear {
			return Choice{Tranche: -1, Format: p.Format, Modifier: p.Modifier}, nil
		}
		if p.Modifier == ModInvalid {
			implicit = true
		}
	}
	if implicit {
		return Choice{Tranche: -1, Format: format, Modifier: ModInvalid}, nil
	}
	return Choice{}, fmt.Errorf("compositor does not list %s (%s) with a linear or implicit modifier (%d pairs)", FourCC(format), FormatName(format), len(pairs))
}

// The formats dmabuf-client can draw (drm_fourcc.h).
const (
	FormatARGB8888 = 0x34325241 // AR24
	FormatNV12     = 0x3231564e // NV12
)

// FormatName is the DRM name of the formats this package knows, else the
// fourcc.
func FormatName(f uint32) string {
	switch f {
	case FormatXRGB8888:
		return "XRGB8888"
	case FormatARGB8888:
		return "ARGB8888"
	case FormatNV12:
		return "NV12"
	}
	return FourCC(f)
}

// FourCC renders a DRM format code, e.g. "XR24".
func FourCC(f uint32) string {
	b := [4]byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for _, c := range b {
		if c < ' ' || c > '~' {
			return fmt.Sprintf("0x%08x", f)
		}
	}
	return strings.TrimRight(string(b[:]), " ")
}

// ModifierName names the modifiers a linear client meets.
func ModifierName(m uint64) string {
	switch m {
	case ModLinear:
		return "linear"
	case ModInvalid:
		return "invalid"
	}
	return "vendor"
}

// Dev formats a dev_t as major:minor.
func Dev(d uint64) string { return fmt.Sprintf("%d:%d", unix.Major(d), unix.Minor(d)) }

// FeedbackLines describes feedback for the client's stdout: one summary
// line and one line per tranche.
func FeedbackLines(prefix string, fb FeedbackState) []string {
	lines := []string{fmt.Sprintf("%s main_device=%s format_table_entries=%d tranches=%d", prefix, Dev(fb.MainDevice), len(fb.Table), len(fb.Tranches))}
	for i, tr := range fb.Tranches {
		xr24 := 0
		for _, idx := range tr.Indices {
			if int(idx) < len(fb.Table) && fb.Table[idx].Format == FormatXRGB8888 {
				xr24++
			}
		}
		lines = append(lines, fmt.Sprintf("%s-tranche index=%d target_device=%s flags=0x%x scanout=%t formats=%d xr24_modifiers=%d",
			prefix, i, Dev(tr.TargetDevice), tr.Flags, tr.Flags&1 != 0, len(tr.Indices), xr24))
	}
	return lines
}
