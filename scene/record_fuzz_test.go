package scene_test

import (
	"encoding/binary"
	"encoding/xml"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/render"
)

// TestRecordFuzzSeeds records what real clients send and turns it into
// FuzzRequests inputs (testdata/fuzz/FuzzRequests/real-*), so the fuzzer
// starts from streams real toolkits produce rather than only the
// hand-written seeds. Each client talks to a rig like FuzzRequests'
// (64x64 output) through a relay in this process that copies every
// byte and fd both ways and keeps the client's requests. It rewrites the
// checked-in corpus, so it runs only with VITRINE_RECORD_SEEDS=1.
func TestRecordFuzzSeeds(t *testing.T) {
	if os.Getenv("VITRINE_RECORD_SEEDS") == "" {
		t.Skip("rewrites testdata/fuzz/FuzzRequests/real-*: set VITRINE_RECORD_SEEDS=1")
	}
	specs := loadRequestSpecs(t, "../protocol/xml")
	clients := []struct {
		name string
		argv []string
		env  []string
		run  time.Duration
	}{
		{"wayland-info", []string{"wayland-info"}, nil, 0},
		{"weston-simple-shm", []string{"weston-simple-shm"}, nil, 1500 * time.Millisecond},
		{"weston-simple-damage", []string{"weston-simple-damage"}, nil, 1500 * time.Millisecond},
		{"foot", []string{"foot", "-o", "scrollback.lines=0", "sh", "-c", "echo hello; sleep 30"}, nil, 3 * time.Second},
		{"gtk4-demo", []string{"gtk4-demo"}, []string{"GSK_RENDERER=cairo", "GDK_BACKEND=wayland", "NO_AT_BRIDGE=1", "GTK_A11Y=none"}, 5 * time.Second},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			if _, err := exec.LookPath(c.argv[0]); err != nil {
				t.Skipf("%s is not installed", c.argv[0])
			}
			r := startRig(t, 64, 64, 60000, render.Normal, protocol.Options{})
			globals := getRegistry(t, r.dial(t)).globals
			stream := recordClient(t, r, c.argv, c.env, c.run)
			seed, n, dropped := fuzzSeedFromStream(stream, specs, globals)
			t.Logf("%s: %d bytes of requests, %d messages kept, %d dropped, seed %d bytes", c.name, len(stream.data), n, dropped, len(seed))
			if n < 3 {
				t.Fatalf("only %d requests kept from %s: nothing to seed with", n, c.name)
			}
			path := filepath.Join("testdata", "fuzz", "FuzzRequests", "real-"+c.name)
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(seed)) + ")\n"
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// recordedStream is what a client sent: its bytes, and where in them
// each fd arrived (fds are matched to messages by signature later).
type recordedStream struct {
	mu   sync.Mutex
	data []byte
	fds  int
}

// recordClient runs argv against r through a relay and returns what it
// sent, after it exits or after run.
func recordClient(t *testing.T, r *rig, argv, env []string, run time.Duration) *recordedStream {
	t.Helper()
	dir := filepath.Dir(r.socket)
	relayPath := filepath.Join(dir, "wl-relay")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: relayPath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rec := &recordedStream{}
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		cc, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer cc.Close()
		sc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: r.socket, Net: "unix"})
		if err != nil {
			return
		}
		defer sc.Close()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); relay(cc, sc, rec); sc.CloseWrite() }()
		go func() { defer wg.Done(); relay(sc, cc, nil); cc.CloseWrite() }()
		wg.Wait()
	}()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), "XDG_RUNTIME_DIR="+dir, "WAYLAND_DISPLAY=wl-relay"), env...)
	if os.Getenv("VITRINE_RECORD_DEBUG") != "" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	if run == 0 {
		run = 10 * time.Second
	}
	select {
	case <-exited:
	case <-time.After(run):
		cmd.Process.Kill()
		<-exited
	}
	l.Close()
	select {
	case <-relayDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the relay did not finish after the client exited")
	}
	return rec
}

// relay copies bytes and fds from one socket to the other; rec, if set,
// keeps a copy of the bytes.
func relay(from, to *net.UnixConn, rec *recordedStream) {
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(28*4))
	for {
		n, oobn, _, _, err := from.ReadMsgUnix(buf, oob)
		if n == 0 && err != nil {
			return
		}
		var fds []int
		if oobn > 0 {
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				if got, err := unix.ParseUnixRights(&m); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		if rec != nil {
			rec.mu.Lock()
			rec.data = append(rec.data, buf[:n]...)
			rec.fds += len(fds)
			rec.mu.Unlock()
		}
		var rights []byte
		if len(fds) > 0 {
			rights = unix.UnixRights(fds...)
		}
		_, _, werr := to.WriteMsgUnix(buf[:n], rights, nil)
		for _, fd := range fds {
			unix.Close(fd)
		}
		if werr != nil || err != nil {
			return
		}
	}
}

// requestSpec is one request's arguments as the protocol XML gives them:
// the wire type and, for new_id and object, the interface.
type requestSpec struct {
	name string
	args []argSpec
}

type argSpec struct{ typ, iface string }

// loadRequestSpecs reads every interface's requests from the protocol
// definitions vitrine is generated from.
func loadRequestSpecs(t *testing.T, dir string) map[string][]requestSpec {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no protocol XML in %s: %v", dir, err)
	}
	specs := map[string][]requestSpec{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Interfaces []struct {
				Name     string `xml:"name,attr"`
				Requests []struct {
					Name string `xml:"name,attr"`
					Args []struct {
						Type      string `xml:"type,attr"`
						Interface string `xml:"interface,attr"`
					} `xml:"arg"`
				} `xml:"request"`
			} `xml:"interface"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, in := range doc.Interfaces {
			for _, rq := range in.Requests {
				s := requestSpec{name: rq.Name}
				for _, a := range rq.Args {
					s.args = append(s.args, argSpec{a.Type, a.Interface})
				}
				specs[in.Name] = append(specs[in.Name], s)
			}
		}
	}
	return specs
}

// Recorded seeds stay small enough for the fuzzer to mutate quickly.
const (
	maxSeedMessages = 400
	maxSeedBytes    = 12 << 10
	firstSeedID     = 0x20
	lastSeedID      = 0xfd
)

// fuzzSeedFromStream translates a client's requests into FuzzRequests'
// encoding: the binds become the preamble's objects (global name N is
// object N+2), every other new object gets the next free one-byte id,
// object arguments are renamed to match, strings and arrays stay as
// their wire words, an fd becomes the fuzz memfd, and ack_configure
// takes the serial the compositor sent. A request naming an object the
// encoding cannot (one the compositor created, or one past the byte
// ids) is dropped; it returns the seed and how many requests were kept
// and dropped.
func fuzzSeedFromStream(rec *recordedStream, specs map[string][]requestSpec, globals map[string][2]uint32) ([]byte, int, int) {
	type object struct {
		iface string
		id    byte
	}
	objs := map[uint32]object{1: {"wl_display", 1}}
	next := byte(firstSeedID)
	var seed []byte
	kept, dropped := 0, 0
	data := rec.data
	for len(data) >= 8 && kept < maxSeedMessages && len(seed) < maxSeedBytes {
		id := binary.LittleEndian.Uint32(data)
		hdr := binary.LittleEndian.Uint32(data[4:])
		size, op := int(hdr>>16), int(hdr&0xffff)
		if size < 8 || size > len(data) {
			break
		}
		body := data[8:size]
		data = data[size:]
		o, ok := objs[id]
		if !ok || op >= len(specs[o.iface]) {
			dropped++
			continue
		}
		rq := specs[o.iface][op]
		if o.iface == "wl_registry" && rq.name == "bind" {
			// bind(name, interface, version, new_id): the preamble bound it.
			if len(body) < 8 {
				dropped++
				continue
			}
			l := int(binary.LittleEndian.Uint32(body[4:]))
			off := 8 + (l+3)&^3
			if off+8 > len(body) {
				dropped++
				continue
			}
			iface := cString(body[8 : 8+l])
			newID := binary.LittleEndian.Uint32(body[off+4:])
			if g, ok := globals[iface]; ok && g[0]+2 < firstSeedID {
				objs[newID] = object{iface, byte(g[0] + 2)}
			}
			continue
		}
		if o.iface == "wl_display" && rq.name == "get_registry" && len(body) == 4 {
			objs[binary.LittleEndian.Uint32(body)] = object{"wl_registry", 2}
			continue
		}
		var words []uint32
		var flags byte
		var created []struct {
			client uint32
			obj    object
		}
		bad := false
		for _, a := range rq.args {
			if a.typ == "fd" {
				flags |= fuzzWithFD
				continue
			}
			if len(body) < 4 {
				bad = true
				break
			}
			w := binary.LittleEndian.Uint32(body)
			switch a.typ {
			case "string", "array":
				n := 4 + (int(w)+3)&^3
				if n > len(body) || w > 1<<12 {
					bad = true
					break
				}
				for i := 0; i < n; i += 4 {
					words = append(words, binary.LittleEndian.Uint32(body[i:]))
				}
				body = body[n:]
				continue
			case "object":
				if w != 0 {
					ref, ok := objs[w]
					if !ok {
						bad = true
						break
					}
					w = uint32(ref.id)
				}
			case "new_id":
				if next > lastSeedID || a.iface == "" {
					bad = true
					break
				}
				created = append(created, struct {
					client uint32
					obj    object
				}{w, object{a.iface, next}})
				w = uint32(next)
				next++
			}
			if bad {
				break
			}
			words = append(words, w)
			body = body[4:]
		}
		if bad || len(words) > 0x1f {
			dropped++
			continue
		}
		for _, c := range created {
			objs[c.client] = c.obj
		}
		if o.iface == "xdg_surface" && rq.name == "ack_configure" {
			flags |= fuzzSerial
		}
		seed = append(seed, fuzzMessage(o.id, byte(op), flags, words...)...)
		kept++
	}
	return seed, kept, dropped
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
