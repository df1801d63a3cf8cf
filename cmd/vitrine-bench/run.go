package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// runner runs one compositor×workload measurement at a time.
type runner struct {
	seconds time.Duration
	warmup  time.Duration
	// startTimeout bounds the wait for the clients' first commits
	// (chromium or a hundred clients on two cores take a while).
	startTimeout time.Duration
	self         string // this program, for the built-in client
	proc         procFS
	log          *slog.Logger
	// unprivileged is resolved on first use: only cage needs it.
	unprivileged func() (identity, error)
}

// runOne measures workload w on compositor c whose binary is bin.
func (rn *runner) runOne(ctx context.Context, c compositor, bin string, w workload) result {
	res := newResult(c.Name, w.Name, w.Idle)
	if err := rn.measure(ctx, c, bin, w, &res); err != nil {
		res.Error = err.Error()
		return res
	}
	res.derive()
	return res
}

func (rn *runner) measure(ctx context.Context, c compositor, bin string, w workload, res *result) error {
	dir, err := os.MkdirTemp("", "vitrine-bench-")
	if err != nil {
		return fmt.Errorf("create run directory: %w", err)
	}
	defer os.RemoveAll(dir)
	// The run directory must be reachable by a compositor running as
	// another user; its runtime directory inside stays private.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}

	compRT := filepath.Join(dir, "compositor-runtime")
	clientRT := filepath.Join(dir, "client-runtime")
	argv, extraEnv, socket, na := c.Command(bin, w, compRT)
	if na != "" {
		res.Skipped = na
		return nil
	}
	id := identity{}
	if c.Unprivileged {
		if id, err = rn.unprivileged(); err != nil {
			return err
		}
	}
	for _, d := range []string{compRT, clientRT} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("create runtime directory: %w", err)
		}
	}
	if err := id.chown(compRT); err != nil {
		return err
	}

	env := append(cleanEnv(), "XDG_RUNTIME_DIR="+compRT)
	if id.cred != nil {
		env = append(env, "HOME="+compRT, "USER="+id.name, "LOGNAME="+id.name)
	}
	env = append(env, extraEnv...)
	comp, err := startChild(c.Name, argv, env, id.cred, filepath.Join(dir, "compositor.log"))
	if err != nil {
		return err
	}
	defer func() {
		if err := comp.stop(rn.proc, 3*time.Second); err != nil {
			rn.log.Warn("stop compositor", "compositor", c.Name, "err", err)
		}
	}()
	if err := waitForSocket(socket, comp, 15*time.Second); err != nil {
		return err
	}

	if out, err := probeOutput(socket, 5*time.Second); err != nil {
		res.Notes = append(res.Notes, err.Error())
	} else {
		res.OutputWidth, res.OutputHeight, res.OutputTransform = out.width, out.height, out.transform
		if w.Rotate && out.transform != wlOutputTransform90 {
			res.Notes = append(res.Notes, fmt.Sprintf("output transform is %d, not 90", out.transform))
		}
	}

	const display = "wayland-bench"
	px, err := listenProxy(filepath.Join(clientRT, display), socket, rn.log)
	if err != nil {
		return err
	}
	defer px.close()

	cenv := clientEnv{self: rn.self, dataDir: dir, page: filepath.Join(dir, "page.html")}
	if err := os.WriteFile(cenv.page, []byte(animatedPage), 0o644); err != nil {
		return fmt.Errorf("write chromium page: %w", err)
	}
	clientArgv := w.Argv(cenv)
	clientEnvv := append(cleanEnv(), "XDG_RUNTIME_DIR="+clientRT, "WAYLAND_DISPLAY="+display,
		benchChildEnv+"=1")
	var clients []*child
	// Clients first (deferred last), so the compositor sees them leave.
	defer func() { stopAll(clients, rn.proc, time.Second, rn.log) }()
	for i := range w.Clients {
		cl, err := startChild(fmt.Sprintf("client %d (%s)", i, clientArgv[0]), clientArgv, clientEnvv, nil,
			filepath.Join(dir, fmt.Sprintf("client-%d.log", i)))
		if err != nil {
			return err
		}
		clients = append(clients, cl)
	}

	if err := rn.waitForCommits(ctx, px, w.want(), comp, clients); err != nil {
		return err
	}
	if err := sleepWatching(ctx, rn.warmup, comp); err != nil {
		return err
	}

	before := snapshotAll(px)
	sBefore, err := rn.proc.sampleTree(comp.pid())
	if err != nil {
		return fmt.Errorf("sample %s at window start: %w", c.Name, err)
	}
	machine0, machineErr := rn.proc.readCPUTimes()
	t0 := time.Now()
	clocks0 := readClocks()
	if err := sleepWatching(ctx, rn.seconds, comp); err != nil {
		return err
	}
	sAfter, err := rn.proc.sampleTree(comp.pid())
	if err != nil {
		return fmt.Errorf("sample %s at window end: %w", c.Name, err)
	}
	after := snapshotAll(px)
	clocks1 := readClocks()
	res.WindowSeconds = time.Since(t0).Seconds()
	if machine1, err := rn.proc.readCPUTimes(); err == nil && machineErr == nil {
		// USER_HZ is 100 on every Linux architecture vitrine targets.
		busy := busyCores(machine0, machine1, res.WindowSeconds, 100)
		res.MachineBusyCores = busy
		res.OthersBusyCores = max(0, busy-float64(res.CPUNS)/1e9/res.WindowSeconds)
	}

	res.CPUNS = sub(sAfter.CPUNS, sBefore.CPUNS)
	res.CtxSw = sub(sAfter.CtxSw, sBefore.CtxSw)
	res.VolCtxSw = sub(sAfter.VolCtxSw, sBefore.VolCtxSw)
	res.RSSKB, res.HWMKB = sAfter.RSSKB, sAfter.HWMKB
	res.Processes = sAfter.Commands
	var perClient []uint64
	for i, cc := range px.counters() {
		a, b := after[cc], before[cc]
		res.Commits += a.Commits - b.Commits
		// Clients are the connections that drew in the window: chromium
		// keeps a second connection with a surface that never commits.
		if a.Commits != b.Commits || a.Frames != b.Frames {
			perClient = append(perClient, a.Frames-b.Frames)
		}
		if cc.broken.Load() {
			res.Notes = append(res.Notes, fmt.Sprintf("connection %d: the proxy lost track of the message stream; its counts are partial", i))
		}
		if msg := cc.protocolError(); msg != "" {
			res.Notes = append(res.Notes, fmt.Sprintf("connection %d: protocol error: %s", i, msg))
		}
	}
	res.setFrames(perClient)
	if res.OutputWidth != 0 && (res.OutputWidth != outputWidth || res.OutputHeight != outputHeight) {
		res.Notes = append(res.Notes, fmt.Sprintf("output is %dx%d, not %dx%d", res.OutputWidth, res.OutputHeight, outputWidth, outputHeight))
	}
	exited := 0
	for _, cl := range clients {
		if cl.hasExited() {
			exited++
		}
	}
	if exited > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d of %d clients exited during the run (first: %v)", exited, len(clients), firstExited(clients)))
	}
	if w.Latency {
		rn.latency(filepath.Join(dir, "client-0.log"), clocks0, clocks1, res)
	}
	return nil
}

// benchChildEnv marks a process started by the bench, so that a test
// binary re-executed as the built-in client runs the client, not tests.
const benchChildEnv = "VITRINE_BENCH_CHILD"

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

func firstExited(clients []*child) string {
	for _, c := range clients {
		if c.hasExited() {
			return c.exitError().Error()
		}
	}
	return ""
}

func snapshotAll(px *proxy) map[*connCounter]counts {
	m := make(map[*connCounter]counts)
	for _, c := range px.counters() {
		m[c] = c.snapshot()
	}
	return m
}

// waitForCommits waits until want connections have committed a surface.
func (rn *runner) waitForCommits(ctx context.Context, px *proxy, want int, comp *child, clients []*child) error {
	deadline := time.Now().Add(rn.startTimeout)
	for {
		n := 0
		for _, c := range px.counters() {
			if _, ok := c.firstCommitTime(); ok {
				n++
			}
		}
		if n >= want {
			return nil
		}
		if comp.hasExited() {
			return comp.exitError()
		}
		alive := 0
		for _, c := range clients {
			if !c.hasExited() {
				alive++
			}
		}
		if alive == 0 {
			return fmt.Errorf("all clients exited before committing (%d of %d committed): %w", n, want, clients[0].exitError())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d clients committed a surface within %v; last lines of %s:\n%s",
				n, want, rn.startTimeout, clients[0].log, tail(clients[0].log, 10))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sleepWatching sleeps for d unless the compositor exits or ctx ends.
func sleepWatching(ctx context.Context, d time.Duration, comp *child) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-comp.exited:
		return comp.exitError()
	case <-ctx.Done():
		return ctx.Err()
	}
}
