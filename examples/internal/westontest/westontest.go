// Package westontest runs the example clients against a real compositor in
// tests: weston's headless backend with the pixman renderer, whose
// screenshots (weston-screenshooter) show what the client really drew.
package westontest

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RunMainEnv is set in the environment of a test binary re-executed as the
// client under test; its TestMain then runs the client's main instead.
const RunMainEnv = "VITRINE_EXAMPLES_RUN_MAIN"

// Weston is a running headless weston.
type Weston struct {
	RuntimeDir string
	Socket     string
	Width      int
	Height     int
	cmd        *exec.Cmd
	log        *bytes.Buffer
}

// weston.ini without animations: a screenshot right after first-frame must
// show the client's pixels, not a fade or zoom in progress.
const westonIni = `[core]
idle-time=0
[shell]
animation=none
close-animation=none
startup-animation=none
focus-animation=none
`

// Start runs weston with a w×h headless output, or skips the test when
// weston is not installed.
func Start(t *testing.T, w, h int) *Weston {
	t.Helper()
	bin, err := exec.LookPath("weston")
	if err != nil {
		t.Skip("weston not on PATH (apt-get install weston): skipping test against a real compositor")
	}
	dir, err := os.MkdirTemp("", "westontest-")
	if err != nil {
		t.Fatalf("runtime dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatalf("chmod runtime dir: %v", err)
	}
	ini := filepath.Join(dir, "weston.ini")
	if err := os.WriteFile(ini, []byte(westonIni), 0o600); err != nil {
		t.Fatalf("write weston.ini: %v", err)
	}
	wst := &Weston{RuntimeDir: dir, Socket: "wl-test-0", Width: w, Height: h, log: new(bytes.Buffer)}
	wst.cmd = exec.Command(bin,
		"--backend=headless-backend.so", "--use-pixman", "--debug",
		"--socket="+wst.Socket, "--idle-time=0", "--config="+ini,
		fmt.Sprintf("--width=%d", w), fmt.Sprintf("--height=%d", h))
	wst.cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir)
	wst.cmd.Stdout = wst.log
	wst.cmd.Stderr = wst.log
	if err := wst.cmd.Start(); err != nil {
		t.Fatalf("start weston: %v", err)
	}
	t.Cleanup(func() {
		// SIGTERM lets weston stop the helper clients it launched.
		wst.cmd.Process.Signal(syscall.SIGTERM)
		stopped := time.AfterFunc(5*time.Second, func() { wst.cmd.Process.Kill() })
		wst.cmd.Wait()
		stopped.Stop()
		if t.Failed() {
			t.Logf("weston log:\n%s", wst.log.String())
		}
	})
	sock := filepath.Join(dir, wst.Socket)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("weston did not create %s within 15s; log:\n%s", sock, wst.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return wst
}

// Env is the environment a client needs to reach this weston.
func (w *Weston) Env() []string {
	return []string{"XDG_RUNTIME_DIR=" + w.RuntimeDir, "WAYLAND_DISPLAY=" + w.Socket}
}

// Screenshot captures the output with weston-screenshooter.
func (w *Weston) Screenshot(t *testing.T) image.Image {
	t.Helper()
	bin, err := exec.LookPath("weston-screenshooter")
	if err != nil {
		t.Skip("weston-screenshooter not on PATH: cannot check pixels")
	}
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), w.Env()...)
	if out, err := runTimeout(cmd, 10*time.Second); err != nil {
		t.Fatalf("weston-screenshooter: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(files) != 1 {
		t.Fatalf("weston-screenshooter wrote %d PNG files, want 1", len(files))
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatalf("open screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode screenshot %s: %v", files[0], err)
	}
	return img
}

func runTimeout(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	return out.Bytes(), err
}

// RGB is a pixel of a screenshot as 0xRRGGBB.
func RGB(img image.Image, x, y int) uint32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (r>>8)<<16 | (g>>8)<<8 | b>>8
}

// Mismatch compares img with want(x, y) over its whole bounds and describes
// the first differing pixel and how many differ, or returns "".
func Mismatch(img image.Image, want func(x, y int) uint32) string {
	b := img.Bounds()
	bad := 0
	first := ""
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if got, exp := RGB(img, x, y), want(x, y); got != exp {
				if bad == 0 {
					first = fmt.Sprintf("pixel (%d,%d) = %06x, want %06x", x, y, got, exp)
				}
				bad++
			}
		}
	}
	if bad == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d pixels differ; first: %s", bad, b.Dx()*b.Dy(), first)
}

// Client is a client process started by Run.
type Client struct {
	cmd    *exec.Cmd
	lines  chan string
	mu     sync.Mutex
	stdout []string
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// Run starts the test binary itself as a client (see RunMainEnv) with args
// and the extra environment env.
func Run(t *testing.T, env []string, args ...string) *Client {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), RunMainEnv+"=1"), env...)
	c := &Client{cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	cmd.Stderr = &c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start client: %v", err)
	}
	go c.read(stdout)
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			t.Logf("client %v stdout:\n%s\nstderr:\n%s", args, strings.Join(c.Stdout(), "\n"), c.stderr.String())
		}
	})
	return c
}

func (c *Client) read(r io.Reader) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		c.mu.Lock()
		c.stdout = append(c.stdout, s.Text())
		c.mu.Unlock()
		select {
		case c.lines <- s.Text():
		default:
		}
	}
	// Wait only after stdout hit EOF (os/exec's rule); closing lines
	// afterwards makes stderr complete for WaitLine's failure message.
	c.err = c.cmd.Wait()
	close(c.lines)
	close(c.done)
}

// Stdout is every line printed so far.
func (c *Client) Stdout() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.stdout...)
}

// Stderr is what the client wrote to stderr (complete after Wait).
func (c *Client) Stderr() string { return c.stderr.String() }

// WaitLine waits for a stdout line starting with prefix and returns it.
func (c *Client) WaitLine(t *testing.T, prefix string, d time.Duration) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("client exited before printing %q; stdout %q; stderr:\n%s", prefix, c.Stdout(), c.stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q line within %v; stdout so far %q", prefix, d, c.Stdout())
		}
	}
}

// Wait waits for the client to exit and returns its exit error (nil for
// status 0).
func (c *Client) Wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(d):
		t.Fatalf("client still running after %v", d)
		return nil
	}
}
