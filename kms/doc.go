// Package kms drives Linux DRM/KMS display devices with plain ioctls
// (golang.org/x/sys/unix, no cgo, no libdrm). It knows nothing of Wayland.
//
// # Layers
//
//   - Device: an open DRM node (Open, or NewDevice for an fd from logind or
//     seatd), its driver name, node type (primary or render), DRM_CAP_*
//     values and client caps (EnableAtomic sets UNIVERSAL_PLANES and ATOMIC).
//   - Resources, Connector, Encoder, CRTC, Plane, Props: the KMS objects and
//     their properties, ids looked up by name once. InFormats parses a
//     plane's IN_FORMATS blob; ParseEDID names the monitor.
//   - AtomicRequest and Device.Commit (TEST_ONLY, NONBLOCK, ALLOW_MODESET,
//     PAGE_FLIP_EVENT); SetCRTC, PageFlip and DirtyFB for the legacy path.
//   - DumbBuffer (CreateDumb, MapDumb, DestroyDumb), AddFB2 with modifiers,
//     RmFB, and PRIME (ExportDMABUF, ImportDMABUF, CloseHandle).
//   - Events: the device is an event source for the caller's loop, in the
//     shape of libwayland's wl_event_source: when Device.FD is readable,
//     Device.DispatchEvents reads it without blocking and calls the
//     handler registered for each page-flip event's user_data, there and
//     then. kms starts no goroutine; the loop's timers (Options.NewTimer)
//     pace completions.
//   - Output and OutputSet: a CPU-composited output per connected
//     connector. The compositor draws into Output.Shadow and calls Present
//     with the damage; Output copies only the damaged rectangles (plus what
//     the buffer missed since it was last shown, see DamageRing) into a
//     mapped dumb buffer through render.Copier, never reading it, and sends
//     the same rectangles as FB_DAMAGE_CLIPS or DIRTYFB clips. Page-flip
//     events report completion (present.Info). A cursor plane shows the
//     pointer (SetCursor, MoveCursor); a cursor change or a frame that
//     comes while a commit is in flight waits, as state, for the next
//     commit, made from that commit's event. Close restores the CRTC
//     configuration found at start, so the text console comes back.
//   - OutputState and Output.Commit: what an output shows from one commit
//     on (the shadow with its damage or a client buffer, and the cursor),
//     checked as one (a refused part applies nothing) and committed as
//     one atomic commit, the way wlroots' wlr_output_state is. Present,
//     Scanout, MoveCursor and HideCursor are Commit with one part.
//   - Direct scanout: Output.Scanout shows a client's dma-buf on the
//     primary plane instead of the shadow (PRIME import of every plane fd,
//     ADDFB2 with the modifier when the device takes modifiers, an atomic
//     TEST_ONLY commit, or a PAGE_FLIP on the legacy path). Framebuffers
//     are cached per caller key; a refusal is remembered per key so it
//     costs nothing on later frames; Forget frees them, deferring RmFB
//     while the framebuffer is on screen. ScanoutFormats (IN_FORMATS) and
//     DeviceID feed linux-dmabuf feedback. Scanout frames copy nothing; the
//     next Present copies whole buffers.
//   - ParseUevent and HotplugFromUevent pick DRM hotplug notices out of
//     the kernel's uevents (cmd/vitrine reads the netlink socket on its
//     loop); on a notice, OutputSet.Rescan adds and removes outputs.
//   - Probe reports every DRM node and a dma-buf import matrix between every
//     pair of primary nodes, with errno names (vitrine probe).
//
// # Wiring (cmd/vitrine)
//
//	dev, err := kms.Open(path)            // --drm-device, or kms.OpenDisplay()
//	set, err := kms.NewOutputs(dev, kms.Options{
//		OutputConfig: kms.OutputConfig{Mode: "1280x800@60", Rotate: render.Rotate90},
//		ForceLegacy:  false,
//	}, func(o *kms.Output, info kms.PresentInfo) { /* post to the loop */ })
//	for _, o := range set.Outputs() { /* o satisfies scene.Output */ }
//	h, ok := kms.HotplugFromUevent(ev)    // on a notice: set.Rescan()
//	defer dev.Close(); defer set.Close()  // set first: restores the console
package kms
