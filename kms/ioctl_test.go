package kms

import (
	"testing"
	"unsafe"
)

// The expected values were printed by a C program including libdrm's copy
// of the kernel uapi headers (drm.h, drm_mode.h) on x86-64.
func TestIoctlNumbers(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("expected values are for 64-bit targets")
	}
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"VERSION", ioctlVersion, 0xc0406400},
		{"GEM_CLOSE", ioctlGemClose, 0x40086409},
		{"GET_CAP", ioctlGetCap, 0xc010640c},
		{"SET_CLIENT_CAP", ioctlSetClientCap, 0x4010640d},
		{"AUTH_MAGIC", ioctlAuthMagic, 0x40046411},
		{"SET_MASTER", ioctlSetMaster, 0x0000641e},
		{"DROP_MASTER", ioctlDropMaster, 0x0000641f},
		{"PRIME_HANDLE_TO_FD", ioctlPrimeHandleToFD, 0xc00c642d},
		{"PRIME_FD_TO_HANDLE", ioctlPrimeFDToHandle, 0xc00c642e},
		{"MODE_GETRESOURCES", ioctlModeGetResources, 0xc04064a0},
		{"MODE_GETCRTC", ioctlModeGetCrtc, 0xc06864a1},
		{"MODE_SETCRTC", ioctlModeSetCrtc, 0xc06864a2},
		{"MODE_GETENCODER", ioctlModeGetEncoder, 0xc01464a6},
		{"MODE_GETCONNECTOR", ioctlModeGetConnector, 0xc05064a7},
		{"MODE_GETPROPERTY", ioctlModeGetProperty, 0xc04064aa},
		{"MODE_SETPROPERTY", ioctlModeSetProperty, 0xc01064ab},
		{"MODE_GETPROPBLOB", ioctlModeGetPropBlob, 0xc01064ac},
		{"MODE_RMFB", ioctlModeRmFB, 0xc00464af},
		{"MODE_PAGE_FLIP", ioctlModePageFlip, 0xc01864b0},
		{"MODE_DIRTYFB", ioctlModeDirtyFB, 0xc01864b1},
		{"MODE_CREATE_DUMB", ioctlModeCreateDumb, 0xc02064b2},
		{"MODE_MAP_DUMB", ioctlModeMapDumb, 0xc01064b3},
		{"MODE_DESTROY_DUMB", ioctlModeDestroyDumb, 0xc00464b4},
		{"MODE_GETPLANERESOURCES", ioctlModeGetPlaneRes, 0xc01064b5},
		{"MODE_GETPLANE", ioctlModeGetPlane, 0xc02064b6},
		{"MODE_ADDFB2", ioctlModeAddFB2, 0xc06864b8},
		{"MODE_OBJ_GETPROPERTIES", ioctlModeObjGetProps, 0xc02064b9},
		{"MODE_ATOMIC", ioctlModeAtomic, 0xc03864bc},
		{"MODE_CREATEPROPBLOB", ioctlModeCreatePropBlob, 0xc01064bd},
		{"MODE_DESTROYPROPBLOB", ioctlModeDestroyBlob, 0xc00464be},
	} {
		if c.got != c.want {
			t.Errorf("DRM_IOCTL_%s = %#x, kernel has %#x", c.name, c.got, c.want)
		}
	}
}

// Struct sizes from the same C program (sizeof). Explicit padding makes all
// but drm_version (which holds pointers) the same on 32-bit targets.
func TestStructSizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"drm_gem_close", unsafe.Sizeof(drmGemClose{}), 8},
		{"drm_get_cap", unsafe.Sizeof(drmGetCap{}), 16},
		{"drm_set_client_cap", unsafe.Sizeof(drmSetClientCap{}), 16},
		{"drm_prime_handle", unsafe.Sizeof(drmPrimeHandle{}), 12},
		{"drm_event", unsafe.Sizeof(drmEventHeader{}), 8},
		{"drm_event_vblank", unsafe.Sizeof(drmEventVblank{}), 32},
		{"drm_mode_modeinfo", unsafe.Sizeof(modeInfo{}), 68},
		{"drm_mode_card_res", unsafe.Sizeof(modeCardRes{}), 64},
		{"drm_mode_crtc", unsafe.Sizeof(modeCrtc{}), 104},
		{"drm_mode_get_encoder", unsafe.Sizeof(modeGetEncoder{}), 20},
		{"drm_mode_get_connector", unsafe.Sizeof(modeGetConnector{}), 80},
		{"drm_mode_get_property", unsafe.Sizeof(modeGetProperty{}), 64},
		{"drm_mode_property_enum", unsafe.Sizeof(modePropertyEnum{}), 40},
		{"drm_mode_get_blob", unsafe.Sizeof(modeGetBlob{}), 16},
		{"drm_mode_fb_cmd2", unsafe.Sizeof(modeFbCmd2{}), 104},
		{"drm_mode_crtc_page_flip", unsafe.Sizeof(modeCrtcPageFlip{}), 24},
		{"drm_mode_fb_dirty_cmd", unsafe.Sizeof(modeFbDirtyCmd{}), 24},
		{"drm_mode_create_dumb", unsafe.Sizeof(modeCreateDumb{}), 32},
		{"drm_mode_map_dumb", unsafe.Sizeof(modeMapDumb{}), 16},
		{"drm_mode_destroy_dumb", unsafe.Sizeof(modeDestroyDumb{}), 4},
		{"drm_mode_get_plane_res", unsafe.Sizeof(modeGetPlaneRes{}), 16},
		{"drm_mode_get_plane", unsafe.Sizeof(modeGetPlane{}), 32},
		{"drm_mode_obj_get_properties", unsafe.Sizeof(modeObjGetProperties{}), 32},
		{"drm_mode_atomic", unsafe.Sizeof(modeAtomic{}), 56},
		{"drm_mode_create_blob", unsafe.Sizeof(modeCreateBlob{}), 16},
		{"drm_mode_destroy_blob", unsafe.Sizeof(modeDestroyBlob{}), 4},
		{"drm_mode_rect", unsafe.Sizeof(modeRect{}), 16},
		{"drm_clip_rect", unsafe.Sizeof(clipRect{}), 8},
	} {
		if c.got != c.want {
			t.Errorf("sizeof(struct %s): Go %d, kernel %d", c.name, c.got, c.want)
		}
	}
	if unsafe.Sizeof(uintptr(0)) == 8 && unsafe.Sizeof(drmVersion{}) != 64 {
		t.Errorf("sizeof(struct drm_version): Go %d, kernel 64", unsafe.Sizeof(drmVersion{}))
	}
	// Offsets the kernel reads that implicit Go alignment could move.
	if o := unsafe.Offsetof(modeFbCmd2{}.Modifier); o != 72 {
		t.Errorf("drm_mode_fb_cmd2.modifier at %d, kernel 72", o)
	}
	if o := unsafe.Offsetof(modeCrtc{}.Mode); o != 36 {
		t.Errorf("drm_mode_crtc.mode at %d, kernel 36", o)
	}
	if o := unsafe.Offsetof(modeGetProperty{}.CountValues); o != 56 {
		t.Errorf("drm_mode_get_property.count_values at %d, kernel 56", o)
	}
}

func TestErrnoName(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{errnoWrap(22), "EINVAL"},
		{errnoWrap(19), "ENODEV"},
		{errnoWrap(38), "ENOSYS"},
		{errnoWrap(95), "EOPNOTSUPP"},
		{errnoWrap(13), "EACCES"},
	} {
		if got := errnoName(c.err); got != c.want {
			t.Errorf("errnoName(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
