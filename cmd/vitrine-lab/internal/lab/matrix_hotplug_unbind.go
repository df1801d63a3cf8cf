package lab

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The unbind fault (unbindPhase) again, at the end of
// vitrine-hotplug-vt-logind's boot: vitrine run by the autologin user,
// its card from logind's TakeDevice. logind forgets a device that is
// removed (PauseDevice "gone"), so the card the rebind brings must be
// taken anew: the proof is a second logind.took_device for the same
// node after display.gone, and the quadrants on it. (logind hears of
// the new card from udev, after vitrine had the kernel's uevent: the
// first TakeDevice is refused with ENODEV and vitrine's retry takes it.)

// hotplugVTUnbindVitrine is the unbind phase's vitrine: no --session,
// so logind is found the way a user's start finds it.
const hotplugVTUnbindVitrine = "vitrine --backend drm --log-level debug --log-format json --socket wayland-ub"

// hotplugVTUnbindRules let the session user (group video) unbind and
// bind virtio-gpu's driver: sysfs attributes have no udev MODE, so a
// rule on the driver's own add event changes them. virtio_gpu is
// insmodded before udev runs; coldplug (udevadm trigger
// --type=subsystems) replays that event. (The card's add event cannot
// do it: the card's parent is the PCI function, whose driver is
// virtio-pci, so DRIVERS=="virtio_gpu" never matches it.)
const hotplugVTUnbindRules = `ACTION=="add", SUBSYSTEM=="drivers", KERNEL=="virtio_gpu", ` +
	`RUN+="/bin/chgrp video /sys/bus/virtio/drivers/virtio_gpu/bind /sys/bus/virtio/drivers/virtio_gpu/unbind", ` +
	`RUN+="/bin/chmod g+w /sys/bus/virtio/drivers/virtio_gpu/bind /sys/bus/virtio/drivers/virtio_gpu/unbind"`

// hotplugVTUnbindCommand is the phase as the row's script appends it.
var hotplugVTUnbindCommand = unbindShell + `echo "unbind-attrs=$(stat -c '%G %a' /sys/bus/virtio/drivers/virtio_gpu/unbind /sys/bus/virtio/drivers/virtio_gpu/bind | tr '\n' ' ')"
` + unbindPhase("unbind", hotplugVTUnbindVitrine)

// judgeHotplugVTUnbind judges the unbind phase of hotplugVTScenario's
// run: judgeUnbind (any cause: the kernel's uevent and logind's gone
// race, and either must do) and the logind hand-over. The script's
// FAIL lines and exit status are the row's own judge's to report.
func judgeHotplugVTUnbind(env *Env, res *Result) []string {
	out := string(res.Output)
	if env != nil && env.Log != nil {
		env.Log.Info("unbind under logind: delays (ms)", "unbind_to_log", field(out, "unbind-gone-ms"), "bind_to_back", field(out, "unbind-back-ms"), "bind_to_frame", field(out, "unbind-frame-ms"), "attrs", attrsLine.FindString(out))
	}
	all, err := judgeUnbind(res, "unbind", "")
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for _, p := range all {
		if !strings.HasPrefix(p, "unbind: FAIL: ") && !strings.HasPrefix(p, "unbind: guest script exited ") {
			problems = append(problems, p)
		}
	}
	return append(problems, judgeLogindRetake(vitrineEvents(tagged(out, "unbind")))...)
}

// attrsLine is the script's line showing who may write bind and unbind.
var attrsLine = regexp.MustCompile(`(?m)^unbind-attrs=.*$`)

// judgeLogindRetake checks that an unbind run's vitrine used logind and
// took /dev/dri/card0 from it twice: the old card before display.gone,
// the new one after it and before display.back.
func judgeLogindRetake(evs []logEvent) []string {
	var problems []string
	if countEvents(evs, "session.logind") == 0 {
		problems = append(problems, "unbind: vitrine did not use logind (no session.logind event)")
	}
	var seq []string
	for _, e := range evs {
		switch {
		case e.is("logind.took_device", "path", "/dev/dri/card0"):
			seq = append(seq, "took")
		case e.Event() == "display.gone", e.Event() == "display.back":
			seq = append(seq, e.Event())
		}
	}
	if want := []string{"took", "display.gone", "took", "display.back"}; !slices.Equal(seq, want) {
		problems = append(problems, fmt.Sprintf("unbind: logind.took_device for /dev/dri/card0 and display.gone/back went %q, want %q (the rebound card taken from logind once, after the old one went)", seq, want))
	}
	return problems
}
