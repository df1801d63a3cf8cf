package main

import (
	"fmt"
	"image"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
)

func TestShmClientQuadrantsPixelExact(t *testing.T) {
	need(t, "grim")
	c := startVitrine(t, "--output", "640x480", "--", "shm-client", "--pattern", "quadrants", "--fullscreen")
	c.stdout.wait(t, `^first-frame 640x480$`, 10*time.Second)
	img := c.screenshot()
	if img.Bounds().Size() != image.Pt(640, 480) {
		t.Fatalf("screenshot is %v, want 640x480", img.Bounds().Size())
	}
	checkQuadrants(t, img)
}

func TestRotatedOutputScreenshot(t *testing.T) {
	need(t, "grim")
	// A 90° output: clients see a 480x640 logical output; grim undoes the
	// transform it reads from wl_output, so the capture is upright.
	c := startVitrine(t, "--output", "640x480", "--rotate", "90", "--", "shm-client", "--pattern", "quadrants", "--fullscreen")
	c.stdout.wait(t, `^first-frame 480x640$`, 10*time.Second)
	img := c.screenshot()
	if img.Bounds().Size() != image.Pt(480, 640) {
		t.Fatalf("screenshot is %v, want 480x640", img.Bounds().Size())
	}
	checkQuadrants(t, img)
}

func TestWestonSimpleShm(t *testing.T) {
	need(t, "grim", "weston-simple-shm")
	c := startVitrine(t, "--output", "640x480", "--", "weston-simple-shm")
	// weston-simple-shm draws a fixed 250x250 window; kiosk centres it.
	win := image.Rect(195, 115, 445, 365)
	img := waitForPixels(t, c, func(img image.Image) bool { return rgb(img.At(320, 240)) != [3]uint8{} })
	colours := map[[3]uint8]bool{}
	inside, lit := 0, 0
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			p := rgb(img.At(x, y))
			if !image.Pt(x, y).In(win) {
				if p != [3]uint8{} {
					t.Fatalf("pixel (%d,%d) outside the window is %v, want black", x, y, p)
				}
				continue
			}
			inside++
			colours[p] = true
			if p != [3]uint8{} {
				lit++
			}
		}
	}
	if lit < inside*9/10 || len(colours) < 100 {
		t.Fatalf("window area has %d of %d pixels lit and %d colours; want >90%% lit and the rings' gradients (>100 colours)", lit, inside, len(colours))
	}
	t.Logf("weston-simple-shm: %d/%d window pixels lit, %d colours", lit, inside, len(colours))
}

func TestWestonSimpleDamage(t *testing.T) {
	need(t, "grim", "weston-simple-damage")
	c := startVitrine(t, "--output", "800x600", "--", "weston-simple-damage")
	white := [3]uint8{255, 255, 255}
	img := waitForPixels(t, c, func(img image.Image) bool { return rgb(img.At(252, 300)) == white })
	// A 300x200 window centred at (250,200): a white frame around the
	// bouncing green ball.
	for _, p := range []image.Point{{252, 300}, {547, 300}, {400, 202}, {400, 397}} {
		if got := rgb(img.At(p.X, p.Y)); got != white {
			t.Errorf("frame pixel %v = %v, want white", p, got)
		}
	}
	green := 0
	for y := 0; y < 600; y++ {
		for x := 0; x < 800; x++ {
			p := rgb(img.At(x, y))
			in := image.Pt(x, y).In(image.Rect(250, 200, 550, 400))
			if !in && p != [3]uint8{} {
				t.Fatalf("pixel (%d,%d) outside the window is %v", x, y, p)
			}
			if p == [3]uint8{0, 255, 0} {
				green++
			}
		}
	}
	if green < 100 {
		t.Fatalf("found %d green ball pixels, want the ball (~300)", green)
	}
}

func TestFoot(t *testing.T) {
	need(t, "grim", "foot")
	// A row of true-colour background cells proves text rendering reached
	// the screen, at the top left where a fullscreen terminal puts it.
	script := `printf '\033[48;2;0;200;0m%s\033[0m\n' '                    '; sleep 60`
	c := startVitrine(t, "--output", "800x600", "--", "foot", "-o", "font=monospace:size=12", "sh", "-c", script)
	isGreen := func(img image.Image, x, y int) bool { return rgb(img.At(x, y)) == [3]uint8{0, 200, 0} }
	img := waitForPixels(t, c, func(img image.Image) bool { return isGreen(img, 5, 5) })
	green, bg := 0, 0
	box := image.Rectangle{}
	for y := 0; y < 600; y++ {
		for x := 0; x < 800; x++ {
			switch rgb(img.At(x, y)) {
			case [3]uint8{0, 200, 0}:
				green++
				box = box.Union(image.Rect(x, y, x+1, y+1))
			case [3]uint8{0x11, 0x11, 0x11}:
				bg++
			}
		}
	}
	// foot pads its grid by a few pixels.
	if box.Min.X > 4 || box.Min.Y > 4 || box.Dx() < 100 || box.Dy() < 10 || box.Dy() > 40 {
		t.Fatalf("green cells cover %v, want one text row from the top-left corner", box)
	}
	if bg < 800*600*8/10 {
		t.Fatalf("only %d pixels of foot's background colour; is foot fullscreen?", bg)
	}
}

func TestWaylandInfoListsGlobals(t *testing.T) {
	need(t, "wayland-info")
	c := startVitrine(t, "--output", "640x480")
	out := c.run("wayland-info")
	want := map[string]int{
		"wl_compositor": 5, "wl_subcompositor": 1, "wl_shm": 1, "wl_seat": 8, "wl_output": 4,
		"wl_data_device_manager": 3, "xdg_wm_base": 5, "zxdg_decoration_manager_v1": 1,
		"wp_viewporter": 1, "wp_presentation": 1, "wp_single_pixel_buffer_manager_v1": 1,
		"zxdg_output_manager_v1": 3, "zwlr_screencopy_manager_v1": 3, "zwp_linux_dmabuf_v1": 4,
		"zwlr_output_manager_v1": 4, "zwp_primary_selection_device_manager_v1": 1,
		"zwlr_data_control_manager_v1": 2, "zwp_relative_pointer_manager_v1": 1,
		"zwp_pointer_constraints_v1": 1, "wp_fractional_scale_manager_v1": 1,
	}
	re := regexp.MustCompile(`interface: '([a-z0-9_]+)',\s+version:\s+(\d+)`)
	got := map[string]int{}
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.Atoi(m[2])
		got[m[1]] = v
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s: wayland-info shows version %d, want %d", name, got[name], v)
		}
	}
	for _, s := range []string{"HEADLESS-1", "width: 640 px, height: 480 px", "refresh: 60.000 Hz", "'XR24'", "'AR24'", "'XB24'", "'AB24'", "'RG16'"} {
		if !strings.Contains(out, s) {
			t.Errorf("wayland-info output lacks %q", s)
		}
	}
	if t.Failed() {
		t.Logf("wayland-info said:\n%s", out)
	}
}

func TestCommandExitStatusIsVitrines(t *testing.T) {
	c := startVitrine(t, "--", "sh", "-c", "exit 7")
	if got := c.wait(10 * time.Second); got != 7 {
		t.Fatalf("vitrine exited %d, want the command's 7", got)
	}
	if frames, _ := c.stats(); frames < 0 {
		t.Fatal("bad stats")
	}
}

func TestRestartKeepsCommandRunning(t *testing.T) {
	c := startVitrine(t, "--restart", "--", "sh", "-c", "echo started; exit 3")
	deadline := time.Now().Add(8 * time.Second)
	for strings.Count(c.log(), "restarting command") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("command was not restarted twice:\n%s", c.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := c.stop(); got != 0 {
		t.Fatalf("vitrine exited %d after SIGTERM, want 0", got)
	}
}

// hostile misbehaviours, each on its own connection.
var hostile = []struct {
	name string
	do   func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error
	code uint32
	msg  string
}{
	{"garbage bytes", func(t *testing.T, h *protocoltest.Client, _ map[string][2]uint32, _ uint32) error {
		return h.Write([]byte("GET / HTTP/1.1\r\nHost: vitrine\r\n\r\n...."))
	}, 1, "invalid message size"},
	{"unknown object id", func(t *testing.T, h *protocoltest.Client, _ map[string][2]uint32, _ uint32) error {
		return h.Send(777, 0)
	}, 0, "invalid object 777"},
	{"request on a destroyed object", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		comp := bind(h, g, reg, "wl_compositor", 5)
		region := h.NewID()
		h.Send(comp, 1, region)              // create_region
		h.Send(region, 0)                    // destroy
		return h.Send(region, 1, 0, 0, 4, 4) // add on the dead region
	}, 0, "invalid object"},
	{"shm pool larger than its fd", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		shm := bind(h, g, reg, "wl_shm", 1)
		fd := memfd(t, 4096)
		return h.SendFDs([]int{fd}, shm, 0, h.NewID(), int32(1<<20))
	}, 2, "larger than the file"},
	{"shm buffer outside its pool", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		shm := bind(h, g, reg, "wl_shm", 1)
		pool := h.NewID()
		if err := h.SendFDs([]int{memfd(t, 4096)}, shm, 0, pool, int32(4096)); err != nil {
			return err
		}
		// 64x64 at stride 256 needs 16 KiB of a 4 KiB pool.
		return h.Send(pool, 0, h.NewID(), int32(0), int32(64), int32(64), int32(256), uint32(1))
	}, 1, "ends past the 4096-byte pool"},
	{"dma-buf stride shorter than a row", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		return dmabufParams(t, h, g, reg, 64*64*4, 0, 100, 0, 3)
	}, 6, "stride 100 is shorter"},
	{"dma-buf offset past the end", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		return dmabufParams(t, h, g, reg, 64*64*4, 1<<20, 256, 0, 3)
	}, 6, "is past the 16384-byte buffer"},
	{"dma-buf unsupported modifier", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		return dmabufParams(t, h, g, reg, 64*64*4, 0, 256, 0x0100000000000001, 3)
	}, 4, "is not supported"},
	{"dma-buf fd that is not a dma-buf", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		return dmabufParams(t, h, g, reg, 64*64*4, 0, 256, 0, 3)
	}, 7, "not a dma-buf"},
	{"dma-buf params without planes", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		dm := bind(h, g, reg, "zwp_linux_dmabuf_v1", 4)
		params := h.NewID()
		h.Send(dm, 1, params)
		return h.Send(params, 3, h.NewID(), int32(64), int32(64), uint32(0x34325258), uint32(0))
	}, 3, "plane 0 missing"},
	{"toplevel its own parent", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		top := rawToplevelIDs(h, g, reg)
		return h.Send(top, xdgToplevelSetParent, top)
	}, 1, "cannot be its own ancestor"},
	{"toplevel max size below min size", func(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32) error {
		top := rawToplevelIDs(h, g, reg)
		h.Send(top, xdgToplevelSetMinSize, int32(200), int32(200))
		h.Send(top, xdgToplevelSetMaxSize, int32(100), int32(300))
		return h.Send(top-2, 6) // commit the wl_surface
	}, 2, "larger than max size"},
}

// rawToplevelIDs makes a wl_surface (id top-2), its xdg_surface (top-1)
// and xdg_toplevel (top), without committing.
func rawToplevelIDs(h *protocoltest.Client, g map[string][2]uint32, reg uint32) uint32 {
	comp := bind(h, g, reg, "wl_compositor", 5)
	wm := bind(h, g, reg, "xdg_wm_base", 5)
	surf, xs, top := h.NewID(), h.NewID(), h.NewID()
	h.Send(comp, 0, surf)
	h.Send(wm, 2, xs, surf)
	h.Send(xs, 1, top)
	return top
}

// dmabufParams makes a 64x64 XRGB8888 buffer with create_immed from a
// memfd of size bytes, with the given plane layout.
func dmabufParams(t *testing.T, h *protocoltest.Client, g map[string][2]uint32, reg uint32, size int, offset, stride uint32, modifier uint64, op uint16) error {
	dm := bind(h, g, reg, "zwp_linux_dmabuf_v1", 4)
	params := h.NewID()
	h.Send(dm, 1, params)
	if err := h.SendFDs([]int{memfd(t, size)}, params, 1, uint32(0), offset, stride, uint32(modifier>>32), uint32(modifier)); err != nil {
		return err
	}
	return h.Send(params, op, h.NewID(), int32(64), int32(64), uint32(0x34325258), uint32(0))
}

func bind(h *protocoltest.Client, g map[string][2]uint32, reg uint32, iface string, version uint32) uint32 {
	id := h.NewID()
	h.Send(reg, 0, g[iface][0], iface, version, id)
	return id
}

func memfd(t *testing.T, size int) int {
	fd, err := unix.MemfdCreate("hostile", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	unix.Ftruncate(fd, int64(size))
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func TestHostileClientsAreDisconnectedOthersKeepDrawing(t *testing.T) {
	need(t, "grim")
	c := startVitrine(t, "--output", "320x240", "--", "shm-client", "--pattern", "quadrants", "--fullscreen")
	c.stdout.wait(t, `^first-frame 320x240$`, 10*time.Second)
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			h, err := protocoltest.Dial(c.socketPath())
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			g, reg, err := h.Globals(3 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.do(t, h, g, reg); err != nil {
				t.Fatal(err)
			}
			e, err := h.WaitError(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("wl_display.error code %d %q, want code %d with %q", e.Code, e.Message, tc.code, tc.msg)
			}
			t.Logf("disconnected with: code %d %q", e.Code, e.Message)
		})
	}
	// The well-behaved client is untouched: still connected and on screen.
	checkQuadrants(t, c.screenshot())
	if !strings.Contains(c.log(), "client protocol error") {
		t.Fatal("vitrine did not log the protocol errors")
	}
}

func TestClientThatStopsReadingIsCutOffWithoutSlowingOthers(t *testing.T) {
	need(t, "grim")
	const frames = 120
	// Baseline: how long the moving box takes for 120 frames alone.
	alone := timeMovingBox(t, frames, nil)
	flooded := timeMovingBox(t, frames, func(c *compositor) {
		h, err := protocoltest.Dial(c.socketPath())
		if err != nil {
			t.Error(err)
			return
		}
		defer h.Close()
		// wl_display.sync makes the server queue 24 bytes of events per
		// 12-byte request; this client never reads them.
		batch := make([]byte, 0, 12*4096)
		for i := 0; i < 4096; i++ {
			batch = append(batch, protocoltest.Message(1, 0, h.NewID())...)
		}
		start := time.Now()
		for time.Since(start) < 20*time.Second {
			h.Conn().SetWriteDeadline(time.Now().Add(2 * time.Second))
			if err := h.Write(batch); err != nil {
				t.Logf("non-reading client cut off after %v: %v", time.Since(start).Round(time.Millisecond), err)
				return
			}
		}
		t.Error("a client that never reads was not disconnected within 20 s")
	})
	t.Logf("%d frames of moving-box: %v alone, %v next to a flooding client (%.1f vs %.1f fps)",
		frames, alone.Round(time.Millisecond), flooded.Round(time.Millisecond), frames/alone.Seconds(), frames/flooded.Seconds())
	if flooded > alone*5/4+200*time.Millisecond {
		t.Fatalf("frame rate dropped while a client flooded: %v vs %v for %d frames", flooded, alone, frames)
	}
}

// timeMovingBox measures how long shm-client needs for n frames while
// meanwhile runs beside it.
func timeMovingBox(t *testing.T, n int, meanwhile func(*compositor)) time.Duration {
	c := startVitrine(t, "--output", "320x240")
	done := make(chan struct{})
	if meanwhile != nil {
		go func() {
			defer close(done)
			meanwhile(c)
		}()
		time.Sleep(200 * time.Millisecond)
	} else {
		close(done)
	}
	start := time.Now()
	cmd, out := c.client("shm-client", "--pattern", "moving-box", "--fullscreen", "--frames", strconv.Itoa(n))
	out.wait(t, fmt.Sprintf(`^final-box .* frames=%d$`, n), 30*time.Second)
	elapsed := time.Since(start)
	cmd.Wait()
	<-done
	if strings.Contains(c.log(), "not reading its socket") != (meanwhile != nil) {
		t.Errorf("log mentions a non-reading client: %v, want %v", !(meanwhile != nil), meanwhile != nil)
	}
	return elapsed
}

func TestIdleCompositorUsesNoCPU(t *testing.T) {
	c := startVitrine(t, "--output", "640x480", "--", "shm-client", "--pattern", "quadrants", "--fullscreen")
	c.stdout.wait(t, `^first-frame`, 10*time.Second)
	time.Sleep(time.Second)
	pid := c.cmd.Process.Pid
	cpu0, sw0 := procCPU(t, pid)
	time.Sleep(10 * time.Second)
	cpu1, sw1 := procCPU(t, pid)
	used := cpu1 - cpu0
	t.Logf("vitrine with a static client over 10 s: %v CPU (%.3f%%), %d context switches", used, 100*used.Seconds()/10, sw1-sw0)
	if used > 50*time.Millisecond {
		t.Fatalf("idle compositor used %v of CPU in 10 s", used)
	}
}

// procCPU reads a process's user+system time and its threads' context
// switches from /proc.
func procCPU(t *testing.T, pid int) (time.Duration, int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.Atoi(fields[11])
	st, _ := strconv.Atoi(fields[12])
	// clock ticks are 100 Hz on every Linux vitrine targets.
	cpu := time.Duration(ut+st) * 10 * time.Millisecond
	switches := 0
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		s, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
		for _, line := range strings.Split(string(s), "\n") {
			if strings.HasPrefix(line, "voluntary_ctxt_switches:") || strings.HasPrefix(line, "nonvoluntary_ctxt_switches:") {
				n, _ := strconv.Atoi(strings.TrimSpace(line[strings.IndexByte(line, ':')+1:]))
				switches += n
			}
		}
	}
	return cpu, switches
}

// waitForPixels takes screenshots until ok accepts one.
func waitForPixels(t *testing.T, c *compositor, ok func(image.Image) bool) image.Image {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		img := c.screenshot()
		if ok(img) {
			return img
		}
		if time.Now().After(deadline) {
			t.Fatalf("the expected content did not appear within 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestUnresponsiveClientIsReported(t *testing.T) {
	c := startVitrine(t, "--output", "320x240", "--ping-timeout", "300ms")
	rc := dialRaw(t, c)
	h, wm := rc.Client, rc.wm
	rc.attach(t, rc.toplevel(t, nil), 64, 64, 0)
	// Mapping the window makes vitrine ping; this client stays silent.
	ping := waitEvent(t, h, wm, 0).Uint(0)
	start := time.Now()
	waitLog(t, c, "client is not responding to ping")
	t.Logf("reported unresponsive after %v", time.Since(start).Round(time.Millisecond))
	h.Send(wm, 3, ping)
	start = time.Now()
	waitLog(t, c, "client is responding again")
	t.Logf("pong seen after %v", time.Since(start).Round(time.Millisecond))
}

// waitEvent reads events until object's event opcode arrives.
func waitEvent(t *testing.T, h *protocoltest.Client, object uint32, opcode uint16) protocoltest.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e, err := h.Read(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for event %d on object %d: %v", opcode, object, err)
		}
		if e.Object == 1 && e.Opcode == 0 {
			t.Fatalf("protocol error: %s", e.String(2))
		}
		if e.Object == object && e.Opcode == opcode {
			return e
		}
	}
	t.Fatalf("no event %d on object %d", opcode, object)
	return protocoltest.Event{}
}

func waitLog(t *testing.T, c *compositor, text string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(c.log(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("vitrine never logged %q", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClientLeavingRevealsTheOneBelow(t *testing.T) {
	need(t, "grim")
	c := startVitrine(t, "--output", "320x240")
	// Below: a client that draws once and never again (it does not even
	// redraw on configure), so only the compositor can bring it back.
	h := mapRawWindow(t, c, 64, 64, 0x00ff0000)
	defer h.Close()
	top, out := c.client("shm-client", "--pattern", "quadrants", "--fullscreen")
	out.wait(t, `^first-frame 320x240$`, 10*time.Second)
	checkQuadrants(t, c.screenshot())
	top.Process.Kill()
	top.Wait()
	red := [3]uint8{255, 0, 0}
	img := waitForPixels(t, c, func(img image.Image) bool { return rgb(img.At(160, 120)) == red })
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			want := [3]uint8{}
			if image.Pt(x, y).In(image.Rect(128, 88, 192, 152)) {
				want = red
			}
			if got := rgb(img.At(x, y)); got != want {
				t.Fatalf("pixel (%d,%d) = %v after the top client left, want %v", x, y, got, want)
			}
		}
	}
}

// mapRawWindow maps a w×h xdg toplevel filled with one XRGB colour from
// a raw client, and returns the connection (closing it unmaps).
func mapRawWindow(t *testing.T, c *compositor, w, h int, xrgb uint32) *protocoltest.Client {
	t.Helper()
	rc := dialRaw(t, c)
	rc.show(t, rc.toplevel(t, nil), w, h, xrgb)
	return rc.Client
}

func TestLeavingFullscreenRepaintsWhatTheWindowLeft(t *testing.T) {
	need(t, "grim")
	c := startVitrine(t, "--output", "640x480")
	client, out := c.client("shm-client", "--pattern", "quadrants", "--fullscreen", "--toggle-on-usr1", "--size", "320x200")
	out.wait(t, `^first-frame 640x480$`, 10*time.Second)
	client.Process.Signal(syscall.SIGUSR1)
	out.wait(t, `^resized 320x200$`, 10*time.Second)
	// Windowed, the client keeps its size, centred on black: nothing of
	// the fullscreen frame may stay behind.
	img := c.screenshot()
	win := image.Rect(160, 140, 480, 340)
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			want := [3]uint8{}
			if image.Pt(x, y).In(win) {
				want = quadrantColor(x-win.Min.X, y-win.Min.Y, 320, 200)
			}
			if got := rgb(img.At(x, y)); got != want {
				t.Fatalf("windowed: pixel (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
	client.Process.Signal(syscall.SIGUSR1)
	out.wait(t, `^resized 640x480$`, 10*time.Second)
	checkQuadrants(t, c.screenshot())
}
