package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// vitrine-bench soak runs vitrine for a long time under clients that
// come and go and watches it for leaks. Each round starts drawing
// clients, takes screenshots with grim, changes the output's mode with
// wlr-randr (every toplevel is resized), lists the globals with
// wayland-info, then kills the clients (SIGTERM or SIGKILL, alternately).
// When vitrine reports no client left, it is sampled: RSS and open fds
// from /proc, goroutines from the status line it logs on SIGUSR1.
// Sampling only when it is quiet makes fds and goroutines exact: any
// growth between rounds is a leak.

type soakOptions struct {
	duration time.Duration
	warmup   time.Duration
	vitrine  string
	jsonPath string
	tol      soakTolerance
}

// soakTolerance is how much vitrine may grow between the first samples
// after warm-up and the last ones before the verdict is "leak".
type soakTolerance struct {
	RSSKB      uint64  `json:"rss_kb"`     // absolute allowance...
	RSSFactor  float64 `json:"rss_factor"` // ...or this fraction of the start, whichever is larger
	FDs        int     `json:"fds"`        // open fds
	Goroutines int     `json:"goroutines"` // goroutines
}

// defaultSoakTolerance: the Go heap settles within the warm-up, after
// which RSS moves by a few MiB as the collector and the scavenger run;
// fds and goroutines are counted with no client connected, so they are
// the same every round in a compositor that frees what clients leave.
var defaultSoakTolerance = soakTolerance{RSSKB: 8 << 10, RSSFactor: 0.25, FDs: 2, Goroutines: 2}

type soakSample struct {
	Seconds    float64 `json:"seconds"`
	Round      int     `json:"round"`
	RSSKB      uint64  `json:"rss_kb"`
	FDs        int     `json:"fds"`
	Goroutines int     `json:"goroutines"`
	HeapInuse  uint64  `json:"heap_inuse_bytes"`
}

type soakReport struct {
	Duration  float64       `json:"duration_seconds"`
	Warmup    float64       `json:"warmup_seconds"`
	Rounds    int           `json:"rounds"`
	Clients   int           `json:"clients_started"`
	Shots     int           `json:"screenshots"`
	Resizes   int           `json:"resizes"`
	Failures  []string      `json:"failures"`
	Start     soakSample    `json:"start"`
	End       soakSample    `json:"end"`
	Tolerance soakTolerance `json:"tolerance"`
	Leaks     []string      `json:"leaks"`
	Samples   []soakSample  `json:"samples"`
}

func runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := soakOptions{tol: defaultSoakTolerance}
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", time.Minute, "how long to run")
	fs.DurationVar(&o.warmup, "warmup", 0, "time before the first sample that counts (default: a sixth of --duration, at least 10 s)")
	fs.StringVar(&o.vitrine, "vitrine", "", "vitrine binary (default: build this repository)")
	fs.StringVar(&o.jsonPath, "json", "", "also write the report and every sample to this file")
	fs.Uint64Var(&o.tol.RSSKB, "rss-tolerance-kb", o.tol.RSSKB, "RSS growth allowed, KiB (or --rss-tolerance-factor of the start, if larger)")
	fs.Float64Var(&o.tol.RSSFactor, "rss-tolerance-factor", o.tol.RSSFactor, "RSS growth allowed as a fraction of the start")
	fs.IntVar(&o.tol.FDs, "fd-tolerance", o.tol.FDs, "open fds vitrine may gain")
	fs.IntVar(&o.tol.Goroutines, "goroutine-tolerance", o.tol.Goroutines, "goroutines vitrine may gain")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.warmup == 0 {
		o.warmup = max(o.duration/6, 10*time.Second)
	}
	if o.warmup >= o.duration {
		fmt.Fprintf(stderr, "vitrine-bench soak: --warmup %v leaves nothing of --duration %v to measure\n", o.warmup, o.duration)
		return 2
	}
	for prog, pkg := range map[string]string{"grim": "grim", "wlr-randr": "wlr-randr", "wayland-info": "wayland-utils", "weston-simple-shm": "weston"} {
		if _, err := exec.LookPath(prog); err != nil {
			fmt.Fprintf(stderr, "vitrine-bench soak: %s is not installed (apt-get install %s)\n", prog, pkg)
			return 1
		}
	}
	bin, cleanup, err := vitrineBinary(ctx, o.vitrine, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "vitrine-bench soak:", err)
		return 1
	}
	defer cleanup()
	rep, err := soak(ctx, o, bin, stdout)
	if rep != nil && o.jsonPath != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if werr := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); werr != nil {
			fmt.Fprintln(stderr, "vitrine-bench soak:", werr)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "vitrine-bench soak:", err)
		return 1
	}
	printSoakReport(stdout, rep)
	if len(rep.Leaks) > 0 || len(rep.Failures) > 0 {
		return 1
	}
	return 0
}

// soakCompositor is the vitrine under test and its status lines.
type soakCompositor struct {
	cmd     *exec.Cmd
	runtime string
	socket  string
	status  chan map[string]string
	exited  chan struct{}
	logTail *tailBuffer
}

var statusLineRE = regexp.MustCompile(`msg=status (.*)$`)

func startSoakCompositor(bin, dir string) (*soakCompositor, error) {
	rt := filepath.Join(dir, "runtime")
	if err := os.Mkdir(rt, 0o700); err != nil {
		return nil, err
	}
	c := &soakCompositor{runtime: rt, socket: "soak-0", status: make(chan map[string]string, 16), exited: make(chan struct{}), logTail: &tailBuffer{max: 64}}
	c.cmd = exec.Command(bin, "--backend", "headless", "--output", "1280x720@60", "--socket", c.socket, "--privileged-clients", "all")
	c.cmd.Env = append(cleanEnv(), "XDG_RUNTIME_DIR="+rt)
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start vitrine: %w", err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := statusLineRE.FindStringSubmatch(line); m != nil {
				kv := map[string]string{}
				for _, f := range strings.Fields(m[1]) {
					if k, v, ok := strings.Cut(f, "="); ok {
						kv[k] = v
					}
				}
				select {
				case c.status <- kv:
				default:
				}
				continue
			}
			c.logTail.add(line)
		}
		c.cmd.Wait()
		close(c.exited)
	}()
	sock := filepath.Join(rt, c.socket)
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(sock); err == nil {
			return c, nil
		}
		select {
		case <-c.exited:
			return nil, fmt.Errorf("vitrine exited at start:\n%s", c.logTail)
		case <-time.After(25 * time.Millisecond):
		}
	}
	c.stop()
	return nil, fmt.Errorf("vitrine did not create %s:\n%s", sock, c.logTail)
}

func (c *soakCompositor) env() []string {
	return append(cleanEnv(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.socket, benchChildEnv+"=1")
}

func (c *soakCompositor) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// askStatus sends SIGUSR1 and returns the status line's fields.
func (c *soakCompositor) askStatus(timeout time.Duration) (map[string]string, error) {
	for len(c.status) > 0 {
		<-c.status
	}
	if err := c.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return nil, err
	}
	select {
	case kv := <-c.status:
		return kv, nil
	case <-c.exited:
		return nil, errors.New("vitrine exited")
	case <-time.After(timeout):
		return nil, fmt.Errorf("no status line within %v of SIGUSR1", timeout)
	}
}

// waitQuiet waits until vitrine has no client left.
func (c *soakCompositor) waitQuiet(timeout time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(timeout)
	for {
		kv, err := c.askStatus(2 * time.Second)
		if err != nil {
			return nil, err
		}
		if kv["clients"] == "0" {
			return kv, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s clients still connected %v after every client was killed", kv["clients"], timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *soakCompositor) stop() {
	if !c.alive() {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// tailBuffer keeps the last lines of vitrine's log for error messages;
// the reader of vitrine's stderr adds, the soak reads.
type tailBuffer struct {
	max   int
	mu    sync.Mutex
	lines []string
}

func (t *tailBuffer) add(l string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, l)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// soakModes alternate each round, so every toplevel is resized (kiosk
// layout: fullscreen at the output's size) and screenshots change size.
var soakModes = [][2]int{{1280, 720}, {800, 600}}

func soak(ctx context.Context, o soakOptions, bin string, progress io.Writer) (*soakReport, error) {
	dir, err := os.MkdirTemp("", "vitrine-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	comp, err := startSoakCompositor(bin, dir)
	if err != nil {
		return nil, err
	}
	defer comp.stop()
	rep := &soakReport{Duration: o.duration.Seconds(), Warmup: o.warmup.Seconds(), Tolerance: o.tol}
	start := time.Now()
	end := start.Add(o.duration)
	fmt.Fprintf(progress, "soak: vitrine pid %d, %v (warm-up %v); a sample after every round, with no client connected\n", comp.cmd.Process.Pid, o.duration, o.warmup)
	for round := 0; time.Now().Before(end); round++ {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		soakRound(round, comp, self, dir, rep)
		if !comp.alive() {
			return rep, fmt.Errorf("vitrine died in round %d:\n%s", round, comp.logTail)
		}
		kv, err := comp.waitQuiet(10 * time.Second)
		if err != nil {
			return rep, fmt.Errorf("round %d: %w\n%s", round, err, comp.logTail)
		}
		s, err := sampleSoak(comp.cmd.Process.Pid, kv)
		if err != nil {
			return rep, err
		}
		s.Seconds, s.Round = time.Since(start).Seconds(), round
		rep.Samples = append(rep.Samples, s)
		rep.Rounds = round + 1
		if round%10 == 0 {
			fmt.Fprintf(progress, "soak: t=%.0fs round=%d rss_kb=%d fds=%d goroutines=%d heap_inuse_bytes=%d failures=%d\n", s.Seconds, round, s.RSSKB, s.FDs, s.Goroutines, s.HeapInuse, len(rep.Failures))
		}
	}
	judgeSoak(rep)
	return rep, nil
}

// soakRound is one cycle of clients. Failures of the tools vitrine
// serves (a screenshot that fails, a mode that is not set) are recorded;
// the soak goes on so the report shows how often.
func soakRound(round int, comp *soakCompositor, self, dir string, rep *soakReport) {
	env := comp.env()
	var clients []*exec.Cmd
	spawn := func(argv ...string) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("round %d: start %s: %v", round, argv[0], err))
			return
		}
		clients = append(clients, cmd)
		rep.Clients++
	}
	spawn("weston-simple-shm")
	spawn(self, fullscreenClientCommand)
	if round%2 == 1 {
		if _, err := exec.LookPath("weston-simple-damage"); err == nil {
			spawn("weston-simple-damage")
		}
	}
	if round%5 == 4 {
		if _, err := exec.LookPath("foot"); err == nil {
			spawn("foot", "-o", "scrollback.lines=0", "sh", "-c", "seq 1 200; sleep 30")
		}
	}
	time.Sleep(400 * time.Millisecond)

	run := func(argv ...string) error {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	shot := func(w, h int) {
		path := filepath.Join(dir, "shot.png")
		if err := run("grim", path); err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("round %d: %v", round, err))
			return
		}
		rep.Shots++
		f, err := os.Open(path)
		if err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("round %d: %v", round, err))
			return
		}
		defer f.Close()
		cfg, err := png.DecodeConfig(f)
		if err != nil || cfg.Width != w || cfg.Height != h {
			rep.Failures = append(rep.Failures, fmt.Sprintf("round %d: screenshot %dx%d (%v), want %dx%d", round, cfg.Width, cfg.Height, err, w, h))
		}
	}
	cur := soakModes[round%len(soakModes)]
	next := soakModes[(round+1)%len(soakModes)]
	shot(cur[0], cur[1])
	if err := run("wlr-randr", "--output", "HEADLESS-1", "--mode", fmt.Sprintf("%dx%d", next[0], next[1])); err != nil {
		rep.Failures = append(rep.Failures, fmt.Sprintf("round %d: %v", round, err))
	} else {
		rep.Resizes++
	}
	time.Sleep(200 * time.Millisecond)
	shot(next[0], next[1])
	if err := run("wayland-info"); err != nil {
		rep.Failures = append(rep.Failures, fmt.Sprintf("round %d: %v", round, err))
	}

	sig := syscall.SIGTERM
	if round%2 == 1 {
		sig = syscall.SIGKILL // no goodbye: the socket just closes
	}
	for _, c := range clients {
		c.Process.Signal(sig)
	}
	for _, c := range clients {
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			c.Process.Kill()
			<-done
		}
	}
}

func sampleSoak(pid int, status map[string]string) (soakSample, error) {
	var s soakSample
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("read vitrine's status: %w", err)
	}
	st, err := parseStatus(string(b))
	if err != nil {
		return s, err
	}
	s.RSSKB = st.RSSKB
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, fmt.Errorf("list vitrine's fds: %w", err)
	}
	s.FDs = len(fds)
	if s.Goroutines, err = strconv.Atoi(status["goroutines"]); err != nil {
		return s, fmt.Errorf("status line without goroutines=: %v", status)
	}
	s.HeapInuse, _ = strconv.ParseUint(status["heap_inuse_bytes"], 10, 64)
	return s, nil
}

// judgeSoak compares the median of the first samples after warm-up with
// the median of the last ones (medians, so one sample taken while the
// collector had not yet returned memory does not decide) and lists what
// grew past its tolerance.
func judgeSoak(rep *soakReport) {
	var measured []soakSample
	for _, s := range rep.Samples {
		if s.Seconds >= rep.Warmup {
			measured = append(measured, s)
		}
	}
	if len(measured) < 2 {
		rep.Leaks = append(rep.Leaks, fmt.Sprintf("only %d samples after the warm-up: run longer", len(measured)))
		return
	}
	n := max(1, min(3, len(measured)/3))
	rep.Start = medianSample(measured[:n])
	rep.End = medianSample(measured[len(measured)-n:])
	t := rep.Tolerance
	rssAllowed := max(t.RSSKB, uint64(float64(rep.Start.RSSKB)*t.RSSFactor))
	if rep.End.RSSKB > rep.Start.RSSKB+rssAllowed {
		rep.Leaks = append(rep.Leaks, fmt.Sprintf("RSS grew from %d to %d KiB (allowed +%d KiB)", rep.Start.RSSKB, rep.End.RSSKB, rssAllowed))
	}
	if rep.End.FDs > rep.Start.FDs+t.FDs {
		rep.Leaks = append(rep.Leaks, fmt.Sprintf("open fds grew from %d to %d (allowed +%d)", rep.Start.FDs, rep.End.FDs, t.FDs))
	}
	if rep.End.Goroutines > rep.Start.Goroutines+t.Goroutines {
		rep.Leaks = append(rep.Leaks, fmt.Sprintf("goroutines grew from %d to %d (allowed +%d)", rep.Start.Goroutines, rep.End.Goroutines, t.Goroutines))
	}
}

// medianSample takes each figure's median on its own.
func medianSample(ss []soakSample) soakSample {
	pick := func(f func(soakSample) float64) int {
		idx := make([]int, len(ss))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int {
			x, y := f(ss[a]), f(ss[b])
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		})
		return idx[len(idx)/2]
	}
	return soakSample{
		Seconds:    ss[len(ss)/2].Seconds,
		Round:      ss[len(ss)/2].Round,
		RSSKB:      ss[pick(func(s soakSample) float64 { return float64(s.RSSKB) })].RSSKB,
		FDs:        ss[pick(func(s soakSample) float64 { return float64(s.FDs) })].FDs,
		Goroutines: ss[pick(func(s soakSample) float64 { return float64(s.Goroutines) })].Goroutines,
		HeapInuse:  ss[pick(func(s soakSample) float64 { return float64(s.HeapInuse) })].HeapInuse,
	}
}

func printSoakReport(w io.Writer, rep *soakReport) {
	fmt.Fprintf(w, "soak: %d rounds, %d clients started, %d screenshots, %d resizes, %d failures in %.0f s\n", rep.Rounds, rep.Clients, rep.Shots, rep.Resizes, len(rep.Failures), rep.Duration)
	for i, f := range rep.Failures {
		if i == 10 {
			fmt.Fprintf(w, "  ... %d more\n", len(rep.Failures)-10)
			break
		}
		fmt.Fprintf(w, "  failure: %s\n", f)
	}
	fmt.Fprintf(w, "start (t=%.0fs): rss_kb=%d fds=%d goroutines=%d heap_inuse_bytes=%d\n", rep.Start.Seconds, rep.Start.RSSKB, rep.Start.FDs, rep.Start.Goroutines, rep.Start.HeapInuse)
	fmt.Fprintf(w, "end   (t=%.0fs): rss_kb=%d fds=%d goroutines=%d heap_inuse_bytes=%d\n", rep.End.Seconds, rep.End.RSSKB, rep.End.FDs, rep.End.Goroutines, rep.End.HeapInuse)
	if len(rep.Leaks) == 0 {
		fmt.Fprintf(w, "no growth beyond tolerance (RSS +max(%d KiB, %.0f%%), fds +%d, goroutines +%d)\n", rep.Tolerance.RSSKB, rep.Tolerance.RSSFactor*100, rep.Tolerance.FDs, rep.Tolerance.Goroutines)
	}
	for _, l := range rep.Leaks {
		fmt.Fprintf(w, "LEAK: %s\n", l)
	}
}
