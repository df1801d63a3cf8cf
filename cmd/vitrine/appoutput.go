package main

import (
	"fmt"
	"sort"
	"strings"
)

// appOutputFlag is --app-output APP_ID=OUTPUT, repeatable: which output
// an application's windows go to.
type appOutputFlag map[string]string

func (f appOutputFlag) String() string {
	var kv []string
	for k, v := range f {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func (f appOutputFlag) Set(s string) error {
	app, out, ok := strings.Cut(s, "=")
	if !ok || app == "" || out == "" {
		return fmt.Errorf("%q: want APP_ID=OUTPUT, e.g. org.chromium.Chromium=HDMI-A-2 (output names as vitrine probe or wlr-randr print them)", s)
	}
	if prev, dup := f[app]; dup && prev != out {
		return fmt.Errorf("%q: %s is already sent to %s", s, app, prev)
	}
	f[app] = out
	return nil
}
