package main

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the real vitrine binary on the headless
// backend with real clients from Debian (weston demos, foot, grim,
// wayland-info) and the project's examples, and judge what grim
// captures.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds vitrine and the example clients once per test run.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "vitrine-e2e-bin")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "github.com/vitrine-wm/vitrine/cmd/vitrine", "github.com/vitrine-wm/vitrine/examples/shm-client")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// need skips the test when a tool is missing on a developer machine and
// fails it in CI, where .ci/run installs everything.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (CI must install it: see .ci/run)", tool)
			}
			t.Skipf("%s is not installed (apt-get install weston wayland-utils grim foot gtk-4-examples wlr-randr)", tool)
		}
	}
}

// compositor is a running vitrine.
type compositor struct {
	t       *testing.T
	cmd     *exec.Cmd
	display string
	runtime string
	mu      sync.Mutex
	stderr  bytes.Buffer
	stdout  *lineWaiter
	done    chan struct{}
	status  int
}

// lineWaiter collects output lines and lets a test wait for one.
type lineWaiter struct {
	mu    sync.Mutex
	lines []string
	times []time.Time // when each line arrived
	cond  *sync.Cond
}

func newLineWaiter() *lineWaiter {
	w := &lineWaiter{}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *lineWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(p))
	now := time.Now()
	for sc.Scan() {
		w.lines = append(w.lines, sc.Text())
		w.times = append(w.times, now)
	}
	w.cond.Broadcast()
	return len(p), nil
}

// wait returns the first line matching re, or fails after timeout.
func (w *lineWaiter) wait(t *testing.T, re string, timeout time.Duration) []string {
	t.Helper()
	m, _ := w.waitAt(t, re, timeout)
	return m
}

// waitAt is wait that also says when the line arrived.
func (w *lineWaiter) waitAt(t *testing.T, re string, timeout time.Duration) ([]string, time.Time) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	go func() {
		time.Sleep(timeout)
		w.cond.Broadcast()
	}()
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for i, l := range w.lines {
			if m := rx.FindStringSubmatch(l); m != nil {
				return m, w.times[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no output line matching %q within %v; got:\n%s", re, timeout, strings.Join(w.lines, "\n"))
		}
		w.cond.Wait()
	}
}

var socketSeq int

// startVitrine runs vitrine --backend headless with args (which may end
// in -- command...). The tests take screenshots with grim from outside
// the command's process tree, so unless args say otherwise every client
// is privileged.
func startVitrine(t *testing.T, args ...string) *compositor {
	t.Helper()
	if !slices.Contains(args, "--privileged-clients") {
		args = append([]string{"--privileged-clients", "all"}, args...)
	}
	return startVitrineAsIs(t, args...)
}

// startVitrineAsIs is startVitrine with vitrine's own defaults.
func startVitrineAsIs(t *testing.T, args ...string) *compositor {
	t.Helper()
	return launchVitrine(t, testRuntimeDir(t), nil, append([]string{"--backend", "headless"}, args...)...)
}

// launchVitrine runs vitrine with args in runtime (its XDG_RUNTIME_DIR),
// with env added to the test's environment.
func launchVitrine(t *testing.T, runtime string, env []string, args ...string) *compositor {
	t.Helper()
	bin := binaries(t)
	socketSeq++
	display := fmt.Sprintf("wl-e2e-%d-%d", os.Getpid(), socketSeq)
	full := []string{"--socket", display}
	if !slices.Contains(args, "--layout") {
		// The tests written before the desktop layout expect every
		// window to fill the output; the desktop's own tests ask for it.
		full = append(full, "--layout", "kiosk")
	}
	full = append(full, args...)
	c := &compositor{t: t, display: display, runtime: runtime, stdout: newLineWaiter(), done: make(chan struct{})}
	c.cmd = exec.Command(filepath.Join(bin, "vitrine"), full...)
	c.cmd.Env = append(append(os.Environ(), "XDG_RUNTIME_DIR="+runtime, "PATH="+bin+":"+os.Getenv("PATH")), env...)
	c.cmd.Stdout = c.stdout
	c.cmd.Stderr = &lockedWriter{mu: &c.mu, w: &c.stderr}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.cmd.Wait()
		c.status = c.cmd.ProcessState.ExitCode()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("vitrine log:\n%s", c.log())
		}
	})
	sock := filepath.Join(runtime, display)
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(sock); err == nil {
			return c
		}
		select {
		case <-c.done:
			// Callers that expect it running will fail with the log.
			return c
		case <-time.After(25 * time.Millisecond):
		}
	}
	t.Fatalf("vitrine did not create %s:\n%s", sock, c.log())
	return nil
}

// testRuntimeDir is a directory vitrine accepts as XDG_RUNTIME_DIR
// (t.TempDir makes them 0755).
func testRuntimeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (c *compositor) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

func (c *compositor) socketPath() string { return filepath.Join(c.runtime, c.display) }

// stop sends SIGTERM and waits; it returns the exit status.
func (c *compositor) stop() int {
	select {
	case <-c.done:
		return c.status
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
		c.t.Errorf("vitrine did not exit on SIGTERM")
	}
	return c.status
}

// wait waits for vitrine to exit on its own.
func (c *compositor) wait(timeout time.Duration) int {
	select {
	case <-c.done:
		return c.status
	case <-time.After(timeout):
		c.t.Fatalf("vitrine still running after %v:\n%s", timeout, c.log())
		return -1
	}
}

var statsRE = regexp.MustCompile(`stats: output=(\S+) frames=(\d+) scanout=(\d+) composited=(\d+) copied_bytes=(\d+)`)

// stats parses the stats: line vitrine printed on exit.
func (c *compositor) stats() (frames, copied int64) {
	c.t.Helper()
	m := statsRE.FindStringSubmatch(c.log())
	if m == nil {
		c.t.Fatalf("no stats: line in vitrine's log:\n%s", c.log())
	}
	frames, _ = strconv.ParseInt(m[2], 10, 64)
	copied, _ = strconv.ParseInt(m[5], 10, 64)
	return frames, copied
}

// client starts a Wayland client against the compositor.
func (c *compositor) client(name string, args ...string) (*exec.Cmd, *lineWaiter) {
	c.t.Helper()
	if p := filepath.Join(binaries(c.t), name); fileExists(p) {
		name = p
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display)
	out := newLineWaiter()
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, out
}

// run runs a client to completion and returns its output.
func (c *compositor) run(name string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display)
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// screenshot captures the output with grim.
func (c *compositor) screenshot() image.Image {
	c.t.Helper()
	return c.screenshotWith()
}

// screenshotWith captures with grim given args (e.g. -s 1.5) too.
func (c *compositor) screenshotWith(args ...string) image.Image {
	c.t.Helper()
	path := filepath.Join(c.t.TempDir(), "shot.png")
	c.run("grim", append(args, path)...)
	f, err := os.Open(path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		c.t.Fatalf("decode grim's png: %v", err)
	}
	return img
}

func rgb(c color.Color) [3]uint8 {
	r, g, b, _ := c.RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

// quadrantColor is what shm-client --pattern quadrants draws at (x, y)
// of a w×h surface.
func quadrantColor(x, y, w, h int) [3]uint8 {
	left, top := x < w/2, y < h/2
	switch {
	case left && top:
		return [3]uint8{0xff, 0, 0}
	case !left && top:
		return [3]uint8{0, 0xff, 0}
	case left && !top:
		return [3]uint8{0, 0, 0xff}
	}
	return [3]uint8{0xff, 0xff, 0xff}
}

// checkQuadrants compares every pixel with the quadrants pattern.
func checkQuadrants(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	bad := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			want := quadrantColor(x-b.Min.X, y-b.Min.Y, b.Dx(), b.Dy())
			if got := rgb(img.At(x, y)); got != want {
				if bad < 5 {
					t.Errorf("pixel (%d,%d) = %v, want %v", x, y, got, want)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d pixels differ from the quadrants pattern", bad, b.Dx()*b.Dy())
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
