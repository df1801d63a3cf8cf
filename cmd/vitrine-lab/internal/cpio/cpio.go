// Package cpio writes the "newc" cpio archives that the Linux kernel
// unpacks as an initramfs. Only what an initramfs needs is supported:
// directories, regular files and symbolic links.
package cpio

import (
	"fmt"
	"io"
)

// Writer appends entries to a newc archive. Several archives written by
// separate Writers may be concatenated: the kernel unpacks them in order,
// later files replacing earlier ones, which lets a cached base archive be
// combined with a small per-run one without rewriting the base.
type Writer struct {
	w      io.Writer
	offset int64
	inode  uint32
	err    error
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer {
	// Inode numbers only need to be distinct within one archive so the
	// kernel does not treat two entries as hard links.
	return &Writer{w: w, inode: 1000}
}

const (
	modeDir     = 0o040000
	modeFile    = 0o100000
	modeSymlink = 0o120000
)

// Dir adds a directory with the given permission bits.
func (cw *Writer) Dir(name string, perm uint32) error {
	return cw.entry(name, modeDir|perm&0o7777, nil)
}

// File adds a regular file with the given permission bits and content.
func (cw *Writer) File(name string, perm uint32, data []byte) error {
	return cw.entry(name, modeFile|perm&0o7777, data)
}

// Symlink adds a symbolic link name pointing at target.
func (cw *Writer) Symlink(name, target string) error {
	return cw.entry(name, modeSymlink|0o777, []byte(target))
}

// Close writes the trailer that ends the archive. It does not close the
// underlying writer.
func (cw *Writer) Close() error {
	return cw.entry("TRAILER!!!", 0, nil)
}

func (cw *Writer) entry(name string, mode uint32, data []byte) error {
	if cw.err != nil {
		return cw.err
	}
	cw.inode++
	nlink := 1
	if mode&0o170000 == modeDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		cw.inode, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	cw.write([]byte(hdr))
	cw.write([]byte(name))
	cw.write([]byte{0})
	cw.pad()
	cw.write(data)
	cw.pad()
	if cw.err != nil {
		return fmt.Errorf("cpio entry %s: %w", name, cw.err)
	}
	return nil
}

// pad aligns to the 4-byte boundary that newc requires after the name
// and after the data.
func (cw *Writer) pad() {
	if n := cw.offset % 4; n != 0 {
		cw.write(make([]byte, 4-n))
	}
}

func (cw *Writer) write(b []byte) {
	if cw.err != nil || len(b) == 0 {
		return
	}
	n, err := cw.w.Write(b)
	cw.offset += int64(n)
	cw.err = err
}
