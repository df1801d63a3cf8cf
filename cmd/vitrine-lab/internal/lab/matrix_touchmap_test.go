package lab

import (
	"fmt"
	"image"
	"strings"
	"testing"
)

// touchMapOutput is what a good vitrine-touch-map-logind run prints:
// per phase, input-echo's lines and vitrine's JSON records (frame and
// request records filtered out, as the script does).
func touchMapRunOutput() string {
	panels := map[string]image.Point{"Virtual-1": hotplugHead0, "Virtual-2": hotplugHead1}
	var b strings.Builder
	fmt.Fprintf(&b, "panel-Virtual-1=%dx%d\npanel-Virtual-2=%dx%d\n", hotplugHead0.X, hotplugHead0.Y, hotplugHead1.X, hotplugHead1.Y)
	nx, ny := float64(touchMapTap[0])/TouchMax, float64(touchMapTap[1])/TouchMax
	for _, p := range touchMapPhases {
		panel := panels[p.output]
		size := panel
		if p.rotate%180 == 90 {
			size = image.Pt(panel.Y, panel.X)
		}
		pt := panelToSurface(p.rotate, panel, 1-ny, nx)
		fmt.Fprintf(&b, "%[1]s-touch-exit=0\n"+
			`%[1]s| {"time":"x","level":"INFO","msg":"session: using logind","session":"1","seat":"seat0","event":"session.logind"}`+"\n"+
			"%[1]s| first-frame %[2]dx%[3]d\n"+
			`%[1]s| {"time":"x","level":"INFO","msg":"input: device added","path":"/dev/input/event4","name":"vitrine-lab touchscreen","caps":"touch","event":"input.added"}`+"\n"+
			`%[1]s| {"time":"x","level":"INFO","msg":"input: device mapped","path":"/dev/input/event4","name":"vitrine-lab touchscreen","output":"%[4]s","source":"%[5]s","calibration":"0 -1 1 1 0 0","event":"input.mapped"}`+"\n"+
			"%[1]s| touch-down id=0 x=%.2[6]f y=%.2[7]f\n%[1]s| touch-frame\n%[1]s| touch-up id=0\n%[1]s| touch-frame\n",
			p.tag, size.X, size.Y, p.output, p.source, pt[0], pt[1])
	}
	return b.String()
}

func TestTouchMapCheck(t *testing.T) {
	good := touchMapRunOutput()
	if err := touchMapCheck(nil, &Result{Output: []byte(good)}, nil); err != nil {
		t.Fatalf("a good run failed: %v\n%s", err, good)
	}
	// The numbers by hand for the first phase: raw (1024, 3072) through
	// x' = 1 - y, y' = x is (0.2498, 0.2501) of Virtual-2's 1024x768.
	if !strings.Contains(good, "udev| touch-down id=0 x=255.81 y=192.05\n") {
		t.Errorf("expected numbers changed:\n%s", good)
	}
	reworded := strings.ReplaceAll(good, `"msg":"input: device mapped"`, `"msg":"touchscreen mapped"`)
	if err := touchMapCheck(nil, &Result{Output: []byte(reworded)}, nil); err != nil {
		t.Errorf("a good run with vitrine's message reworded failed: %v", err)
	}
	mapped := `"event":"input.mapped"}`
	for _, b := range []struct{ name, from, to, want string }{
		{"mapping not logged", `"calibration":"0 -1 1 1 0 0","event":"input.mapped"`, `"calibration":"0 -1 1 1 0 0","event":"input.other"`, "udev: 0 input.mapped events"},
		{"mapped twice", "udev| touch-down", `udev| {"level":"INFO","name":"vitrine-lab touchscreen","output":"Virtual-2","source":"udev","calibration":"0 -1 1 1 0 0",` + mapped + "\nudev| touch-down", "udev: 2 input.mapped events"},
		{"WL_OUTPUT ignored", `"output":"Virtual-2","source":"udev"`, `"output":"first","source":"default"`, `udev: vitrine's input.mapped event for the touchscreen has output="first" source="default"`},
		{"matrix not read", `"calibration":"0 -1 1 1 0 0"`, `"calibration":"1 0 0 0 1 0"`, `want "Virtual-2" "udev" "0 -1 1 1 0 0"`},
		{"flag lost to udev", `"output":"Virtual-1","source":"flag"`, `"output":"Virtual-2","source":"udev"`, `flag: vitrine's input.mapped event`},
		{"the map event in the client's wording only", `"msg":"input: device mapped","path":"/dev/input/event4","name":"vitrine-lab touchscreen","output":"Virtual-2","source":"udev","calibration":"0 -1 1 1 0 0","event":"input.mapped"}`,
			`"msg":"input: device mapped","path":"/dev/input/event4","name":"vitrine-lab touchscreen","event":"input.mapped"}`, `output="" source="" calibration=""`},
		{"an error", "udev| touch-down", `udev| {"time":"x","level":"ERROR","msg":"read input","err":"EIO"}` + "\nudev| touch-down", "udev: vitrine logged"},
		{"tap uncalibrated", "udev| touch-down id=0 x=255.81 y=192.05", "udev| touch-down id=0 x=256.06 y=576.14", "want the tap at 255.81,192.05"},
		{"tap lost", "udev| touch-down id=0 x=255.81 y=192.05\n", "", "udev: input-echo printed no touch-down"},
		{"helper failed", "udev-rot90-touch-exit=0", "udev-rot90-touch-exit=1", "udev-rot90: lab-touch did not exit 0"},
		{"no panel", "panel-Virtual-2=", "panel-Virtual-9=", "no panel-Virtual-2=WxH"},
	} {
		out := strings.Replace(good, b.from, b.to, 1)
		if out == good {
			t.Fatalf("%s: %q is not in the good output", b.name, b.from)
		}
		err := touchMapCheck(nil, &Result{Output: []byte(out)}, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", b.name, err, b.want)
		}
	}
}
