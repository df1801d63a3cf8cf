package qmp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
)

// fakeQEMU answers like QEMU: a greeting, then one reply per command,
// with an asynchronous event slipped in before each reply.
func fakeQEMU(t *testing.T, conn net.Conn, got chan<- map[string]any) {
	defer conn.Close()
	fmt.Fprintln(conn, `{"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}}`)
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		var req map[string]any
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			t.Errorf("bad request %q", sc.Text())
			return
		}
		got <- req
		fmt.Fprintln(conn, `{"event": "RESUME", "timestamp": {"seconds": 1}}`)
		id, _ := json.Marshal(req["id"])
		if req["execute"] == "screendump" && req["arguments"].(map[string]any)["device"] == "nope" {
			fmt.Fprintf(conn, `{"id": %s, "error": {"class": "GenericError", "desc": "Device 'nope' not found"}}`+"\n", id)
			continue
		}
		fmt.Fprintf(conn, `{"id": %s, "return": {}}`+"\n", id)
	}
}

func TestClient(t *testing.T) {
	a, b := net.Pipe()
	got := make(chan map[string]any, 10)
	go fakeQEMU(t, b, got)
	c, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if req := <-got; req["execute"] != "qmp_capabilities" {
		t.Fatalf("first command %v", req)
	}
	if err := c.Screendump("virtio", "/tmp/x.ppm"); err != nil {
		t.Fatal(err)
	}
	req := <-got
	args := req["arguments"].(map[string]any)
	if req["execute"] != "screendump" || args["device"] != "virtio" || args["filename"] != "/tmp/x.ppm" {
		t.Errorf("screendump sent %v", req)
	}
	err = c.Screendump("nope", "/tmp/y.ppm")
	<-got
	if err == nil || !strings.Contains(err.Error(), "Device 'nope' not found") {
		t.Errorf("error reply gave %v", err)
	}
	if err := c.SendInput([]InputEvent{KeyEvent("a", true), AbsEvent("x", 5), ButtonEvent("left", false)}); err != nil {
		t.Fatal(err)
	}
	req = <-got
	b2, _ := json.Marshal(req["arguments"])
	want := `{"events":[{"data":{"down":true,"key":{"data":"a","type":"qcode"}},"type":"key"},{"data":{"axis":"x","value":5},"type":"abs"},{"data":{"button":"left","down":false},"type":"btn"}]}`
	if string(b2) != want {
		t.Errorf("input-send-event arguments\n got %s\nwant %s", b2, want)
	}
}
