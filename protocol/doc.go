// Package protocol is vitrine's Wayland server runtime: the wire format,
// the unix socket and its lock file, fd passing, per-client object maps,
// and protocol errors. Typed bindings for each protocol are generated
// into sub-packages (go generate) from the definitions in xml/.
//
// Every handler runs on the compositor's single loop goroutine (see
// Server.Handle); each client has a reader and a writer goroutine so
// that a slow or stuck client never blocks the loop. A client that lets
// its output queue grow past Options.MaxQueue is disconnected.
package protocol
