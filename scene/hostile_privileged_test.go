package scene_test

import (
	"testing"
	"time"

	"github.com/vitrine-wm/vitrine/protocol"
	"github.com/vitrine-wm/vitrine/protocol/protocoltest"
	"github.com/vitrine-wm/vitrine/scene"
)

// privilegedGlobals are the globals scene offers only to privileged
// clients.
var privilegedGlobals = []string{"zwlr_screencopy_manager_v1", "zwlr_output_manager_v1"}

// hiddenNames are the registry names the client was not told about,
// below the highest one it was: the hidden globals.
func hiddenNames(reg *registry) []uint32 {
	seen := map[uint32]bool{}
	var top uint32
	for _, g := range reg.globals {
		seen[g[0]] = true
		top = max(top, g[0])
	}
	var hidden []uint32
	for n := uint32(1); n < top; n++ {
		if !seen[n] {
			hidden = append(hidden, n)
		}
	}
	return hidden
}

// TestHostileBindsHiddenPrivilegedGlobal: a client that is not
// privileged is not told about screencopy or output management, and
// binding one by guessing its name (the gap in the registry's names) is
// an invalid-global error that does not say what the global is.
func TestHostileBindsHiddenPrivilegedGlobal(t *testing.T) {
	for _, iface := range privilegedGlobals {
		t.Run(iface, func(t *testing.T) {
			none := func(c *scene.Config) { c.Privileged = func(*protocol.Client) bool { return false } }
			runHostileConfig(t, protocol.Options{}, none, reaction{code: protocol.ErrInvalidObject, msg: "invalid global"}, func(t *testing.T, hs *hostileRig, h *protocoltest.Client) uint32 {
				reg := getRegistry(t, h)
				for _, p := range privilegedGlobals {
					if _, ok := reg.globals[p]; ok {
						t.Fatalf("an unprivileged client's registry lists %s", p)
					}
				}
				hidden := hiddenNames(reg)
				if len(hidden) < len(privilegedGlobals) {
					t.Fatalf("registry names %v missing, want at least the %d privileged globals hidden", hidden, len(privilegedGlobals))
				}
				// Whichever of the two this name is, the error is the same.
				must(t, h.Send(reg.id, 0, hidden[0], iface, uint32(1), h.NewID()))
				return reg.id
			})
		})
	}
}

// TestPrivilegedClientSeesPrivilegedGlobals: the filter decides per
// client; one it admits sees both globals and can bind them.
func TestPrivilegedClientSeesPrivilegedGlobals(t *testing.T) {
	all := func(c *scene.Config) { c.Privileged = func(*protocol.Client) bool { return true } }
	r := startRigConfig(t, 64, 64, 60000, 0, protocol.Options{}, all)
	h := r.dial(t)
	reg := getRegistry(t, h)
	for _, p := range privilegedGlobals {
		if _, ok := reg.globals[p]; !ok {
			t.Fatalf("a privileged client's registry does not list %s", p)
		}
		reg.bind(t, p, 1)
	}
	must(t, h.Roundtrip(5*time.Second))
	if e, err := h.WaitError(100 * time.Millisecond); err == nil {
		t.Fatalf("binding as a privileged client: error %d %q", e.Code, e.Message)
	}
}
