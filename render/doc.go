// Package render does the compositor's CPU pixel work: solid fills,
// opaque copies, premultiplied OVER blending, pixel format conversion,
// the eight wl_output transforms and nearest-neighbour viewport scaling,
// every operation clipped to a damage rectangle.
//
// It knows nothing of Wayland or DRM; an Image is just a slice of bytes
// with a stride, a size and a DRM fourcc, so the same code serves wl_shm
// pools, dma-buf mappings and dumb buffers.
//
// # Why a shadow image
//
// Scanout memory is often write-combined or I/O memory (a PCI BAR on
// ast/bochs/cirrus, uncached dumb buffers elsewhere). Writes to it are
// cheap when they are sequential, but a read is uncached and can be orders of
// magnitude slower than a read from system memory. Blending needs to read the
// destination, so the compositor blends into a shadow image in ordinary
// memory (Draw, Fill) and then CopyOut writes only the damaged rectangles to
// the scanout buffer, row by row in increasing addresses, never reading it.
// Slow-link displays (virtio-gpu, udl, SPI panels) transfer only what is
// reported damaged, so the same rectangles, passed through Transform.Rect,
// are what the caller reports. CopyOut is also where the output transform
// and the conversion to the scanout format happen, so the shadow is always
// upright XRGB8888 (or ARGB8888).
//
// # Why these fast paths
//
// An opaque surface is copied, never blended: an untransformed, unscaled
// opaque XRGB8888 or ARGB8888 layer into an XRGB8888 shadow is a plain
// copy() per row (the X byte is don't-care, so even a source's alpha byte
// may be copied), which runs at memmove speed. OVER skips pairs of fully
// transparent pixels and copies pairs of opaque ones, so a window with a
// transparent margin and an opaque body costs little more than a copy; the
// blend itself spreads the four channels over one uint64 so one multiply
// serves them all. Upscaled opaque layers copy a destination row instead of
// resampling it when it repeats the source row above.
//
// Rotating by 90° turns source columns into scanout rows. Walking a column
// pixel by pixel misses the cache and the TLB on every pixel, so CopyOut
// gathers 64 destination rows at a time (a band: 256 contiguous bytes from
// each source row) into a system-memory band buffer, moving 2×2 pixel
// blocks with 8-byte loads and stores, and then writes each of those rows
// out sequentially. Scanout memory thus still sees only increasing-address
// row writes. Everything is plain Go with encoding/binary loads and stores:
// no unsafe, no assembly, the same code on amd64 and on a Raspberry Pi.
//
// # Conventions
//
// Pixels are premultiplied ARGB, as wl_shm defines. Formats follow
// drm_fourcc.h, little-endian: XRGB8888 is B, G, R, X in memory.
// Transforms follow wl_output.transform: applying Rotate90 to an image turns
// it 90° counter-clockwise, and a flipped transform mirrors around the
// vertical axis first. See Transform for how buffer transforms and output
// transforms use this.
//
// Nothing here panics on bad geometry: rectangles are intersected with the
// images and the clip, inconsistent images (stride or slice too short,
// unknown formats) make an operation a no-op, and nothing outside the clip
// is ever written.
package render
