package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// proxy sits between the clients and a compositor so that commits and
// frame callbacks are counted the same way whatever the compositor is. It
// forwards bytes and file descriptors unchanged; the counters only read.
type proxy struct {
	listener *net.UnixListener
	upstream string // the compositor's socket
	log      *slog.Logger

	mu    sync.Mutex
	conns []*connCounter
	pipes []*net.UnixConn
	done  bool
	wg    sync.WaitGroup
}

// listenProxy listens on path and forwards each connection to upstream,
// which need not exist yet: it is dialled when a client connects.
func listenProxy(path, upstream string, log *slog.Logger) (*proxy, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("proxy: listen on %s: %w", path, err)
	}
	p := &proxy{listener: l, upstream: upstream, log: log}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.listener.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.log.Warn("proxy: accept", "err", err)
			}
			return
		}
		server, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: p.upstream, Net: "unix"})
		if err != nil {
			p.log.Warn("proxy: connect to compositor", "socket", p.upstream, "err", err)
			client.Close()
			continue
		}
		c := newConnCounter()
		p.mu.Lock()
		if p.done {
			p.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		p.conns = append(p.conns, c)
		p.pipes = append(p.pipes, client, server)
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pump(client, server, c.feedRequests)
		go p.pump(server, client, c.feedEvents)
	}
}

// maxFDs is the kernel's limit on descriptors in one SCM_RIGHTS message
// (SCM_MAX_FD); room for all of them means a read never truncates fds.
const maxFDs = 253

// pump copies src to dst, fds included, handing every chunk to observe
// before it is forwarded. Either side closing closes both, as a direct
// connection would look to the other end.
func (p *proxy) pump(src, dst *net.UnixConn, observe func([]byte)) {
	defer p.wg.Done()
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(maxFDs*4))
	for {
		n, oobn, flags, _, err := src.ReadMsgUnix(buf, oob)
		n, oobn = max(n, 0), max(oobn, 0) // failed reads report -1
		if n == 0 && oobn == 0 {
			if err != nil && !errors.Is(err, net.ErrClosed) && !isEOF(err) {
				p.log.Debug("proxy: read", "err", err)
			}
			return
		}
		if flags&unix.MSG_CTRUNC != 0 {
			p.log.Warn("proxy: file descriptors truncated; closing the connection")
			closeFDs(oob[:oobn], p.log)
			return
		}
		observe(buf[:n])
		werr := writeAll(dst, buf[:n], oob[:oobn])
		// The fds now belong to the peer too; this process's copies go.
		closeFDs(oob[:oobn], p.log)
		if werr != nil {
			p.log.Debug("proxy: write", "err", werr)
			return
		}
		if err != nil {
			return
		}
	}
}

// writeAll sends b with the control message attached to its first byte;
// sendmsg on a stream socket may take only part of b.
func writeAll(dst *net.UnixConn, b, oob []byte) error {
	if len(oob) > 0 && len(b) == 0 {
		return errors.New("file descriptors without data")
	}
	n, _, err := dst.WriteMsgUnix(b, oob, nil)
	if err != nil {
		return err
	}
	if n < len(b) {
		_, err = dst.Write(b[n:])
	}
	return err
}

func closeFDs(oob []byte, log *slog.Logger) {
	if len(oob) == 0 {
		return
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		log.Warn("proxy: parse control message", "err", err)
		return
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed)
}

// counters returns every connection seen so far, in connection order.
func (p *proxy) counters() []*connCounter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*connCounter(nil), p.conns...)
}

// close stops accepting, drops every connection and waits for the pumps.
func (p *proxy) close() {
	p.mu.Lock()
	p.done = true
	pipes := p.pipes
	p.mu.Unlock()
	p.listener.Close()
	for _, c := range pipes {
		c.Close()
	}
	p.wg.Wait()
}
