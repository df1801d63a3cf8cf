package lab

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Rows that run vitrine with --log-format json judge its log by the
// stable event names and keys README's Logs section lists, not by the
// wording of its messages: a reworded message cannot break a row or
// make it pass without the thing it checks.

// logEvent is one JSON log record of vitrine's.
type logEvent map[string]any

// Event is the record's event name ("" for records without one).
func (e logEvent) Event() string { s, _ := e["event"].(string); return s }

// Str is the string value of key ("" if missing or not a string).
func (e logEvent) Str(key string) string { s, _ := e[key].(string); return s }

// Level is the record's level: DEBUG, INFO, WARN or ERROR.
func (e logEvent) Level() string { return e.Str("level") }

// Int is the integer value of key; false if it is missing, not a
// number or not a whole one.
func (e logEvent) Int(key string) (int64, bool) {
	f, ok := e[key].(float64)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// is reports whether e is event name with every key=value of kv
// (values compared as their JSON text for non-strings: "true", "3").
func (e logEvent) is(name string, kv ...string) bool {
	if e.Event() != name {
		return false
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v, ok := e[kv[i]]
		if !ok {
			return false
		}
		s, isStr := v.(string)
		if !isStr {
			s = fmt.Sprint(v)
		}
		if s != kv[i+1] {
			return false
		}
	}
	return true
}

// vitrineEvents parses the JSON records among lines (a guest script
// interleaves vitrine's log with its clients' output, which is skipped).
func vitrineEvents(lines []string) []logEvent {
	var evs []logEvent
	for _, l := range lines {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var e logEvent
		if json.Unmarshal([]byte(l), &e) == nil {
			evs = append(evs, e)
		}
	}
	return evs
}

// eventOf parses one line of a guest's output as a vitrine JSON
// record, after the "TAG| " a guest script put before it, if any.
func eventOf(line string) (logEvent, bool) {
	if _, rest, ok := strings.Cut(line, "| "); ok && !strings.HasPrefix(line, "{") {
		line = rest
	}
	if !strings.HasPrefix(line, "{") {
		return nil, false
	}
	var e logEvent
	if json.Unmarshal([]byte(line), &e) != nil {
		return nil, false
	}
	return e, true
}

// countEvents counts the records of event name with kv.
func countEvents(evs []logEvent, name string, kv ...string) int {
	n := 0
	for _, e := range evs {
		if e.is(name, kv...) {
			n++
		}
	}
	return n
}

// findEvents returns the records of event name with kv.
func findEvents(evs []logEvent, name string, kv ...string) []logEvent {
	var out []logEvent
	for _, e := range evs {
		if e.is(name, kv...) {
			out = append(out, e)
		}
	}
	return out
}

// errorEvents lists vitrine's ERROR records, as text for a report.
func errorEvents(evs []logEvent) []string {
	var out []string
	for _, e := range evs {
		if e.Level() == "ERROR" {
			b, _ := json.Marshal(e)
			out = append(out, "vitrine logged: "+string(b))
		}
	}
	return out
}

// eventShell is the guest side, for rows whose vitrine logs JSON:
// matchev FILE EVENT [FRAGMENT...] prints how many records of EVENT in
// FILE contain every FRAGMENT (JSON text such as '"output":"VGA-1"' or
// '"on":false'); awaitev FILE EVENT COUNT WHAT [FRAGMENT...] polls
// until there are COUNT of them (20 s at most) or vitrine ($pid) died,
// and calls the script's fail otherwise. Only JSON's quoting is relied
// on, not the order of keys.
const eventShell = `matchev() {
	local f=$1 e=$2 m x
	shift 2
	m=$(grep -F "\"event\":\"$e\"" $f)
	for x in "$@"; do
		m=$(printf '%s\n' "$m" | grep -F -- "$x")
	done
	if [ -n "$m" ]; then printf '%s\n' "$m" | wc -l; else echo 0; fi
}
awaitev() {
	local f=$1 e=$2 c=$3 w=$4 i=0
	shift 4
	while [ "$(matchev $f $e "$@")" -lt $c ]; do
		kill -0 $pid 2>/dev/null || fail "vitrine exited while waiting for $w"
		i=$((i+1))
		[ $i -lt 400 ] || fail "no $w within 20s (want $c $e events with $* in $f, have $(matchev $f $e "$@"))"
		sleep 0.05
	done
}
`

// eventSize reads an image.Point attribute (slog's JSON for it is
// {"X":W,"Y":H}) named size.
func eventSize(e logEvent) (w, h int, ok bool) {
	m, ok := e["size"].(map[string]any)
	if !ok {
		return 0, 0, false
	}
	x, okx := m["X"].(float64)
	y, oky := m["Y"].(float64)
	return int(x), int(y), okx && oky
}

// vitrineStats is vitrine's stats event, logged at exit per output.
type vitrineStats struct {
	Output                                   string
	Frames, Scanout, Composited, CopiedBytes int64
	// Overlays[i] is the event's overlayI: frames in which overlay
	// plane i showed a client buffer (none when no frame used one).
	Overlays []int64
}

// Overlay is Overlays[i], 0 when the event had no overlayI.
func (s vitrineStats) Overlay(i int) int64 {
	if i < len(s.Overlays) {
		return s.Overlays[i]
	}
	return 0
}

// parseStats reads the first stats event among evs. Every counter
// README lists must be there as a whole number: a missing one is an
// error, not a zero that could pass a "nothing scanned out" check.
func parseStats(evs []logEvent) (vitrineStats, error) {
	st := findEvents(evs, "stats")
	if len(st) == 0 {
		return vitrineStats{}, fmt.Errorf("no stats event in vitrine's log: vitrine did not exit cleanly")
	}
	e := st[0]
	s := vitrineStats{Output: e.Str("output")}
	if s.Output == "" {
		return s, fmt.Errorf("vitrine's stats event names no output: %v", e)
	}
	for _, f := range []struct {
		key string
		dst *int64
	}{{"frames", &s.Frames}, {"scanout", &s.Scanout}, {"composited", &s.Composited}, {"copied_bytes", &s.CopiedBytes}} {
		n, ok := e.Int(f.key)
		if !ok {
			return s, fmt.Errorf("vitrine's stats event has no whole-number %s: %v", f.key, e)
		}
		*f.dst = n
	}
	for i := 0; ; i++ {
		n, ok := e.Int(fmt.Sprintf("overlay%d", i))
		if !ok {
			break
		}
		s.Overlays = append(s.Overlays, n)
	}
	return s, nil
}
