package render

import (
	"fmt"
	"image"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// kernelSets are the ways a 90° or 270° copy can be done on this machine:
// the platform's kernels together and each alone, the scalar kernels, and
// no kernels (the band).
func kernelSets() map[string][]tileKernel {
	sets := map[string][]tileKernel{
		"platform": platformKernels,
		"scalar":   {scalarKernel(16, 8), scalarKernel(8, 8), scalarKernel(4, 4)},
		"scalar4":  {scalarKernel(4, 4)},
		"band":     {},
	}
	for _, k := range platformKernels {
		sets[fmt.Sprintf("platform%dx%d", k.rows, k.cols)] = []tileKernel{k}
	}
	return sets
}

// Every size of rectangle from 1x1 to 39x19 at an odd place, every
// rotation that turns rows into columns, every kernel: the rectangle's
// pixels as the reference has them, nothing outside written (the sentinel
// and padding survive), so ragged edges and short strips are covered.
func TestTransposeKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	src := randomImage(rng, 61, 43, XRGB8888)
	for name, set := range kernelSets() {
		c := &Copier{tiles: set}
		for _, tr := range []Transform{Rotate90, Rotate270, Flipped90, Flipped270} {
			for w := 1; w < 20; w++ {
				for h := 1; h < 40; h++ {
					r := image.Rect(5, 3, 5+w, 3+h)
					if err := checkCopier(t, c, src, []image.Rectangle{r}, tr, XRGB8888, 12); err != nil {
						t.Fatalf("kernels %s: %v", name, err)
					}
				}
			}
			full := []image.Rectangle{src.Bounds()}
			if err := checkCopier(t, c, src, full, tr, XRGB8888, 0); err != nil {
				t.Fatalf("kernels %s: %v", name, err)
			}
		}
	}
}

// Rows that start 4 bytes off a 16-byte boundary, or at any multiple of
// 4 (a stride of one pixel more than the width), in both images: the
// vector loads and stores must not assume alignment beyond 4 bytes.
func TestTransposeKernelsUnaligned(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	in := randomImage(rng, 37, 29, XRGB8888)
	stride := in.Width*4 + 4
	buf := make([]byte, 4+stride*in.Height)
	src := &Image{Pix: buf[4:], Stride: stride, Width: in.Width, Height: in.Height, Format: XRGB8888}
	for y := 0; y < in.Height; y++ {
		copy(src.Pix[y*stride:], in.Pix[y*in.Stride:y*in.Stride+in.Width*4])
	}
	if shadowWords(src) == nil {
		t.Fatal("the test image does not take the word path")
	}
	for name, set := range kernelSets() {
		c := &Copier{tiles: set}
		for _, tr := range []Transform{Rotate90, Rotate270} {
			rects := []image.Rectangle{src.Bounds(), image.Rect(1, 2, 36, 27)}
			if err := checkCopier(t, c, src, rects, tr, XRGB8888, 4); err != nil {
				t.Errorf("kernels %s: %v", name, err)
			}
		}
	}
}

// Vector kernels are what the direct path runs on amd64 and arm64; a build
// that silently fell back to the band there would pass every other test.
func TestPlatformKernels(t *testing.T) {
	var want []string
	switch {
	case !vectorBuild:
		want = nil
	case runtime.GOARCH == "arm64":
		want = []string{"4x4"}
	case runtime.GOARCH == "amd64" && cpu.X86.HasAVX2:
		want = []string{"8x8", "4x4"}
	case runtime.GOARCH == "amd64":
		want = []string{"4x4"}
	}
	var got []string
	for _, k := range platformKernels {
		got = append(got, fmt.Sprintf("%dx%d", k.rows, k.cols))
	}
	if !slices.Equal(got, want) {
		t.Errorf("platform kernels %v, want %v", got, want)
	}
}

// transposeScalar is a portable tileKernel body: with it the direct path
// is tested on every CPU (and with -tags purego), against the band and
// the reference.
func transposeScalar(rows, cols int, dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int) {
	for s := 0; s < strips; s++ {
		d, p := unsafe.Add(dst, s*dstNext), unsafe.Add(src, s*srcNext)
		for i := 0; i < n; i++ {
			for j := 0; j < cols; j++ {
				row := unsafe.Add(p, (cols*i+j)*srcStride)
				for k := 0; k < rows; k++ {
					store32(d, k*dstStride+(cols*i+j)*4, *(*uint32)(unsafe.Add(row, 4*k)))
				}
			}
		}
	}
}

// scalarKernel is transposeScalar as a tileKernel.
func scalarKernel(rows, cols int) tileKernel {
	return tileKernel{rows, cols, func(dst unsafe.Pointer, dstStride, dstNext int, src unsafe.Pointer, srcStride, srcNext, strips, n int) {
		transposeScalar(rows, cols, dst, dstStride, dstNext, src, srcStride, srcNext, strips, n)
	}}
}

// An output copies every frame: once its Copier has its buffers, a
// rotated copy must not allocate, whichever path it takes.
func TestRotatedCopyAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	src := randomImage(rng, 200, 120, XRGB8888)
	rects := []image.Rectangle{src.Bounds(), image.Rect(3, 5, 150, 77)}
	for name, set := range kernelSets() {
		for _, tr := range []Transform{Rotate90, Rotate270} {
			tw, th := tr.TransformSize(src.Width, src.Height)
			dst := NewImage(tw, th, XRGB8888)
			c := &Copier{tiles: set}
			c.CopyOut(dst, src, rects, tr)
			if n := testing.AllocsPerRun(20, func() { c.CopyOut(dst, src, rects, tr) }); n != 0 {
				t.Errorf("kernels %s, %v: %v allocations per copy, want 0", name, tr, n)
			}
		}
	}
}
