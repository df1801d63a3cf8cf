package lab

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTouchScript(t *testing.T) {
	steps, err := parseTouchScript(`# two fingers
wait-open vitrine
wait-signal 500
down 0 10 20; down 1 4095 0
sleep 30
move 1 5 6
up 0 ; up 1
hold
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 7 {
		t.Fatalf("got %d steps, want 7: %+v", len(steps), steps)
	}
	if steps[0].waitOpen != "vitrine" || steps[0].limit != 10*time.Second {
		t.Errorf("wait-open step = %+v", steps[0])
	}
	if !steps[1].waitUsr1 || steps[1].limit != 500*time.Millisecond {
		t.Errorf("wait-signal step = %+v", steps[1])
	}
	if want := []touchAction{{"down", 0, 10, 20}, {"down", 1, 4095, 0}}; !slices.Equal(steps[2].actions, want) {
		t.Errorf("frame = %+v, want %+v", steps[2].actions, want)
	}
	if steps[3].pause != 30*time.Millisecond {
		t.Errorf("sleep step = %+v", steps[3])
	}
	if want := []touchAction{{"up", 0, 0, 0}, {"up", 1, 0, 0}}; !slices.Equal(steps[5].actions, want) {
		t.Errorf("frame = %+v, want %+v", steps[5].actions, want)
	}
	if !steps[6].hold || steps[6].limit != 30*time.Second {
		t.Errorf("hold step = %+v", steps[6])
	}
	for _, bad := range []struct{ script, want string }{
		{"press 0 1 2", "unknown command"},
		{"down 0 4096 0", "want 0..4095"},
		{"down 0 -1 0", "want 0..4095"},
		{"down 0 1", "usage: down FINGER X Y"},
		{"up", "usage: up FINGER"},
		{"down 0 1 1; move 0 2 2", "finger 0 twice"},
		{"down 0 1 1;", "empty action"},
		{"sleep soon", "milliseconds"},
		{"wait-open", "usage: wait-open"},
		{"\n\ndown x 1 1", "line 3"},
	} {
		_, err := parseTouchScript(bad.script)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("parseTouchScript(%q) = %v, want an error mentioning %q", bad.script, err, bad.want)
		}
	}
}

func TestTouchEncoderSpeaksProtocolB(t *testing.T) {
	e := newTouchEncoder()
	abs := func(code uint16, v int32) inputEvent { return inputEvent{evAbs, code, v} }
	syn := inputEvent{evSyn, synReport, 0}
	for i, tc := range []struct {
		actions []touchAction
		want    []inputEvent
	}{
		{
			[]touchAction{{"down", 0, 100, 200}, {"down", 1, 300, 400}},
			[]inputEvent{
				abs(absMTSlot, 0), abs(absMTTrackingID, 0), abs(absMTPositionX, 100), abs(absMTPositionY, 200),
				abs(absMTSlot, 1), abs(absMTTrackingID, 1), abs(absMTPositionX, 300), abs(absMTPositionY, 400),
				{evKey, btnTouch, 1}, abs(absX, 100), abs(absY, 200), syn,
			},
		},
		{
			// Slot 1 stays selected: no ABS_MT_SLOT before it.
			[]touchAction{{"move", 1, 310, 410}},
			[]inputEvent{abs(absMTPositionX, 310), abs(absMTPositionY, 410), abs(absX, 100), abs(absY, 200), syn},
		},
		{
			// The oldest contact lifts: the single-touch position
			// follows the one left.
			[]touchAction{{"up", 0, 0, 0}},
			[]inputEvent{abs(absMTSlot, 0), abs(absMTTrackingID, -1), abs(absX, 310), abs(absY, 410), syn},
		},
		{
			// A new finger takes the lowest free slot and a fresh
			// tracking id.
			[]touchAction{{"down", 7, 5, 6}},
			[]inputEvent{abs(absMTTrackingID, 2), abs(absMTPositionX, 5), abs(absMTPositionY, 6), abs(absX, 310), abs(absY, 410), syn},
		},
		{
			[]touchAction{{"up", 1, 0, 0}, {"up", 7, 0, 0}},
			[]inputEvent{abs(absMTSlot, 1), abs(absMTTrackingID, -1), abs(absMTSlot, 0), abs(absMTTrackingID, -1), {evKey, btnTouch, 0}, syn},
		},
	} {
		got, err := e.frame(tc.actions)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("frame %d (%+v):\n got %+v\nwant %+v", i, tc.actions, got, tc.want)
		}
	}
	for _, bad := range []struct {
		actions []touchAction
		want    string
	}{
		{[]touchAction{{"move", 3, 1, 1}}, "not down"},
		{[]touchAction{{"up", 3, 0, 0}}, "not down"},
	} {
		if _, err := e.frame(bad.actions); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("frame(%+v) = %v, want an error mentioning %q", bad.actions, err, bad.want)
		}
	}
	var all []touchAction
	for f := range touchSlots {
		all = append(all, touchAction{"down", f, 1, 1})
	}
	if _, err := e.frame(all); err != nil {
		t.Fatalf("%d fingers: %v", touchSlots, err)
	}
	if _, err := e.frame([]touchAction{{"down", 0, 1, 1}}); err == nil || !strings.Contains(err.Error(), "already down") {
		t.Errorf("a finger down twice: %v", err)
	}
	if _, err := e.frame([]touchAction{{"down", 99, 1, 1}}); err == nil || !strings.Contains(err.Error(), "slots are in use") {
		t.Errorf("one finger more than slots: %v", err)
	}
}

func TestGuestTouchChecksTheScriptFirst(t *testing.T) {
	// A script that cannot be played fails before any device is made
	// (this test has no /dev/uinput to fall back on).
	err := GuestTouch("down 0 1 1\nmove 1 2 2\n", &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "move 1: finger 1 is not down") {
		t.Errorf("GuestTouch = %v, want the script error", err)
	}
}
