package dmabuf

import (
	"errors"
	"fmt"

	linux "github.com/neurlang/wayland/stable/linux-dmabuf-v1"

	"github.com/vitrine-wm/vitrine/examples/internal/pattern"
	"github.com/vitrine-wm/vitrine/examples/internal/report"
	"github.com/vitrine-wm/vitrine/examples/internal/window"
)

// Allocator is a window.Allocator handing out dma-buf wl_buffers.
type Allocator struct {
	Conn   *window.Conn
	Dmabuf *linux.ZwpDmabufV1
	Source Source
	Choice Choice
	// Async uses create and waits for created/failed instead of
	// create_immed.
	Async bool
	Out   *report.Lines
	// OnError receives a failed import reported after create_immed.
	OnError func(error)
}

// Allocate allocates a dma-buf and imports it into the compositor.
func (a *Allocator) Allocate(w, h int) (*window.Buffer, error) {
	d, err := a.Source.Alloc(w, h)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", a.Source.Kind(), a.Source.Device(), err)
	}
	planes := []planeLayout{{offset: 0, stride: d.Stride}}
	if a.Choice.Format == FormatNV12 {
		// NV12 in the same dma-buf: luma rows, then interleaved
		// chroma rows, each at half the XRGB stride (at least the
		// width; the chroma of a row pair is a row of w bytes too).
		// The XRGB-sized buffer holds both: (h + ceil(h/2)) half rows.
		ys := d.Stride / 2
		planes = []planeLayout{{offset: 0, stride: ys}, {offset: ys * h, stride: ys}}
	}
	wlb, err := a.create(d, planes)
	if err != nil {
		d.Close()
		return nil, err
	}
	mode := "immed"
	if a.Async {
		mode = "async"
	}
	a.Out.Printf("buffer width=%d height=%d stride=%d bytes=%d format=%s modifier=0x%x create=%s",
		w, h, planes[0].stride, d.Size, FourCC(a.Choice.Format), a.Choice.Modifier, mode)
	if a.Choice.Format == FormatNV12 {
		// The pattern is drawn in RGB into system memory and
		// converted into the dma-buf when the frame is done.
		img := pattern.NewImage(w, h)
		return &window.Buffer{
			WL:       wlb,
			Image:    img,
			BeginCPU: d.BeginWrite,
			EndCPU: func() error {
				writeNV12(d.Pix, planes[0].stride, planes[1].offset, img)
				return d.EndWrite()
			},
			Free: d.Close,
		}, nil
	}
	return &window.Buffer{
		WL:       wlb,
		Image:    &pattern.Image{Pix: d.Pix, Stride: d.Stride, Width: w, Height: h},
		BeginCPU: d.BeginWrite,
		EndCPU:   d.EndWrite,
		Free:     d.Close,
	}, nil
}

// planeLayout is where one plane of a buffer lies in its dma-buf.
type planeLayout struct{ offset, stride int }

func (a *Allocator) create(d *Buf, planes []planeLayout) (window.WLBuffer, error) {
	params, err := a.Dmabuf.CreateParams()
	if err != nil {
		return nil, fmt.Errorf("create_params: %w", err)
	}
	mod := a.Choice.Modifier
	for i, p := range planes {
		if err := params.Add(uintptr(d.FD), uint32(i), uint32(p.offset), uint32(p.stride), uint32(mod>>32), uint32(mod)); err != nil {
			return nil, fmt.Errorf("params add plane %d: %w", i, err)
		}
	}
	res := &createResult{}
	params.AddCreatedHandler(res)
	params.AddFailedHandler(res)
	if !a.Async {
		buf, err := params.CreateImmed(int32(d.Width), int32(d.Height), a.Choice.Format, 0)
		if err != nil {
			return nil, fmt.Errorf("create_immed: %w", err)
		}
		// A compositor that cannot import may still answer with failed;
		// params stays alive to hear it (it is a few bytes per buffer).
		res.onFailed = func() {
			if a.OnError != nil {
				a.OnError(errors.New("compositor could not import the dma-buf (zwp_linux_buffer_params_v1.failed after create_immed)"))
			}
		}
		return buf, nil
	}
	if err := params.Create(int32(d.Width), int32(d.Height), a.Choice.Format, 0); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	// Allocate runs on the dispatch goroutine (or before it starts), so
	// dispatching here until the answer arrives is safe.
	for !res.done {
		if err := a.Conn.Dispatch(); err != nil {
			return nil, fmt.Errorf("wait for created/failed: %w", err)
		}
	}
	if err := params.Destroy(); err != nil {
		return nil, fmt.Errorf("destroy params: %w", err)
	}
	params.Unregister()
	if res.buffer == nil {
		return nil, errors.New("compositor could not import the dma-buf (zwp_linux_buffer_params_v1.failed)")
	}
	return res.buffer, nil
}

type createResult struct {
	done     bool
	buffer   *linux.Buffer
	onFailed func()
}

func (r *createResult) HandleZwpBufferParamsV1Created(ev linux.ZwpBufferParamsV1CreatedEvent) {
	r.done = true
	r.buffer = ev.Buffer
}

func (r *createResult) HandleZwpBufferParamsV1Failed(linux.ZwpBufferParamsV1FailedEvent) {
	r.done = true
	if r.onFailed != nil {
		r.onFailed()
	}
}
