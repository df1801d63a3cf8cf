package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The clipboard tests use wl-clipboard (wl-copy and wl-paste, which
// speak zwlr_data_control_manager_v1) and GTK 4 windows (which speak
// wl_data_device and zwp_primary_selection), all real clients.

func TestWlCopyThenWlPaste(t *testing.T) {
	need(t, "wl-copy", "wl-paste")
	c := startVitrine(t)
	c.wlCopy("hello")
	if got := c.run("wl-paste"); got != "hello\n" {
		t.Fatalf("wl-paste printed %q after wl-copy hello, want %q", got, "hello\n")
	}
	// The primary selection is a selection of its own.
	c.wlCopy("--primary", "middle")
	if got := c.run("wl-paste", "--primary"); got != "middle\n" {
		t.Fatalf("wl-paste --primary printed %q after wl-copy --primary middle, want %q", got, "middle\n")
	}
	if got := c.run("wl-paste"); got != "hello\n" {
		t.Fatalf("wl-paste printed %q after a primary copy, want the clipboard's %q", got, "hello\n")
	}
	c.wlCopy("--clear")
	if out, err := c.command("wl-paste").CombinedOutput(); err == nil {
		t.Fatalf("wl-paste after wl-copy --clear succeeded with %q, want it to find no selection", out)
	}
}

// wlCopy runs wl-copy. It forks a child that serves the selection
// until it is replaced and keeps the parent's stdout and stderr, so
// they are a file here: a pipe would not see EOF before that child
// exits.
func (c *compositor) wlCopy(args ...string) {
	c.t.Helper()
	f, err := os.CreateTemp(c.t.TempDir(), "wl-copy")
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	cmd := c.command("wl-copy", args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(f.Name())
		c.t.Fatalf("wl-copy %v: %v\n%s", args, err, out)
	}
}

// command is exec.Command against the compositor, not yet started.
func (c *compositor) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtime, "WAYLAND_DISPLAY="+c.display)
	return cmd
}

// ioCounters reads rchar and wchar of /proc/PID/io: every byte the
// process read or wrote through any syscall, sockets and pipes included.
func ioCounters(t *testing.T, pid int) (rchar, wchar int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		t.Fatalf("read vitrine's I/O counters: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "rchar":
			rchar = n
		case "wchar":
			wchar = n
		}
	}
	return rchar, wchar
}

func TestClipboardDataNeverPassesThroughVitrine(t *testing.T) {
	need(t, "wl-copy", "wl-paste")
	c := startVitrine(t)
	const size = 32 << 20
	data := make([]byte, size)
	rand.Read(data)
	in := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	pid := c.cmd.Process.Pid
	r0, w0 := ioCounters(t, pid)
	copyCmd := c.command("wl-copy", "--type", "application/octet-stream")
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	copyCmd.Stdin = f
	copyCmd.Stdout, copyCmd.Stderr = nil, nil
	if err := copyCmd.Run(); err != nil {
		t.Fatalf("wl-copy: %v", err)
	}
	paste := c.command("wl-paste", "--no-newline", "--type", "application/octet-stream")
	var got bytes.Buffer
	paste.Stdout = &got
	start := time.Now()
	if err := paste.Run(); err != nil {
		t.Fatalf("wl-paste: %v", err)
	}
	elapsed := time.Since(start)
	r1, w1 := ioCounters(t, pid)
	if sha256.Sum256(got.Bytes()) != sha256.Sum256(data) {
		t.Fatalf("wl-paste gave %d bytes that differ from the %d copied", got.Len(), size)
	}
	t.Logf("%d MiB pasted in %v; vitrine read %d bytes and wrote %d meanwhile", size>>20, elapsed.Round(time.Millisecond), r1-r0, w1-w0)
	// The protocol traffic of two clients is a few kilobytes; buffering
	// the data would read and write all 32 MiB.
	if r1-r0 > 1<<20 || w1-w0 > 1<<20 {
		t.Fatalf("vitrine read %d and wrote %d bytes while %d bytes were pasted: the data went through it", r1-r0, w1-w0, size)
	}
}

// gtkClipboard is a GTK 4 window of testdata/gtk-clipboard.py that
// copies and pastes on command.
type gtkClipboard struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *lineWaiter
	seen  int
}

func startGtkClipboard(t *testing.T, c *compositor, name string) *gtkClipboard {
	t.Helper()
	script, err := filepath.Abs("testdata/gtk-clipboard.py")
	if err != nil {
		t.Fatal(err)
	}
	g := &gtkClipboard{t: t, name: name, out: newLineWaiter()}
	g.cmd = c.command("/usr/bin/python3", script, name)
	g.cmd.Env = append(g.cmd.Env, "GSK_RENDERER=cairo")
	g.cmd.Stdout, g.cmd.Stderr = g.out, g.out
	g.stdin, err = g.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.stdin.Close()
		g.cmd.Process.Kill()
		g.cmd.Wait()
	})
	g.out.wait(t, "^ready "+name+"$", 20*time.Second)
	return g
}

// do sends a command and returns the reply line that starts with want.
func (g *gtkClipboard) do(cmd, reply string) string {
	g.t.Helper()
	fmt.Fprintln(g.stdin, cmd)
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.out.mu.Lock()
		lines := g.out.lines[g.seen:]
		for i, l := range lines {
			if strings.HasPrefix(l, reply) {
				g.seen += i + 1
				g.out.mu.Unlock()
				return l
			}
		}
		g.out.mu.Unlock()
		if time.Now().After(deadline) {
			g.out.mu.Lock()
			defer g.out.mu.Unlock()
			g.t.Fatalf("GTK window %s: no reply %q to %q; it printed:\n%s", g.name, reply, cmd, strings.Join(g.out.lines, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *gtkClipboard) quit() {
	g.t.Helper()
	fmt.Fprintln(g.stdin, "quit")
	done := make(chan error)
	go func() { done <- g.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		g.t.Fatalf("GTK window %s did not quit", g.name)
	}
}

// pasteUntil pastes until the window pastes want or 5 s have passed, and
// returns the last paste: wl-copy may return before the compositor has
// handed its selection on (on a loaded machine it did).
func (g *gtkClipboard) pasteUntil(cmd, want string) string {
	g.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := g.do(cmd, "paste")
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func needGtkPython(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import gi; gi.require_version('Gtk', '4.0'); from gi.repository import Gtk").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("GTK 4 for Python is not installed (CI must install python3-gi gir1.2-gtk-4.0): %s", out)
		}
		t.Skipf("GTK 4 for Python is not installed (apt-get install python3-gi gir1.2-gtk-4.0): %s", out)
	}
}

// TestClipboardBetweenGtkAndWlClipboard copies in a GTK window and
// pastes with wl-paste, copies with wl-copy and pastes in GTK windows,
// and shows that only the window with keyboard focus is told of a new
// selection, and is told when it gets focus.
func TestClipboardBetweenGtkAndWlClipboard(t *testing.T) {
	need(t, "wl-copy", "wl-paste")
	needGtkPython(t)
	c := startVitrine(t, "--output", "640x480")
	a := startGtkClipboard(t, c, "A")

	a.do("copy from GTK", "copied")
	if got := c.run("wl-paste"); got != "from GTK\n" {
		t.Fatalf("wl-paste printed %q after the GTK window copied %q", got, "from GTK")
	}
	a.do("primary-copy GTK primary", "copied")
	if got := c.run("wl-paste", "--primary"); got != "GTK primary\n" {
		t.Fatalf("wl-paste --primary printed %q after the GTK window set the primary selection", got)
	}

	// B maps on top and takes keyboard focus; A is in the background.
	b := startGtkClipboard(t, c, "B")
	c.wlCopy("from wl-copy")
	if got := b.pasteUntil("paste", "pasted: from wl-copy"); got != "pasted: from wl-copy" {
		t.Fatalf("the focused GTK window: %q, want %q", got, "pasted: from wl-copy")
	}
	c.wlCopy("--primary", "wl primary")
	if got := b.pasteUntil("primary-paste", "pasted: wl primary"); got != "pasted: wl primary" {
		t.Fatalf("the focused GTK window's primary paste: %q, want %q", got, "pasted: wl primary")
	}
	if got := a.do("paste", "paste"); strings.Contains(got, "from wl-copy") {
		t.Fatalf("the GTK window without focus read the new selection (%q): only the focused client may", got)
	}

	// B goes, A gets focus and with it the selection.
	b.quit()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := a.do("paste", "paste")
		if got == "pasted: from wl-copy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the GTK window that got focus back pastes %q, want %q", got, "pasted: from wl-copy")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
