package kms

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// errnoWrap wraps an errno the way the ioctl helpers do.
func errnoWrap(n int) error {
	return fmt.Errorf("/dev/dri/card0: DRM_IOCTL_X: %w", unix.Errno(n))
}
