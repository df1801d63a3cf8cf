package main

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/vitrine-wm/vitrine/scene"
)

var filepathGlob = filepath.Glob

// openDRM opens the KMS outputs.
func openDRM(opts *options, log *slog.Logger, comp *scene.Compositor) ([]scene.Output, error) {
	return nil, errors.New("the drm backend is not wired into vitrine yet; use --backend headless")
}

func runProbe(args []string, stdout, stderr io.Writer) int {
	io.WriteString(stderr, "vitrine probe: not wired yet\n")
	return 1
}
