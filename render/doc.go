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
// transposes a band of 64 destination rows at a time into a system-memory
// buffer and then writes each of those rows out with copy(). The band is
// filled in source order: each source row's 256 bytes of the band are read
// once, front to back, four rows at a time, and spread over the band rows
// as 2×2 pixel blocks with 8-byte loads and stores. Reading whole runs
// once, instead of revisiting a tile of source lines for every pair of
// band rows, keeps the speed independent of the source stride: with tiles,
// a 1024- or 2048-pixel-wide shadow (a 4096-byte multiple stride) put all
// the tile's lines into one cache set and ran 2-4x slower. Scanout memory
// still sees only increasing-address row writes. Mirrored rows
// (180°, flipped) and format conversions likewise go through a few
// kilobytes of system memory and then copy(), so the scanout buffer only
// ever sees memmove's long sequential stores.
//
// CopyOut reads the shadow as native 32-bit words (words.go): the inner
// loops use raw offsets, each checked as a whole extent before the loop,
// because bounds checks between neighbouring loads stop the compiler from
// merging them into 8-byte accesses and cost as much as the work itself.
// That is the package's only use of unsafe; a shadow whose rows are not
// 4-byte aligned, or a big-endian machine, takes a slower byte path with
// encoding/binary instead. There is no assembly: the same code runs on
// amd64 and on a Raspberry Pi.
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
