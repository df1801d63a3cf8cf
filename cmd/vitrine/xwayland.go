package main

import (
	"context"
	stdlog "log"
	"log/slog"
	"net"
	"strings"

	"github.com/jezek/xgb"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/scene"
	"github.com/vitrine-wm/vitrine/scene/xwayland"
	"github.com/vitrine-wm/vitrine/scene/xwm"
)

// startXwayland sets up the X display for --xwayland: nil for off, and
// for auto where Xwayland is not installed or no display is free. The
// command vitrine runs gets the display as DISPLAY (childProcess).
func startXwayland(mode string, log *slog.Logger, comp *scene.Compositor, srv *protocol.Server) (*xwayland.Server, error) {
	if mode == "off" {
		return nil, nil
	}
	binary := "Xwayland"
	if _, err := xwayland.LookBinary(binary); err != nil {
		if mode == "auto" {
			// Optional in auto: one line at info level, so that the
			// machines without X11 on purpose see no warning.
			log.Info("X11 clients disabled", "why", err.Error())
			return nil, nil
		}
		return nil, err
	}
	// xgb prints to stderr what is routine for the window manager's
	// connection (no X authority needed, EOF when Xwayland stops); it
	// goes to the log at debug level instead.
	xgb.Logger = stdlog.New(debugWriter{log}, "", 0)
	var x *xwayland.Server
	x, err := xwayland.New(xwayland.Config{
		Log:     log,
		Loop:    comp.Loop(),
		Binary:  binary,
		Connect: srv.AddClientFD,
		Started: func(client *protocol.Client, conn net.Conn) {
			xwm.Start(xwm.Config{Log: log, Scene: comp, Client: client, Conn: conn, Idle: x.StopIdle})
		},
	})
	if err != nil {
		if mode == "auto" {
			log.Warn("X11 clients disabled", "why", err.Error())
			return nil, nil
		}
		return nil, err
	}
	return x, nil
}

// debugWriter logs each write as one debug record of the X11 window
// manager's library.
type debugWriter struct{ log *slog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.log.Log(context.Background(), slog.LevelDebug, "xgb", "line", strings.TrimSpace(string(p)))
	return len(p), nil
}
