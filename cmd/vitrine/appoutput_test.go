package main

import (
	"io"
	"strings"
	"testing"
)

func TestAppOutputFlag(t *testing.T) {
	o, err := parseFlags([]string{"--app-output", "foot=HDMI-A-2", "--app-output", "org.chromium.Chromium=DP-1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.appOutput["foot"] != "HDMI-A-2" || o.appOutput["org.chromium.Chromium"] != "DP-1" {
		t.Fatalf("parsed %v", o.appOutput)
	}
	for _, bad := range []string{"foot", "=HDMI-A-1", "foot=", "foot=A --app-output foot=B"} {
		if _, err := parseFlags(append([]string{"--app-output"}, strings.Fields(bad)...), io.Discard); err == nil {
			t.Errorf("--app-output %s accepted", bad)
		} else if !strings.Contains(err.Error(), "APP_ID=OUTPUT") && !strings.Contains(err.Error(), "already sent") {
			t.Errorf("--app-output %s: unclear error %v", bad, err)
		}
	}
}
