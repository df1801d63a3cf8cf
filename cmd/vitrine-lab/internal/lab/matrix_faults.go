package lab

import (
	"encoding/json"
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

const faultsVitrine = "vitrine --backend drm --session direct --log-level debug --log-format json"

// unbindShell is the unbind phase's shell helpers, for any row's script
// (they need eventShell's matchev and the script's fail, which may or may
// not exit): ubnow prints milliseconds since boot (busybox date has no
// %N); ubline FILE PATTERN SECONDS and ubev FILE EVENT COUNT SECONDS WHAT
// [FRAGMENT...] poll for a client's line or for COUNT of vitrine's JSON
// events, and return 1 after fail if vitrine ($pid) died or time ran out;
// ubchildpid FILE is the pid of the command vitrine started last.
const unbindShell = `ubnow() {
	read u _ </proc/uptime
	echo $(( ${u%.*} * 1000 + 1${u#*.} * 10 - 1000 ))
}
ubline() {
	i=0
	while ! grep -q -- "$2" "$1"; do
		kill -0 $pid 2>/dev/null || { fail "vitrine exited before '$2' appeared in $1"; return 1; }
		i=$((i+1))
		[ $i -le $(($3 * 10)) ] || { fail "no '$2' in $1 within $3 s"; return 1; }
		sleep 0.1
	done
}
ubev() {
	local f=$1 e=$2 c=$3 s=$4 w=$5 i=0
	shift 5
	while [ "$(matchev $f $e "$@")" -lt $c ]; do
		kill -0 $pid 2>/dev/null || { fail "vitrine exited while waiting for $w"; return 1; }
		i=$((i+1))
		[ $i -le $((s * 10)) ] || { fail "no $w within $s s (want $c $e events with $* in $f, have $(matchev $f $e "$@"))"; return 1; }
		sleep 0.1
	done
}
ubchildpid() { grep -F '"event":"child.started"' "$1" | tail -n 1 | sed -n 's/.*"pid":\([0-9]*\).*/\1/p'; }
`

// unbindPhase is the script of one unbind run, tagged tag: vitrine
// (started by the command line vitrine, whose log is JSON) shows
// shm-client's quadrants fullscreen; virtio-gpu's driver is unbound
// through sysfs and bound again. Screendumps TAG-before, TAG-during and
// TAG-after; delays TAG-gone-ms (unbind to display.gone), TAG-back-ms
// (bind to display.back) and TAG-frame-ms (bind to the new card's first
// frame); vitrine's log as
// "TAG| " lines after "TAG-exit=N". The writer of bind and unbind must
// be allowed to (root, or a udev rule that opened them).
func unbindPhase(tag, vitrine string) string {
	return strings.NewReplacer("TAG", tag, "VITRINE", vitrine, "SETTLE", settle).Replace(`log=/tmp/TAG.log
VITRINE -- shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
if ubline $log '^first-frame ' 60; then
	sleep SETTLE
	lab-screendump TAG-before >/dev/null || fail 'screendump TAG-before'
	client=$(ubchildpid $log)
	drv=/sys/bus/virtio/drivers/virtio_gpu
	dev=$(basename $(ls -d $drv/virtio*))
	t0=$(ubnow)
	echo $dev > $drv/unbind || fail "unbind $dev"
	ubev $log display.gone 1 20 'vitrine saying the display device is gone' && echo "TAG-gone-ms=$(( $(ubnow) - t0 ))"
	sleep 1
	[ -e /dev/dri/card0 ] && fail "/dev/dri/card0 is still there after the unbind"
	kill -0 $pid 2>/dev/null || fail "vitrine died with its display device unbound"
	kill -0 $client 2>/dev/null || fail "the client died with the display device unbound"
	lab-screendump TAG-during >/dev/null || fail 'screendump TAG-during'
	frames=$(matchev $log frame)
	t0=$(ubnow)
	echo $dev > $drv/bind || fail "bind $dev"
	ubev $log display.back 1 30 'vitrine taking the display device back' && echo "TAG-back-ms=$(( $(ubnow) - t0 ))"
	# The output the new card brings (the first was the old card's).
	ubev $log output.added 2 10 'the output after the rebind'
	ubev $log frame $((frames + 1)) 10 'a frame on the new card' && echo "TAG-frame-ms=$(( $(ubnow) - t0 ))"
	sleep 1
	kill -0 $client 2>/dev/null || fail "the client died after the rebind"
	lab-screendump TAG-after >/dev/null || fail 'screendump TAG-after'
fi
kill -TERM $pid
wait $pid
echo "TAG-exit=$?"
grep -vF '"event":"frame"' $log | sed 's/^/TAG| /'
`)
}

var faultsCommand = guestHelpers + eventShell + unbindShell + unbindPhase("unbind", faultsVitrine) + fmt.Sprintf(`
log=/tmp/restart.log
rm -f /tmp/started-once
%[1]s --restart -- sh -c 'if [ -e /tmp/started-once ]; then exec shm-client --pattern quadrants --fullscreen; fi; touch /tmp/started-once; exec shm-client --pattern moving-box --fullscreen' >$log 2>&1 &
pid=$!
if ubline $log '^first-frame ' 60; then
	sleep 1
	kill -KILL $(ubchildpid $log) || fail "kill the kiosk child"
	t0=$(ubnow)
	ubev $log child.exited 1 10 'the kiosk child killed' '"status":137'
	i=0
	while [ "$(grep -c '^first-frame ' $log)" -lt 2 ]; do
		i=$((i+1))
		if [ $i -gt 300 ] || ! kill -0 $pid 2>/dev/null; then fail "no second first-frame in $log within 30 s"; break; fi
		sleep 0.1
	done
	echo "restart-first-frame-ms=$(( $(ubnow) - t0 ))"
	sleep %[2]s
	lab-screendump restart-first >/dev/null || fail 'screendump restart-first'
fi
kill -TERM $pid
wait $pid
echo "restart-exit=$?"
grep -vF '"event":"frame"' $log | sed 's/^/restart| /'

log=/tmp/full.log
mkdir -p /tmp/xdgfull
mount -t tmpfs -o size=4m,mode=700 none /tmp/xdgfull || fail "mount a tmpfs on /tmp/xdgfull"
XDG_RUNTIME_DIR=/tmp/xdgfull %[1]s --socket wl-full -- shm-client --pattern quadrants --fullscreen >$log 2>&1 &
pid=$!
if ubline $log '^first-frame ' 60; then
	dd if=/dev/zero of=/tmp/xdgfull/fill bs=64k 2>/dev/null
	df /tmp/xdgfull | sed 's/^/df| /'
	XDG_RUNTIME_DIR=/tmp/xdgfull WAYLAND_DISPLAY=wl-full shm-client --pattern quadrants --frames 1 >/tmp/full-client1.log 2>&1 || fail "a client in the full directory: $(cat /tmp/full-client1.log)"
	ubev $log runtime_dir.full 1 10 'the full directory warning' '"dir":"/tmp/xdgfull"'
	kill -0 $pid 2>/dev/null || fail "vitrine died with XDG_RUNTIME_DIR full"
	rm /tmp/xdgfull/fill
	XDG_RUNTIME_DIR=/tmp/xdgfull WAYLAND_DISPLAY=wl-full shm-client --pattern quadrants --frames 1 >/tmp/full-client2.log 2>&1 || fail "a client after space was freed: $(cat /tmp/full-client2.log)"
	ubev $log runtime_dir.space 1 10 'the directory having space again' '"dir":"/tmp/xdgfull"'
	sleep %[2]s
	lab-screendump full-after >/dev/null || fail 'screendump full-after'
fi
kill -TERM $pid
wait $pid
echo "full-exit=$?"
grep -vF '"event":"frame"' $log | sed 's/^/full| /'
umount /tmp/xdgfull
exit $status
`, faultsVitrine, settle)

// faultsCheck judges faultsScenario's three runs.
func faultsCheck(env *Env, res *Result, runErr error) error {
	if runErr != nil {
		return runErr
	}
	out := string(res.Output)
	problems, err := judgeUnbind(res, "unbind", "uevent")
	if err != nil {
		return err
	}

	_, _, p, err := judgeQuadrantsScript(res, "restart", "restart-first")
	if err != nil {
		return err
	}
	problems = append(problems, p...)
	restart := vitrineEvents(tagged(out, "restart"))
	if countEvents(restart, "child.exited", "status", "137") == 0 || countEvents(restart, "child.restart") == 0 {
		problems = append(problems, "restart: vitrine did not log the child's SIGKILL (child.exited status=137) and a restart (child.restart)")
	}
	problems = append(problems, prefixed("restart: ", errorEvents(restart))...)

	_, _, p, err = judgeQuadrantsScript(res, "full", "full-after")
	if err != nil {
		return err
	}
	problems = append(problems, p...)
	full := vitrineEvents(tagged(out, "full"))
	if countEvents(full, "runtime_dir.full", "dir", "/tmp/xdgfull", "free_bytes", "0") != 1 {
		problems = append(problems, "full: not one runtime_dir.full event naming /tmp/xdgfull with free_bytes=0")
	}
	if countEvents(full, "runtime_dir.space", "dir", "/tmp/xdgfull") != 1 {
		problems = append(problems, "full: not one runtime_dir.space event naming /tmp/xdgfull")
	}
	problems = append(problems, prefixed("full: ", errorEvents(full))...)
	if env != nil && env.Log != nil {
		env.Log.Info("faults: delays (ms)", "unbind_to_log", field(out, "unbind-gone-ms"), "bind_to_back", field(out, "unbind-back-ms"), "bind_to_frame", field(out, "unbind-frame-ms"), "kill_to_first_frame", field(out, "restart-first-frame-ms"))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n") + "\noutput ends:\n" + indent(tail(nonFrameLines(out), 40)))
	}
	return nil
}

// judgeUnbind judges an unbindPhase run tagged tag, whose vitrine must
// have learnt of the unbind first by cause (display.gone's cause; "" for
// any). err ends the judging when the client never showed a frame.
func judgeUnbind(res *Result, tag, cause string) (problems []string, err error) {
	_, size, p, err := judgeQuadrantsScript(res, tag, tag+"-before", tag+"-after")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tag, err)
	}
	for _, q := range p {
		problems = append(problems, tag+": "+q)
	}
	problems = append(problems, judgeUnbindEvents(vitrineEvents(tagged(string(res.Output), tag)), tag, cause)...)
	if err := compareScreendump(res, tag+"-during", quadrantsImage(size.X, size.Y, quadrantColors)); err == nil {
		problems = append(problems, tag+": the screen during the unbind still showed the quadrants, so the screendump after the rebind proves nothing")
	}
	return problems, nil
}

// judgeUnbindEvents checks an unbind run's vitrine log: the device gone
// once (learnt first by cause, "" for any) and back once, no warning but
// that one, no error, and a composited frame on the output made after the
// rebind.
func judgeUnbindEvents(evs []logEvent, tag, cause string) []string {
	var problems []string
	gone := findEvents(evs, "display.gone", "device", "/dev/dri/card0", "driver", "virtio_gpu", "clients", "1")
	switch {
	case len(gone) != 1:
		problems = append(problems, fmt.Sprintf("%s: %d display.gone events for /dev/dri/card0 (virtio_gpu, clients=1), want 1", tag, len(gone)))
	case cause != "" && gone[0].Str("cause") != cause:
		problems = append(problems, fmt.Sprintf("%s: display.gone says cause=%q, want %q", tag, gone[0].Str("cause"), cause))
	}
	if n := countEvents(evs, "display.back", "device", "/dev/dri/card0", "driver", "virtio_gpu", "outputs", "1"); n != 1 {
		problems = append(problems, fmt.Sprintf("%s: %d display.back events for /dev/dri/card0 (virtio_gpu, outputs=1), want 1", tag, n))
	}
	// Cleaning up after a device that is gone fails by nature; the one
	// warning that matters is display.gone, and nothing is an error.
	for _, e := range evs {
		if e.Level() == "WARN" && e.Event() != "display.gone" {
			b, _ := json.Marshal(e)
			problems = append(problems, tag+": a warning beside display.gone: "+string(b))
		}
	}
	problems = append(problems, prefixed(tag+": ", errorEvents(evs))...)
	// The stats are the output made after the rebind: it must have
	// shown a composited frame, or the last screendump could be a stale
	// picture.
	if st := findEvents(evs, "stats"); len(st) != 1 {
		problems = append(problems, fmt.Sprintf("%s: %d stats events, want 1 (the output after the rebind): vitrine did not exit cleanly", tag, len(st)))
	} else if f, c := st[0]["frames"], st[0]["composited"]; !(positive(f) && positive(c)) {
		problems = append(problems, fmt.Sprintf("%s: the output after the rebind showed frames=%v composited=%v, want a composited frame", tag, f, c))
	}
	return problems
}

// positive reports whether a JSON number is above zero.
func positive(v any) bool { f, ok := v.(float64); return ok && f > 0 }

// prefixed returns each of lines after p.
func prefixed(p string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = p + l
	}
	return out
}

// field is the value of a KEY=VALUE line of the guest's output.
func field(out, key string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `=(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		return "?"
	}
	return m[1]
}
