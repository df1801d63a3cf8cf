// Package qmp is a minimal client for the QEMU Machine Protocol: enough to
// take screendumps and inject input events into a running guest.
package qmp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"sync"
)

// Client speaks QMP over one connection. Commands are serialised: QMP
// answers in order, and the lab never needs two in flight.
type Client struct {
	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	id   int
}

// New performs the QMP handshake (greeting, qmp_capabilities) on conn.
func New(conn net.Conn) (*Client, error) {
	c := &Client{conn: conn, r: bufio.NewReader(conn)}
	var greeting struct {
		QMP json.RawMessage `json:"QMP"`
	}
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("qmp greeting: %w", err)
	}
	if err := json.Unmarshal(line, &greeting); err != nil || greeting.QMP == nil {
		return nil, fmt.Errorf("qmp greeting: unexpected %q", line)
	}
	if _, err := c.Execute("qmp_capabilities", nil); err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Error is an error reply from QEMU.
type Error struct {
	Command string
	Class   string `json:"class"`
	Desc    string `json:"desc"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("qmp %s: %s: %s", e.Command, e.Class, e.Desc)
}

// Execute runs one command and returns its "return" value. Asynchronous
// events that arrive meanwhile are skipped.
func (c *Client) Execute(command string, args any) (json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id++
	req := map[string]any{"execute": command, "id": c.id}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	for {
		line, err := c.r.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("qmp %s: %w", command, err)
		}
		var resp struct {
			Event  string          `json:"event"`
			ID     int             `json:"id"`
			Return json.RawMessage `json:"return"`
			Error  *Error          `json:"error"`
		}
		if err := json.Unmarshal(line, &resp); err != nil {
			return nil, fmt.Errorf("qmp %s: bad reply %q: %w", command, line, err)
		}
		if resp.Event != "" || resp.ID != c.id {
			continue
		}
		if resp.Error != nil {
			resp.Error.Command = command
			return nil, resp.Error
		}
		return resp.Return, nil
	}
}

// Screendump makes QEMU write what display device (a -device id=, or ""
// for the first console) shows as a PPM file. PPM is asked for rather than
// PNG because every QEMU version writes it.
func (c *Client) Screendump(device, ppmPath string) error {
	args := map[string]any{"filename": ppmPath}
	if device != "" {
		args["device"] = device
	}
	_, err := c.Execute("screendump", args)
	return err
}

// ScreendumpHead is Screendump of one head of a multi-head display
// device (virtio-gpu with max_outputs > 1); head 0 is what Screendump
// shows.
func (c *Client) ScreendumpHead(device string, head int, ppmPath string) error {
	_, err := c.Execute("screendump", map[string]any{"filename": ppmPath, "device": device, "head": head})
	return err
}

// InputEvent is one element of input-send-event's "events" list, already
// in QAPI's union shape: {"type": ..., "data": ...}.
type InputEvent struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// KeyEvent presses or releases the key with the given QKeyCode name
// ("a", "ret", "shift", "ctrl", ...).
func KeyEvent(qcode string, down bool) InputEvent {
	return InputEvent{Type: "key", Data: map[string]any{
		"down": down,
		"key":  map[string]any{"type": "qcode", "data": qcode},
	}}
}

// ButtonEvent presses or releases a pointer button ("left", "right",
// "middle", "wheel-up", "wheel-down", ...).
func ButtonEvent(button string, down bool) InputEvent {
	return InputEvent{Type: "btn", Data: map[string]any{"down": down, "button": button}}
}

// AbsEvent moves an absolute axis ("x" or "y"). QEMU's absolute range is
// 0..AbsMax whatever the display size.
func AbsEvent(axis string, value int) InputEvent {
	return InputEvent{Type: "abs", Data: map[string]any{"axis": axis, "value": value}}
}

// RelEvent moves a relative axis ("x", "y") by delta.
func RelEvent(axis string, delta int) InputEvent {
	return InputEvent{Type: "rel", Data: map[string]any{"axis": axis, "value": delta}}
}

// AbsMax is the largest value of QEMU's absolute pointer axes.
const AbsMax = 0x7fff

// SendInput injects events. QEMU routes them to the active handler for
// each event type (virtio-keyboard for keys, virtio-tablet for absolute
// pointer events) and delivers them together as one batch.
func (c *Client) SendInput(events []InputEvent) error {
	_, err := c.Execute("input-send-event", map[string]any{"events": events})
	return err
}
