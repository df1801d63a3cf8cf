package main

import (
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fullDirScript runs in its own mount namespace (unshare -m), so its
// tmpfs mounts are seen by nothing else. $1 is where results go, $2 and
// $3 are mount points. A 2 MiB XDG_RUNTIME_DIR fills up under a running
// vitrine; a client still connects and draws; after space is freed
// another does, and grim captures. Then a directory with no inode left
// cannot take vitrine's lock file.
const fullDirScript = `set -u
out=$1 full=$2 noinodes=$3
mount -t tmpfs -o size=2m,mode=700 none $full || { echo "mount failed" > $out/skip; exit 0; }
export XDG_RUNTIME_DIR=$full WAYLAND_DISPLAY=wl-full
vitrine --backend headless --output 320x240 --socket wl-full --privileged-clients all -- shm-client --pattern quadrants --fullscreen > $out/vitrine.out 2> $out/vitrine.log &
pid=$!
i=0; while ! grep -q '^first-frame' $out/vitrine.out; do i=$((i+1)); [ $i -lt 200 ] || { echo "no first frame" > $out/fail; kill $pid; exit 0; }; sleep 0.05; done
dd if=/dev/zero of=$full/fill bs=64k 2>/dev/null
df -k $full | tail -n 1 > $out/df
shm-client --pattern quadrants --frames 1 > $out/client1 2>&1; echo $? > $out/client1.status
rm $full/fill
shm-client --pattern quadrants --frames 1 > $out/client2 2>&1; echo $? > $out/client2.status
grim $out/shot.png 2> $out/grim.err
kill -0 $pid && echo alive > $out/alive
kill $pid; wait $pid

mount -t tmpfs -o size=1m,nr_inodes=4,mode=700 none $noinodes || exit 0
n=0; while touch $noinodes/f$n 2>/dev/null; do n=$((n+1)); done
XDG_RUNTIME_DIR=$noinodes vitrine --backend headless --socket wl-x > $out/noinodes.out 2>&1; echo $? > $out/noinodes.status
`

// TestFullRuntimeDir: XDG_RUNTIME_DIR filling up under vitrine is logged
// (once, with the directory and free bytes) and changes nothing for
// clients that do not keep files there; space coming back is logged; a
// directory without a free inode refuses vitrine's lock file with one
// line. Needs root and unshare (util-linux) for the tmpfs mounts.
func TestFullRuntimeDir(t *testing.T) {
	need(t, "grim", "unshare")
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	bin := binaries(t)
	out, full, noinodes := t.TempDir(), testRuntimeDir(t), testRuntimeDir(t)
	cmd := exec.Command("unshare", "-m", "sh", "-c", fullDirScript, "sh", out, full, noinodes)
	cmd.Env = append(envWith(), "PATH="+bin+":"+os.Getenv("PATH"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unshare: %v\n%s", err, b)
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(out, name))
		return strings.TrimSpace(string(b))
	}
	if s := read("skip"); s != "" {
		t.Skipf("cannot mount a tmpfs here: %s", s)
	}
	log := read("vitrine.log")
	if f := read("fail"); f != "" {
		t.Fatalf("%s\n%s", f, log)
	}
	if fields := strings.Fields(read("df")); len(fields) < 4 || fields[3] != "0" {
		t.Fatalf("the tmpfs was not filled: df says %q", read("df"))
	}
	for _, c := range []string{"client1", "client2"} {
		if read(c+".status") != "0" {
			t.Errorf("%s exited %s:\n%s", c, read(c+".status"), read(c))
		}
	}
	if read("alive") != "alive" {
		t.Fatalf("vitrine did not survive the full directory:\n%s", log)
	}
	wantFull := `level=WARN msg="the socket's directory is full: clients that keep buffers or files in XDG_RUNTIME_DIR may fail to start or draw; free space there" dir=` + full + ` free_bytes=0 `
	if strings.Count(log, "the socket's directory is full") != 1 || !strings.Contains(log, wantFull) {
		t.Errorf("want one line %q in vitrine's log:\n%s", wantFull, log)
	}
	if !strings.Contains(log, `msg="the socket's directory has space again" dir=`+full) {
		t.Errorf("no line saying the directory has space again:\n%s", log)
	}
	f, err := os.Open(filepath.Join(out, "shot.png"))
	if err != nil {
		t.Fatalf("grim after the directory was freed: %v %s", err, read("grim.err"))
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	checkQuadrants(t, img)

	noLog := read("noinodes.out")
	if read("noinodes.status") != "1" || !strings.Contains(noLog, "no space left on device: its directory is full; free space there or set XDG_RUNTIME_DIR to another private directory") {
		t.Errorf("vitrine in a directory with no inode left exited %s with:\n%s", read("noinodes.status"), noLog)
	}
}
