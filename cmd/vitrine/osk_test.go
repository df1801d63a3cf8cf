package main

import (
	"os/exec"
	"testing"
	"time"
)

// --osk signals a keyboard only once it handles SIGUSR1 and SIGUSR2:
// a process that does not (sleep) would be killed by them.
func TestOSKSignalsOnlyAKeyboardThatHandlesThem(t *testing.T) {
	plain := exec.Command("sleep", "10")
	trapping := exec.Command("sh", "-c", "trap 'echo' USR1 USR2; while :; do sleep 0.05; done")
	for _, c := range []*exec.Cmd{plain, trapping} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer c.Process.Kill()
	}
	time.Sleep(200 * time.Millisecond) // the shell sets its traps
	if handlesUserSignals(plain.Process.Pid) {
		t.Error("sleep reported as handling SIGUSR1 and SIGUSR2")
	}
	if !handlesUserSignals(trapping.Process.Pid) {
		t.Error("a shell trapping SIGUSR1 and SIGUSR2 not reported as handling them")
	}
	if handlesUserSignals(1 << 30) {
		t.Error("a process that does not exist reported as handling them")
	}
}
