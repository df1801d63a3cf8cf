package main

import (
	"path/filepath"
	"strings"
)

// clientEnv is what a workload's command line may refer to.
type clientEnv struct {
	self    string // this program, for the clients it carries itself
	dataDir string // a private scratch directory for the run
	page    string // the chromium workload's animated page
}

// workload is a client program and how many copies run at once.
type workload struct {
	Name    string
	Binary  string // looked up in PATH; "" for a client built into the bench
	Package string // Debian package that provides Binary
	Clients int    // client processes started
	// Want is how many connections must have committed before the
	// warm-up starts; 0 means Clients.
	Want int
	Argv func(e clientEnv) []string
	// Rotate runs the output rotated by 90°.
	Rotate bool
	// Idle workloads have nothing to draw: no CPU-per-commit ratio.
	Idle bool
	// Latency: the client reports wp_presentation feedback.
	Latency bool
}

func (w workload) want() int {
	if w.Want > 0 {
		return w.Want
	}
	return w.Clients
}

func allWorkloads() []workload {
	simpleShm := func(clientEnv) []string { return []string{"weston-simple-shm"} }
	return []workload{
		{Name: "simple-shm", Binary: "weston-simple-shm", Package: "weston", Clients: 1, Argv: simpleShm},
		{Name: "simple-damage", Binary: "weston-simple-damage", Package: "weston", Clients: 1,
			Argv: func(clientEnv) []string {
				return []string{"weston-simple-damage", "--width=1920", "--height=1080"}
			}},
		{Name: "chromium", Binary: "chromium", Package: "chromium", Clients: 1,
			Argv: func(e clientEnv) []string {
				return []string{"chromium", "--ozone-platform=wayland", "--kiosk", "--disable-gpu",
					// Root needs --no-sandbox; unprivileged runs keep it
					// too, so both measure the same browser.
					"--no-sandbox", "--no-first-run", "--disable-background-networking",
					"--disable-component-update", "--disable-sync",
					"--user-data-dir=" + filepath.Join(e.dataDir, "chromium"),
					"file://" + e.page}
			}},
		{Name: "clients-10", Binary: "weston-simple-shm", Package: "weston", Clients: 10, Argv: simpleShm},
		{Name: "clients-100", Binary: "weston-simple-shm", Package: "weston", Clients: 100, Argv: simpleShm},
		{Name: "foot-idle", Binary: "foot", Package: "foot", Clients: 1, Idle: true,
			// A command that prints nothing keeps the terminal still;
			// foot does not blink its cursor by default.
			Argv: func(clientEnv) []string { return []string{"foot", "sleep", "infinity"} }},
		{Name: "fullscreen", Clients: 1, Latency: true,
			Argv: func(e clientEnv) []string { return []string{e.self, fullscreenClientCommand} }},
		{Name: "rotate90", Binary: "weston-simple-shm", Package: "weston", Clients: 1, Rotate: true, Argv: simpleShm},
	}
}

func workloadNames() string {
	var names []string
	for _, w := range allWorkloads() {
		names = append(names, w.Name)
	}
	return strings.Join(names, ",")
}

// animatedPage is the chromium workload's page: a 200x200 box moved every
// animation frame, so chromium commits once per frame callback.
const animatedPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>vitrine-bench</title>
<style>
html, body { margin: 0; height: 100%; background: #000; overflow: hidden; }
#box { position: absolute; width: 200px; height: 200px; background: #f0f; }
</style></head>
<body><div id="box"></div>
<script>
const box = document.getElementById("box");
let n = 0;
function step() {
  n++;
  const w = window.innerWidth - 200, h = window.innerHeight - 200;
  box.style.left = (n * 7 % Math.max(w, 1)) + "px";
  box.style.top = (n * 3 % Math.max(h, 1)) + "px";
  requestAnimationFrame(step);
}
requestAnimationFrame(step);
</script></body></html>
`
