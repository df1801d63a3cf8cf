package lab

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// faultScenarios prove vitrine survives faults a kiosk meets unattended.
// They share one boot: each fault is its own vitrine run, tagged.
func faultScenarios() []Scenario {
	return []Scenario{faultsScenario()}
}

// faultsScenario, on virtio-gpu as root:
//   - unbind: the display driver is unbound through sysfs under vitrine
//     and its fullscreen client. vitrine must log that the device is
//     gone, keep running with the client still alive, and when the
//     driver is bound again take the new card and show the client there
//     (screendump exact, a composited frame on the new output).
//   - restart: the kiosk child (moving-box, drawing every frame) is
//     killed with SIGKILL; under --restart the next start (quadrants)
//     must show exact right after its first frame.
//   - full: XDG_RUNTIME_DIR is a 4 MiB tmpfs, filled to ENOSPC while
//     vitrine runs. A client connecting then makes vitrine log that the
//     directory is full; vitrine keeps running and serving clients, and
//     logs again once there is space.
func faultsScenario() Scenario {
	return Scenario{
		Name:         "vitrine-faults",
		Displays:     []string{"virtio"},
		NeedsVitrine: true,
		Timeout:      4 * time.Minute,
		Command:      faultsCommand,
		Check:        faultsCheck,
	}
}

const faultsVitrine = "vitrine --backend drm --session direct --log-level debug"

var faultsCommand = guestHelpers + fmt.Sprintf(`# now: milliseconds since boot (busybox date has no %%N).
now() {
	read u _ </proc/uptime
	echo $(( ${u%%.*} * 1000 + 1${u#*.} * 10 - 1000 ))
}
# childpid LOG: the pid of the command vitrine started last.
childpid() { sed -n 's/.*msg="command started".* pid=\([0-9]*\).*/\1/p' "$1" | tail -n 1; }
# waitcount LOG PATTERN N SECONDS: like waitfor, for the Nth match.
waitcount() {
	i=0
	while [ "$(grep -c -- "$2" "$1")" -lt $3 ]; do
		if ! kill -0 $pid 2>/dev/null; then fail "vitrine exited before $3 lines '$2' in $1"; return 1; fi
		i=$((i+1))
		if [ $i -gt $(($4 * 10)) ]; then fail "fewer than $3 lines '$2' in $1 within $4 s"; return 1; fi
		sleep 0.1
	done
}

log=/tmp/unbind.log
%[1]s -- shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
if waitfor $log '^first-frame ' 60; then
	sleep %[2]s
	lab-screendump unbind-before >/dev/null || fail 'screendump unbind-before'
	client=$(childpid $log)
	drv=/sys/bus/virtio/drivers/virtio_gpu
	dev=$(basename $(ls -d $drv/virtio*))
	t0=$(now)
	echo $dev > $drv/unbind || fail "unbind $dev"
	waitfor $log 'msg="display device gone' 20 && echo "unbind-gone-ms=$(( $(now) - t0 ))"
	sleep 1
	[ -e /dev/dri/card0 ] && fail "/dev/dri/card0 is still there after the unbind"
	kill -0 $pid 2>/dev/null || fail "vitrine died with its display device unbound"
	kill -0 $client 2>/dev/null || fail "the client died with the display device unbound"
	lab-screendump unbind-during >/dev/null || fail 'screendump unbind-during'
	t0=$(now)
	echo $dev > $drv/bind || fail "bind $dev"
	waitfor $log 'msg="display device back"' 30 && echo "rebind-back-ms=$(( $(now) - t0 ))"
	waitfor $log 'msg="output added"' 10
	sleep 1
	kill -0 $client 2>/dev/null || fail "the client died after the rebind"
	lab-screendump unbind-after >/dev/null || fail 'screendump unbind-after'
fi
kill -TERM $pid
wait $pid
echo "unbind-exit=$?"
sed 's/^/unbind| /' $log

log=/tmp/restart.log
rm -f /tmp/started-once
%[1]s --restart -- sh -c 'if [ -e /tmp/started-once ]; then exec shm-client --pattern quadrants --fullscreen; fi; touch /tmp/started-once; exec shm-client --pattern moving-box --fullscreen' >$log 2>&1 &
pid=$!
if waitfor $log '^first-frame ' 60; then
	sleep 1
	kill -KILL $(childpid $log) || fail "kill the kiosk child"
	t0=$(now)
	waitfor $log 'msg="command exited".* status=137' 10
	waitcount $log '^first-frame ' 2 30 && echo "restart-first-frame-ms=$(( $(now) - t0 ))"
	sleep %[2]s
	lab-screendump restart-first >/dev/null || fail 'screendump restart-first'
fi
kill -TERM $pid
wait $pid
echo "restart-exit=$?"
sed 's/^/restart| /' $log

log=/tmp/full.log
mkdir -p /tmp/xdgfull
mount -t tmpfs -o size=4m,mode=700 none /tmp/xdgfull || fail "mount a tmpfs on /tmp/xdgfull"
XDG_RUNTIME_DIR=/tmp/xdgfull %[1]s --socket wl-full -- shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
if waitfor $log '^first-frame ' 60; then
	dd if=/dev/zero of=/tmp/xdgfull/fill bs=64k 2>/dev/null
	df /tmp/xdgfull | sed 's/^/df| /'
	XDG_RUNTIME_DIR=/tmp/xdgfull WAYLAND_DISPLAY=wl-full shm-client --pattern quadrants --frames 1 >/tmp/full-client1.log 2>&1 || fail "a client in the full directory: $(cat /tmp/full-client1.log)"
	waitfor $log "msg=\"the socket's directory is full" 10
	kill -0 $pid 2>/dev/null || fail "vitrine died with XDG_RUNTIME_DIR full"
	rm /tmp/xdgfull/fill
	XDG_RUNTIME_DIR=/tmp/xdgfull WAYLAND_DISPLAY=wl-full shm-client --pattern quadrants --frames 1 >/tmp/full-client2.log 2>&1 || fail "a client after space was freed: $(cat /tmp/full-client2.log)"
	waitfor $log "msg=\"the socket's directory has space again" 10
	sleep %[2]s
	lab-screendump full-after >/dev/null || fail 'screendump full-after'
fi
kill -TERM $pid
wait $pid
echo "full-exit=$?"
sed 's/^/full| /' $log
umount /tmp/xdgfull
exit $status
`, faultsVitrine, settle)

// faultsCheck judges faultsScenario's three runs.
func faultsCheck(env *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	var problems []string
	unbind, size, p, err := judgeQuadrantsScript(res, "unbind", "unbind-before", "unbind-after")
	if err != nil {
		return err
	}
	problems = append(problems, p...)
	for _, want := range []string{
		`msg="display device gone; clients keep running.*" device=/dev/dri/card0 driver=virtio_gpu why="the kernel removed dri/card0 \(driver unbound or device unplugged\)" clients=1`,
		`msg="display device back" device=/dev/dri/card0 driver=virtio_gpu outputs=1`,
	} {
		if !regexp.MustCompile(want).MatchString(unbind) {
			problems = append(problems, "unbind: no log line matching "+want)
		}
	}
	// Cleaning up after a device that is gone fails by nature; the one
	// warning that matters is "display device gone".
	if m := regexp.MustCompile(`(?m)^.*level=WARN.*no such device.*$`).FindString(unbind); m != "" {
		problems = append(problems, "unbind: a clean-up failure on the gone device logged as a warning: "+m)
	}
	// The stats line is the output made after the rebind: it must have
	// shown a frame, or the last screendump could be a stale picture.
	if st, err := parseStats(unbind); err != nil {
		problems = append(problems, "unbind: "+err.Error())
	} else if st.Frames < 1 || st.Composited < 1 {
		problems = append(problems, fmt.Sprintf("unbind: the output after the rebind showed frames=%d composited=%d, want a composited frame", st.Frames, st.Composited))
	}
	if err := compareScreendump(res, "unbind-during", quadrantsImage(size.X, size.Y, quadrantColors)); err == nil {
		problems = append(problems, "unbind: the screen during the unbind still showed the quadrants, so the screendump after the rebind proves nothing")
	}

	restart, _, p, err := judgeQuadrantsScript(res, "restart", "restart-first")
	if err != nil {
		return err
	}
	problems = append(problems, p...)
	if !regexp.MustCompile(`msg="command exited".* status=137`).MatchString(restart) || !strings.Contains(restart, `msg="restarting command"`) {
		problems = append(problems, "restart: vitrine did not log the child's SIGKILL (status=137) and a restart")
	}

	full, _, p, err := judgeQuadrantsScript(res, "full", "full-after")
	if err != nil {
		return err
	}
	problems = append(problems, p...)
	if !regexp.MustCompile(`level=WARN msg="the socket's directory is full: .*" dir=/tmp/xdgfull free_bytes=0 `).MatchString(full) {
		problems = append(problems, "full: no warning naming /tmp/xdgfull with free_bytes=0")
	}
	for _, tag := range []string{"unbind", "restart", "full"} {
		for _, l := range tagged(string(res.Output), tag) {
			if strings.Contains(l, "level=ERROR") {
				problems = append(problems, tag+": vitrine logged an error: "+l)
				break
			}
		}
	}
	if env != nil && env.Log != nil {
		out := string(res.Output)
		env.Log.Info("faults: delays (ms)", "unbind_to_log", field(out, "unbind-gone-ms"), "bind_to_back", field(out, "rebind-back-ms"), "kill_to_first_frame", field(out, "restart-first-frame-ms"))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n") + "\noutput ends:\n" + indent(tail(nonFrameLines(string(res.Output)), 40)))
	}
	return nil
}

// field is the value of a KEY=VALUE line of the guest's output.
func field(out, key string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `=(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		return "?"
	}
	return m[1]
}
