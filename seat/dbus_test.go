package seat

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
	"golang.org/x/sys/unix"
)

// The logind tests run a real dbus-daemon with a private configuration and
// a fake org.freedesktop.login1 in a helper process (this test binary
// re-executed), so the client speaks to logind's real interface names and
// signatures over a real bus, fd passing included, and the service can be
// killed mid-session.

const fakeLogindEnv = "VITRINE_TEST_FAKE_LOGIND_BUS"

func TestMain(m *testing.M) {
	if addr := os.Getenv(fakeLogindEnv); addr != "" {
		if err := runFakeLogind(addr); err != nil {
			fmt.Fprintln(os.Stderr, "fake logind:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>vitrine-test</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
`

// startBus runs a private dbus-daemon and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed (apt-get install dbus)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, filepath.Join(dir, "bus"))), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read dbus-daemon address: %v", err)
	}
	return strings.TrimSpace(line)
}

type fakeLogindProc struct {
	cmd  *exec.Cmd
	conn *dbus.Conn // the test's own connection, for driving the fake
}

// startFakeLogind runs the fake login1 service on the bus at addr and waits
// until it owns its name.
func startFakeLogind(t *testing.T, addr string) *fakeLogindProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fakeLogindEnv+"="+addr)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, login1Name).Store(&has); err != nil {
			t.Fatal(err)
		}
		if has {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fake logind did not appear on the bus")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &fakeLogindProc{cmd: cmd, conn: conn}
}

func (p *fakeLogindProc) ctl(t *testing.T, method string, args ...any) *dbus.Call {
	t.Helper()
	c := p.conn.Object(login1Name, fakeCtlPath).Call(fakeCtlIface+"."+method, 0, args...)
	if c.Err != nil {
		t.Fatalf("fake logind %s: %v", method, c.Err)
	}
	return c
}

func (p *fakeLogindProc) calls(t *testing.T) []string {
	t.Helper()
	var calls []string
	if err := p.ctl(t, "Calls").Store(&calls); err != nil {
		t.Fatal(err)
	}
	return calls
}

// waitCall waits until the fake has recorded call.
func (p *fakeLogindProc) waitCall(t *testing.T, call string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range p.calls(t) {
			if c == call {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fake logind never got %q; calls: %q", call, p.calls(t))
}

func (p *fakeLogindProc) hasCall(t *testing.T, call string) bool {
	for _, c := range p.calls(t) {
		if c == call {
			return true
		}
	}
	return false
}

const (
	fakeSessionPath = dbus.ObjectPath("/org/freedesktop/login1/session/_31")
	fakeSeatPath    = dbus.ObjectPath("/org/freedesktop/login1/seat/seat0")
	fakeCtlPath     = dbus.ObjectPath("/org/vitrine/test")
	fakeCtlIface    = "org.vitrine.Test"
)

// fakeDevices maps device numbers to the node the fake opens for them.
// 1:7 (/dev/full) stands for a device another display server holds.
var fakeDevices = map[[2]uint32]string{{1, 3}: "/dev/null", {1, 5}: "/dev/zero", {1, 7}: "/dev/full"}

type fakeLogind struct {
	conn  *dbus.Conn
	props *prop.Properties

	mu         sync.Mutex
	calls      []string
	controller string
	taken      map[[2]uint32]int // fd last sent, closed on the next send or release
}

func (f *fakeLogind) record(format string, args ...any) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

type fakeManager struct{ f *fakeLogind }

func (m fakeManager) GetSession(id string) (dbus.ObjectPath, *dbus.Error) {
	m.f.record("GetSession %s", id)
	if id != "1" {
		return "", dbus.NewError("org.freedesktop.login1.NoSuchSession", []any{"No session '" + id + "' known"})
	}
	return fakeSessionPath, nil
}

func (m fakeManager) GetSessionByPID(pid uint32) (dbus.ObjectPath, *dbus.Error) {
	m.f.record("GetSessionByPID %d", pid)
	return fakeSessionPath, nil
}

type fakeSession struct{ f *fakeLogind }

func (s fakeSession) TakeControl(sender dbus.Sender, force bool) *dbus.Error {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.controller != "" && f.controller != string(sender) {
		return dbus.NewError("System.Error.EBUSY", []any{"Device or resource busy"})
	}
	f.controller = string(sender)
	f.calls = append(f.calls, "TakeControl")
	return nil
}

func (s fakeSession) ReleaseControl(sender dbus.Sender) *dbus.Error {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.controller != string(sender) {
		return dbus.NewError("org.freedesktop.login1.NotInControl", []any{"You are not in control of this session"})
	}
	f.controller = ""
	f.calls = append(f.calls, "ReleaseControl")
	return nil
}

func (s fakeSession) TakeDevice(sender dbus.Sender, major, minor uint32) (dbus.UnixFD, bool, *dbus.Error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.controller != string(sender) {
		return -1, false, dbus.NewError("org.freedesktop.login1.NotInControl", []any{"You are not in control of this session"})
	}
	key := [2]uint32{major, minor}
	path, ok := fakeDevices[key]
	if !ok {
		return -1, false, dbus.NewError("System.Error.ENODEV", []any{"No such device"})
	}
	if key == [2]uint32{1, 7} {
		return -1, false, dbus.NewError("System.Error.EBUSY", []any{"Device or resource busy"})
	}
	if _, dup := f.taken[key]; dup {
		return -1, false, dbus.NewError("org.freedesktop.login1.DeviceIsTaken", []any{"Device already taken"})
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false, dbus.MakeFailedError(err)
	}
	f.taken[key] = fd
	f.calls = append(f.calls, fmt.Sprintf("TakeDevice %d %d", major, minor))
	active, _ := f.props.GetMust(login1Session, "Active").(bool)
	return dbus.UnixFD(fd), !active, nil
}

func (s fakeSession) ReleaseDevice(sender dbus.Sender, major, minor uint32) *dbus.Error {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	key := [2]uint32{major, minor}
	fd, ok := f.taken[key]
	if !ok {
		return dbus.NewError("org.freedesktop.login1.DeviceNotTaken", []any{"Device not taken"})
	}
	unix.Close(fd)
	delete(f.taken, key)
	f.calls = append(f.calls, fmt.Sprintf("ReleaseDevice %d %d", major, minor))
	return nil
}

func (s fakeSession) PauseDeviceComplete(major, minor uint32) *dbus.Error {
	s.f.record("PauseDeviceComplete %d %d", major, minor)
	return nil
}

type fakeSeat struct{ f *fakeLogind }

// fakeSeatRef encodes as logind's Seat property, a (so) struct.
type fakeSeatRef struct {
	Name string
	Path dbus.ObjectPath
}

func (s fakeSeat) SwitchTo(vt uint32) *dbus.Error {
	s.f.record("SwitchTo %d", vt)
	return nil
}

// fakeControl lets the test drive the fake over the bus.
type fakeControl struct{ f *fakeLogind }

func (c fakeControl) Pause(major, minor uint32, typ string) *dbus.Error {
	if err := c.f.conn.Emit(fakeSessionPath, login1Session+".PauseDevice", major, minor, typ); err != nil {
		return dbus.MakeFailedError(err)
	}
	return nil
}

func (c fakeControl) Resume(major, minor uint32) *dbus.Error {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	key := [2]uint32{major, minor}
	if _, ok := f.taken[key]; !ok {
		return dbus.NewError("org.vitrine.Test.NotTaken", nil)
	}
	fd, err := unix.Open(fakeDevices[key], unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return dbus.MakeFailedError(err)
	}
	unix.Close(f.taken[key])
	f.taken[key] = fd
	if err := f.conn.Emit(fakeSessionPath, login1Session+".ResumeDevice", major, minor, dbus.UnixFD(fd)); err != nil {
		return dbus.MakeFailedError(err)
	}
	return nil
}

func (c fakeControl) SetActive(active bool) *dbus.Error {
	if err := c.f.props.Set(login1Session, "Active", dbus.MakeVariant(active)); err != nil {
		return err
	}
	return nil
}

func (c fakeControl) Calls() ([]string, *dbus.Error) {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	return append([]string{}, c.f.calls...), nil
}

func runFakeLogind(addr string) error {
	conn, err := dbus.Connect(addr)
	if err != nil {
		return err
	}
	f := &fakeLogind{conn: conn, taken: make(map[[2]uint32]int)}
	props, err := prop.Export(conn, fakeSessionPath, prop.Map{
		login1Session: {
			"Id":     {Value: "1", Emit: prop.EmitConst},
			"Seat":   {Value: fakeSeatRef{"seat0", fakeSeatPath}, Emit: prop.EmitConst},
			"VTNr":   {Value: uint32(1), Emit: prop.EmitConst},
			"Type":   {Value: "tty", Emit: prop.EmitConst},
			"Active": {Value: true, Writable: true, Emit: prop.EmitTrue},
		},
	})
	if err != nil {
		return err
	}
	f.props = props
	exports := []struct {
		v     any
		path  dbus.ObjectPath
		iface string
	}{
		{fakeManager{f}, login1Path, login1Manager},
		{fakeSession{f}, fakeSessionPath, login1Session},
		{fakeSeat{f}, fakeSeatPath, login1Seat},
		{fakeControl{f}, fakeCtlPath, fakeCtlIface},
	}
	for _, e := range exports {
		if err := conn.Export(e.v, e.path, e.iface); err != nil {
			return err
		}
	}
	reply, err := conn.RequestName(login1Name, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("request name: %v %v", reply, err)
	}
	select {} // killed by the test
}
