package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
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
	res := result{Compositor: c.Name, Workload: w.Name, idle: w.Idle}
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

	id := identity{}
	if c.Unprivileged {
		if id, err = rn.unprivileged(); err != nil {
			return err
		}
	}
	compRT := filepath.Join(dir, "compositor-runtime")
	clientRT := filepath.Join(dir, "client-runtime")
	for _, d := range []string{compRT, clientRT} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("create runtime directory: %w", err)
		}
	}
	if err := id.chown(compRT); err != nil {
		return err
	}

	argv, extraEnv, socket, na := c.Command(bin, w, compRT)
	if na != "" {
		res.Skipped = na
		return nil
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
	defer func() {
		// Clients first, so the compositor sees them leave.
		for _, cl := range clients {
			if err := cl.stop(rn.proc, time.Second); err != nil {
				rn.log.Warn("stop client", "err", err)
			}
		}
	}()
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

// The presentation clocks compositors announce: weston uses
// CLOCK_MONOTONIC_RAW, vitrine and wlroots CLOCK_MONOTONIC.
var presentationClocks = []int32{unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_RAW}

func readClocks() map[int32]int64 {
	m := make(map[int32]int64, len(presentationClocks))
	for _, id := range presentationClocks {
		var ts unix.Timespec
		if unix.ClockGettime(id, &ts) == nil {
			m[id] = ts.Nano()
		}
	}
	return m
}

// latency fills the latency figures from the built-in client's output,
// keeping commits made inside the window.
func (rn *runner) latency(path string, start, end map[int32]int64, res *result) {
	f, err := os.Open(path)
	if err != nil {
		res.Notes = append(res.Notes, "latency: "+err.Error())
		return
	}
	defer f.Close()
	lat, discarded, err := parseLatencies(f, start, end)
	if err != nil {
		res.Notes = append(res.Notes, "latency: "+err.Error())
		return
	}
	res.Discarded = discarded
	res.LatencySamples = len(lat)
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	res.LatencyP50MS = metric(percentile(lat, 50))
	res.LatencyP99MS = metric(percentile(lat, 99))
}

// parseLatencies reads the fullscreen client's lines and returns the
// commit-to-present latencies in milliseconds of commits made between
// start and end, in the clock the client announced.
func parseLatencies(r io.Reader, start, end map[int32]int64) ([]float64, int, error) {
	var (
		lat       []float64
		discarded int
		clock     = int32(-1)
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		kv := map[string]int64{}
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				kv[k] = n
			}
		}
		switch fields[0] {
		case "clock":
			clock = int32(kv["id"])
			if _, ok := start[clock]; !ok {
				return nil, 0, fmt.Errorf("the compositor's presentation clock %d is not one the bench reads", clock)
			}
		case "presented", "discarded":
			if clock < 0 {
				return nil, 0, errors.New("presentation lines before the clock line")
			}
			t := kv["commit_ns"]
			if t < start[clock] || t > end[clock] {
				continue
			}
			if fields[0] == "discarded" {
				discarded++
				continue
			}
			lat = append(lat, float64(kv["latency_ns"])/1e6)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	if clock < 0 {
		return nil, 0, errors.New("the compositor offers no wp_presentation")
	}
	return lat, discarded, nil
}
