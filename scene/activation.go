package scene

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/activation"
	"github.com/vitrine-wm/vitrine/protocol/eventloop"
	"github.com/vitrine-wm/vitrine/protocol/wl"
)

// xdg-activation: an application asks to have one of its windows raised
// and focused (a browser opening a link in the window it already has, a
// launcher starting an app). The request carries a token the client
// got from vitrine beforehand; vitrine raises the window only when that
// token was asked for with the serial of a recent input event the same
// client received (a click, a key, a touch): an app the user is using
// may hand the focus on, an app in the background cannot steal it.

const activationVersion = 1

// Tokens are valid for this long, and at most this many are kept.
const (
	tokenLifetime = 30 * time.Second
	maxTokens     = 64
	// inputSerials is how many recent input events' serials are kept
	// to judge tokens.
	inputSerials = 16
)

// issuedToken is a token handed to a client.
type issuedToken struct {
	name    string
	client  *protocol.Client
	valid   bool // asked for with the serial of a recent input event to the client
	appID   string
	created time.Duration
}

// inputSerial is a serial sent with an input event, and to whom.
type inputSerial struct {
	serial uint32
	client *protocol.Client
}

// noteInputSerial records the serial of a press (key, button, touch)
// sent to pc, for judging activation tokens.
func (c *Compositor) noteInputSerial(serial uint32, pc *protocol.Client) {
	in := &c.in
	in.serials[in.nextSerial%inputSerials] = inputSerial{serial, pc}
	in.nextSerial++
}

// userInput reports whether serial is one of the recent input events
// sent to pc.
func (c *Compositor) userInput(serial uint32, pc *protocol.Client) bool {
	for _, s := range c.in.serials {
		if s.client == pc && s.serial == serial && serial != 0 {
			return true
		}
	}
	return false
}

func (c *Compositor) bindActivation(pc *protocol.Client, version, id uint32) error {
	res, err := activation.NewActivationV1(pc, id, version)
	if err == nil {
		res.Handler = activationHandler{c}
	}
	return err
}

type activationHandler struct{ c *Compositor }

func (activationHandler) Destroy(*activation.ActivationV1) error { return nil }

func (h activationHandler) GetActivationToken(_ *activation.ActivationV1, res *activation.ActivationTokenV1) error {
	res.Handler = &tokenRequest{c: h.c}
	return nil
}

func (h activationHandler) Activate(r *activation.ActivationV1, token string, ws *wl.Surface) error {
	c := h.c
	now := eventloop.Now()
	i := slices.IndexFunc(c.tokens, func(t issuedToken) bool { return t.name == token })
	if i < 0 {
		c.log.Debug("activation refused: unknown or expired token", "pid", r.Client().PID)
		return nil
	}
	tok := c.tokens[i]
	// A token is used once.
	c.tokens = slices.Delete(c.tokens, i, i+1)
	if !tok.valid || now-tok.created > tokenLifetime {
		c.log.Debug("activation refused: the token was not asked for with a recent input event", "pid", r.Client().PID, "app_id", tok.appID)
		return nil
	}
	xs, _ := surfaceOf(ws).role.(*xdgSurface)
	if xs == nil || xs.toplevel == nil || !xs.mapped {
		c.log.Debug("activation ignored: the surface is not a shown toplevel", "pid", r.Client().PID)
		return nil
	}
	c.raise(xs.toplevel)
	return nil
}

// tokenRequest is a zwp_activation_token_v1 being filled in.
type tokenRequest struct {
	c         *Compositor
	serial    uint32
	serialSet bool
	appID     string
	surface   *surface
	committed bool
}

func (t *tokenRequest) used(r *activation.ActivationTokenV1) error {
	if t.committed {
		return protocol.NewError(r, activation.ActivationTokenV1ErrorAlreadyUsed, "the token was already committed")
	}
	return nil
}

func (t *tokenRequest) SetSerial(r *activation.ActivationTokenV1, serial uint32, _ *wl.Seat) error {
	if err := t.used(r); err != nil {
		return err
	}
	t.serial, t.serialSet = serial, true
	return nil
}

func (t *tokenRequest) SetAppId(r *activation.ActivationTokenV1, appID string) error {
	if err := t.used(r); err != nil {
		return err
	}
	t.appID = appID
	return nil
}

// SetSurface names the surface the request came from; the serial
// already ties the token to the client that had the input.
func (t *tokenRequest) SetSurface(r *activation.ActivationTokenV1, _ *wl.Surface) error {
	return t.used(r)
}

func (t *tokenRequest) Commit(r *activation.ActivationTokenV1) error {
	if err := t.used(r); err != nil {
		return err
	}
	t.committed = true
	c := t.c
	var b [16]byte
	rand.Read(b[:])
	tok := issuedToken{name: hex.EncodeToString(b[:]), client: r.Client(), appID: t.appID, created: eventloop.Now()}
	tok.valid = t.serialSet && c.userInput(t.serial, r.Client())
	// Expired tokens go; past the limit, the oldest.
	c.tokens = slices.DeleteFunc(c.tokens, func(x issuedToken) bool { return tok.created-x.created > tokenLifetime })
	if len(c.tokens) >= maxTokens {
		c.tokens = slices.Delete(c.tokens, 0, len(c.tokens)-maxTokens+1)
	}
	c.tokens = append(c.tokens, tok)
	r.SendDone(tok.name)
	return nil
}

func (t *tokenRequest) Destroy(*activation.ActivationTokenV1) error { return nil }
