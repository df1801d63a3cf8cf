package main

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// What the counter needs to know about an object id. Everything else is
// forwarded without being looked at.
type objectKind uint8

const (
	kindRegistry objectKind = iota + 1
	kindCompositor
	kindSurface
	kindFrameCallback
)

// Protocol constants the counter relies on (wayland.xml).
const (
	displayID = 1

	displayGetRegistry = 1 // request: new_id registry
	displayError       = 0 // event: object, code, message
	displayDeleteID    = 1 // event: id

	registryBind = 0 // request: name, interface, version, new_id

	compositorCreateSurface = 0 // request: new_id surface

	surfaceFrame  = 3 // request: new_id callback
	surfaceCommit = 6

	callbackDone = 0 // event
)

// connCounter follows one client connection: which ids are surfaces and
// frame callbacks, and how many commits and frame callbacks went by. The
// request side and the event side are fed by different goroutines; the
// object table is shared between them, the counters are atomic so that the
// runner can sample them at any time.
type connCounter struct {
	requests framer
	events   framer

	mu       sync.Mutex
	objects  map[uint32]objectKind
	protoErr string

	commits     atomic.Uint64
	frames      atomic.Uint64
	surfaces    atomic.Uint64
	firstCommit atomic.Int64 // unix nanoseconds, 0 until the first commit
	broken      atomic.Bool  // the stream stopped parsing; counts are partial
}

func newConnCounter() *connCounter {
	return &connCounter{objects: make(map[uint32]objectKind)}
}

// counts is a consistent-enough snapshot of one connection: each field is
// read atomically, and the runner only ever subtracts two snapshots.
type counts struct {
	Commits  uint64
	Frames   uint64
	Surfaces uint64
}

func (c *connCounter) snapshot() counts {
	return counts{Commits: c.commits.Load(), Frames: c.frames.Load(), Surfaces: c.surfaces.Load()}
}

// firstCommitTime is the time of the connection's first wl_surface.commit.
func (c *connCounter) firstCommitTime() (time.Time, bool) {
	ns := c.firstCommit.Load()
	if ns == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// protocolError is the wl_display.error the compositor sent, if any.
func (c *connCounter) protocolError() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.protoErr
}

// feedRequests parses bytes going from the client to the compositor. It
// must see them before the compositor does, so that an id exists in the
// table before any event for it can come back.
func (c *connCounter) feedRequests(p []byte) {
	if c.broken.Load() {
		return
	}
	if err := c.requests.feed(p, c.request); err != nil {
		c.broken.Store(true)
	}
}

// feedEvents parses bytes going from the compositor to the client.
func (c *connCounter) feedEvents(p []byte) {
	if c.broken.Load() {
		return
	}
	if err := c.events.feed(p, c.event); err != nil {
		c.broken.Store(true)
	}
}

func (c *connCounter) request(object uint32, opcode uint16, args []byte) {
	if object == displayID {
		if opcode == displayGetRegistry {
			c.newObject(args, kindRegistry)
		}
		return
	}
	c.mu.Lock()
	kind := c.objects[object]
	c.mu.Unlock()
	switch kind {
	case kindRegistry:
		if opcode != registryBind {
			return
		}
		// bind's new_id is untyped, so the request itself carries the
		// interface name: no need to remember wl_registry.global events.
		r := argReader{b: args}
		r.uint() // global name
		iface := r.string()
		r.uint() // version
		id := r.uint()
		if r.bad {
			c.broken.Store(true)
			return
		}
		if iface == "wl_compositor" {
			c.setKind(id, kindCompositor)
		}
	case kindCompositor:
		if opcode == compositorCreateSurface {
			if c.newObject(args, kindSurface) {
				c.surfaces.Add(1)
			}
		}
	case kindSurface:
		switch opcode {
		case surfaceFrame:
			c.newObject(args, kindFrameCallback)
		case surfaceCommit:
			if c.commits.Add(1) == 1 {
				c.firstCommit.Store(time.Now().UnixNano())
			}
		}
	}
}

func (c *connCounter) event(object uint32, opcode uint16, args []byte) {
	if object == displayID {
		switch opcode {
		case displayDeleteID:
			r := argReader{b: args}
			id := r.uint()
			if !r.bad {
				c.mu.Lock()
				delete(c.objects, id)
				c.mu.Unlock()
			}
		case displayError:
			r := argReader{b: args}
			obj := r.uint()
			code := r.uint()
			msg := r.string()
			c.mu.Lock()
			c.protoErr = formatProtocolError(obj, code, msg)
			c.mu.Unlock()
		}
		return
	}
	c.mu.Lock()
	kind := c.objects[object]
	c.mu.Unlock()
	switch kind {
	case kindFrameCallback:
		if opcode == callbackDone {
			c.frames.Add(1)
			// A done callback is dead; delete_id follows, but the
			// id must not count twice if the stream is odd.
			c.mu.Lock()
			delete(c.objects, object)
			c.mu.Unlock()
		}
	}
}

// newObject records the new_id that is the first argument of args.
func (c *connCounter) newObject(args []byte, kind objectKind) bool {
	r := argReader{b: args}
	id := r.uint()
	if r.bad {
		c.broken.Store(true)
		return false
	}
	c.setKind(id, kind)
	return true
}

func (c *connCounter) setKind(id uint32, kind objectKind) {
	c.mu.Lock()
	c.objects[id] = kind
	c.mu.Unlock()
}

func formatProtocolError(object, code uint32, msg string) string {
	return "object " + itoa(object) + " code " + itoa(code) + ": " + msg
}

func itoa(v uint32) string {
	return strconv.FormatUint(uint64(v), 10)
}
