package present

import "fmt"

// Mode is a display mode in unrotated pixels, as outputs offer it to the
// compositor (and the compositor to wlr-output-management clients).
type Mode struct {
	Width, Height, RefreshMilliHz int
}

func (m Mode) String() string {
	return fmt.Sprintf("%dx%d@%d.%03dHz", m.Width, m.Height, m.RefreshMilliHz/1000, m.RefreshMilliHz%1000)
}
