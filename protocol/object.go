package protocol

import (
	"fmt"
	"reflect"
)

// Interface describes a protocol interface: what the runtime needs to
// route and check requests before generated code decodes them.
type Interface struct {
	Name     string
	Version  uint32
	Requests []Message
	Events   []Message
	// Recycle keeps destroyed objects for Reuse: for interfaces whose
	// objects come and go every frame (wl_callback).
	Recycle bool
}

// Message describes one request or event. Signature uses libwayland's
// letters (i u f s o n a h, '?' before a nullable argument).
type Message struct {
	Name      string
	Since     uint32
	Signature string
	// Destructor marks requests after which the object is gone.
	Destructor bool
}

// fdCount is how many fds a message carries, so dispatch can wait for
// fds that arrive in a later recvmsg than the bytes.
func (m *Message) fdCount() int {
	n := 0
	for i := 0; i < len(m.Signature); i++ {
		if m.Signature[i] == 'h' {
			n++
		}
	}
	return n
}

// Object is implemented by every protocol object: generated types embed
// Resource and add Dispatch.
type Object interface {
	base() *Resource
	// Dispatch decodes and handles request opcode; a returned error is a
	// protocol violation and disconnects the client.
	Dispatch(opcode uint16, r *Reader) error
}

// Resource is the per-object state the runtime keeps. Generated types
// embed it.
type Resource struct {
	client    *Client
	id        uint32
	version   uint32
	iface     *Interface
	destroyed bool
	onDestroy []func()
}

func (r *Resource) base() *Resource { return r }

// Client returns the client that owns the object.
func (r *Resource) Client() *Client { return r.client }

// ID returns the object's id.
func (r *Resource) ID() uint32 { return r.id }

// Version returns the version the client bound or inherited.
func (r *Resource) Version() uint32 { return r.version }

// Interface returns the object's interface.
func (r *Resource) Interface() *Interface { return r.iface }

// Alive reports whether the object still exists.
func (r *Resource) Alive() bool { return r != nil && r.client != nil && !r.destroyed }

// OnDestroy registers f to run when the object is destroyed, by request,
// by the compositor, or because the client went away.
func (r *Resource) OnDestroy(f func()) { r.onDestroy = append(r.onDestroy, f) }

// NewEvent starts event opcode. Events are dropped silently for objects
// that are gone or whose version predates the event, as libwayland-server
// callers would have to check both anyway.
//
// The Writer is a value so that sending an event allocates nothing.
func (r *Resource) NewEvent(opcode uint16) Writer {
	c := r.client
	if c == nil || r.destroyed || c.dead {
		return Writer{}
	}
	if int(opcode) >= len(r.iface.Events) || r.iface.Events[opcode].Since > r.version {
		return Writer{}
	}
	w := Writer{client: c, start: len(c.out)}
	w.put(r.id)
	w.put(uint32(opcode))
	return w
}

// PostError sends wl_display.error for this object and disconnects the
// client once the error is flushed.
func (r *Resource) PostError(code uint32, format string, args ...any) {
	if r.client == nil {
		return
	}
	r.client.PostError(r.id, code, fmt.Sprintf("%s#%d: %s", r.iface.Name, r.id, fmt.Sprintf(format, args...)))
}

// Destroy removes the object: destroy listeners run, the id is freed and,
// for client-allocated ids, wl_display.delete_id tells the client it may
// reuse it.
func (r *Resource) Destroy() {
	if r.client == nil || r.destroyed {
		return
	}
	r.destroyed = true
	fns := r.onDestroy
	r.onDestroy = nil
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	c := r.client
	if o := c.objects[r.id]; o != nil && o.base() == r {
		delete(c.objects, r.id)
		c.counted(r.iface, -1)
		if r.iface.Recycle && !c.dead && len(c.spare[r.iface]) < maxSpare {
			if c.spare == nil {
				c.spare = map[*Interface][]Object{}
			}
			c.spare[r.iface] = append(c.spare[r.iface], o)
		}
		if r.id < serverIDBase && !c.dead {
			c.sendDeleteID(r.id)
		}
	}
}

func isNil(o Object) bool {
	v := reflect.ValueOf(o)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// Register makes o the object id for client c, created by a request with
// a new_id argument. The id must be a free client-range id.
func Register(c *Client, o Object, iface *Interface, id, version uint32) error {
	if id == 0 || id >= serverIDBase {
		return &Error{ObjectID: displayID, Code: ErrInvalidObject, Msg: fmt.Sprintf("invalid new id %d for %s", id, iface.Name)}
	}
	if _, used := c.objects[id]; used {
		return &Error{ObjectID: displayID, Code: ErrInvalidObject, Msg: fmt.Sprintf("new id %d for %s already in use", id, iface.Name)}
	}
	if len(c.objects) >= c.server.maxObjects {
		return &Error{ObjectID: displayID, Code: ErrNoMemory, Msg: fmt.Sprintf("too many objects: the limit is %d per client (--client-object-limit)", c.server.maxObjects)}
	}
	b := o.base()
	b.client, b.id, b.version, b.iface = c, id, version, iface
	c.objects[id] = o
	c.counted(iface, 1)
	return nil
}

// maxSpare bounds the destroyed objects a client keeps for reuse per
// interface: enough for a few frames of callbacks.
const maxSpare = 16

// Reuse returns a destroyed object of iface for the caller to empty and
// register again, or nil. Generated code uses it for Recycle interfaces;
// the object must no longer be referenced anywhere else, which holds
// for objects only the compositor destroys and forgets at once.
func Reuse(c *Client, iface *Interface) Object {
	list := c.spare[iface]
	if len(list) == 0 {
		return nil
	}
	o := list[len(list)-1]
	list[len(list)-1] = nil
	c.spare[iface] = list[:len(list)-1]
	return o
}

// RegisterServer creates o with a server-allocated id, for objects the
// compositor introduces in events (new_id in an event).
func RegisterServer(c *Client, o Object, iface *Interface, version uint32) {
	id := c.nextServerID
	c.nextServerID++
	b := o.base()
	b.client, b.id, b.version, b.iface = c, id, version, iface
	c.objects[id] = o
	c.counted(iface, 1)
}

// Arg resolves an object argument: id 0 is allowed only when nullable,
// and the object must exist and be of the expected type.
func Arg[T Object](c *Client, id uint32, nullable bool, iface string) (T, error) {
	var zero T
	if id == 0 {
		if nullable {
			return zero, nil
		}
		return zero, &Error{ObjectID: displayID, Code: ErrInvalidMethod, Msg: fmt.Sprintf("null %s object where one is required", iface)}
	}
	o, ok := c.objects[id]
	if !ok {
		return zero, &Error{ObjectID: displayID, Code: ErrInvalidObject, Msg: fmt.Sprintf("invalid object %d", id)}
	}
	t, ok := o.(T)
	if !ok {
		return zero, &Error{ObjectID: displayID, Code: ErrInvalidObject, Msg: fmt.Sprintf("object %d is a %s, not a %s", id, o.base().iface.Name, iface)}
	}
	return t, nil
}
