package xwm

import (
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// atoms are the X atoms the window manager uses, interned at start-up.
type atoms struct {
	wlSurfaceID                 xproto.Atom
	wmProtocols                 xproto.Atom
	wmDeleteWindow              xproto.Atom
	wmTakeFocus                 xproto.Atom
	wmState                     xproto.Atom
	wmS0                        xproto.Atom
	netWMCMS0                   xproto.Atom
	utf8String                  xproto.Atom
	clipboard                   xproto.Atom
	targets                     xproto.Atom
	text                        xproto.Atom
	incr                        xproto.Atom
	vitrineClipboard            xproto.Atom
	vitrinePrimary              xproto.Atom
	netSupported                xproto.Atom
	netSupportingWMCheck        xproto.Atom
	netWMName                   xproto.Atom
	netWMState                  xproto.Atom
	netWMStateFullscreen        xproto.Atom
	netWMStateMaximizedV        xproto.Atom
	netWMStateMaximizedH        xproto.Atom
	netWMStateFocused           xproto.Atom
	netActiveWindow             xproto.Atom
	netCloseWindow              xproto.Atom
	netWMWindowType             xproto.Atom
	netWMWindowTypeNormal       xproto.Atom
	netWMWindowTypeDialog       xproto.Atom
	netWMWindowTypeUtility      xproto.Atom
	netWMWindowTypeSplash       xproto.Atom
	netWMWindowTypeToolbar      xproto.Atom
	netWMWindowTypeMenu         xproto.Atom
	netWMWindowTypeDropdownMenu xproto.Atom
	netWMWindowTypePopupMenu    xproto.Atom
	netWMWindowTypeTooltip      xproto.Atom
	netWMWindowTypeNotification xproto.Atom
}

// named pairs each atom with its name.
func (a *atoms) named() []namedAtom {
	return []namedAtom{
		{"WL_SURFACE_ID", &a.wlSurfaceID},
		{"WM_PROTOCOLS", &a.wmProtocols},
		{"WM_DELETE_WINDOW", &a.wmDeleteWindow},
		{"WM_TAKE_FOCUS", &a.wmTakeFocus},
		{"WM_STATE", &a.wmState},
		{"WM_S0", &a.wmS0},
		{"_NET_WM_CM_S0", &a.netWMCMS0},
		{"UTF8_STRING", &a.utf8String},
		{"CLIPBOARD", &a.clipboard},
		{"TARGETS", &a.targets},
		{"TEXT", &a.text},
		{"INCR", &a.incr},
		{"_VITRINE_CLIPBOARD", &a.vitrineClipboard},
		{"_VITRINE_PRIMARY", &a.vitrinePrimary},
		{"_NET_SUPPORTED", &a.netSupported},
		{"_NET_SUPPORTING_WM_CHECK", &a.netSupportingWMCheck},
		{"_NET_WM_NAME", &a.netWMName},
		{"_NET_WM_STATE", &a.netWMState},
		{"_NET_WM_STATE_FULLSCREEN", &a.netWMStateFullscreen},
		{"_NET_WM_STATE_MAXIMIZED_VERT", &a.netWMStateMaximizedV},
		{"_NET_WM_STATE_MAXIMIZED_HORZ", &a.netWMStateMaximizedH},
		{"_NET_WM_STATE_FOCUSED", &a.netWMStateFocused},
		{"_NET_ACTIVE_WINDOW", &a.netActiveWindow},
		{"_NET_CLOSE_WINDOW", &a.netCloseWindow},
		{"_NET_WM_WINDOW_TYPE", &a.netWMWindowType},
		{"_NET_WM_WINDOW_TYPE_NORMAL", &a.netWMWindowTypeNormal},
		{"_NET_WM_WINDOW_TYPE_DIALOG", &a.netWMWindowTypeDialog},
		{"_NET_WM_WINDOW_TYPE_UTILITY", &a.netWMWindowTypeUtility},
		{"_NET_WM_WINDOW_TYPE_SPLASH", &a.netWMWindowTypeSplash},
		{"_NET_WM_WINDOW_TYPE_TOOLBAR", &a.netWMWindowTypeToolbar},
		{"_NET_WM_WINDOW_TYPE_MENU", &a.netWMWindowTypeMenu},
		{"_NET_WM_WINDOW_TYPE_DROPDOWN_MENU", &a.netWMWindowTypeDropdownMenu},
		{"_NET_WM_WINDOW_TYPE_POPUP_MENU", &a.netWMWindowTypePopupMenu},
		{"_NET_WM_WINDOW_TYPE_TOOLTIP", &a.netWMWindowTypeTooltip},
		{"_NET_WM_WINDOW_TYPE_NOTIFICATION", &a.netWMWindowTypeNotification},
	}
}

type namedAtom struct {
	name string
	p    *xproto.Atom
}

// intern asks for every atom at once, then waits for the answers.
func (a *atoms) intern(x *xgb.Conn) error {
	list := a.named()
	cookies := make([]xproto.InternAtomCookie, len(list))
	for i, n := range list {
		cookies[i] = xproto.InternAtom(x, false, uint16(len(n.name)), n.name)
	}
	for i, c := range cookies {
		r, err := c.Reply()
		if err != nil {
			return fmt.Errorf("%w %s: %v", errAtoms, list[i].name, err)
		}
		*list[i].p = r.Atom
	}
	return nil
}

func setWindowProp(x *xgb.Conn, w xproto.Window, prop, typ xproto.Atom, values ...uint32) {
	buf := make([]byte, 4*len(values))
	for i, v := range values {
		xgb.Put32(buf[4*i:], v)
	}
	xproto.ChangeProperty(x, xproto.PropModeReplace, w, prop, typ, 32, uint32(len(values)), buf)
}

func setAtomsProp(x *xgb.Conn, w xproto.Window, prop xproto.Atom, list []xproto.Atom) {
	values := make([]uint32, len(list))
	for i, a := range list {
		values[i] = uint32(a)
	}
	setWindowProp(x, w, prop, xproto.AtomAtom, values...)
}
