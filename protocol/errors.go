package protocol

import "fmt"

// wl_display.error codes (wayland.xml).
const (
	ErrInvalidObject  = 0
	ErrInvalidMethod  = 1
	ErrNoMemory       = 2
	ErrImplementation = 3
)

// Error is a protocol violation: the client gets wl_display.error with
// these fields and is disconnected. Handlers return it (or call
// Resource.PostError) when a request breaks the protocol.
type Error struct {
	ObjectID uint32
	Code     uint32
	Msg      string
}

func (e *Error) Error() string {
	return fmt.Sprintf("protocol error on object %d, code %d: %s", e.ObjectID, e.Code, e.Msg)
}

// NewError builds an Error for object o.
func NewError(o Object, code uint32, format string, args ...any) *Error {
	b := o.base()
	return &Error{ObjectID: b.id, Code: code, Msg: fmt.Sprintf("%s#%d: %s", b.iface.Name, b.id, fmt.Sprintf(format, args...))}
}
