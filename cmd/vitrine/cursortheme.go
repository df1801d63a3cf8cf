package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vitrine-wm/vitrine/scene/xcursor"
)

// cursorTheme reads the XCursor settings libXcursor and every toolkit
// read (XCURSOR_THEME, XCURSOR_SIZE, XCURSOR_PATH), for the cursors
// clients name by shape.
func cursorTheme(getenv func(string) string) (theme string, size int, path []string) {
	theme = getenv("XCURSOR_THEME")
	size, _ = strconv.Atoi(getenv("XCURSOR_SIZE"))
	if p := getenv("XCURSOR_PATH"); p != "" {
		for _, d := range strings.Split(p, ":") {
			if d != "" {
				path = append(path, d)
			}
		}
	} else {
		home, _ := os.UserHomeDir()
		path = xcursor.DefaultPath(filepath.Clean(home))
	}
	return theme, size, path
}
