package kms

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DRM_MODE_OBJECT_* values from drm_mode.h.
const (
	ObjectCRTC      = 0xcccccccc
	ObjectConnector = 0xc0c0c0c0
	ObjectEncoder   = 0xe0e0e0e0
	ObjectMode      = 0xdededede
	ObjectProperty  = 0xb0b0b0b0
	ObjectFB        = 0xfbfbfbfb
	ObjectBlob      = 0xbbbbbbbb
	ObjectPlane     = 0xeeeeeeee
)

// DRM_MODE_PROP_* flags.
const (
	PropFlagRange        = 1 << 1
	PropFlagImmutable    = 1 << 2
	PropFlagEnum         = 1 << 3
	PropFlagBlob         = 1 << 4
	PropFlagBitmask      = 1 << 5
	PropFlagExtendedType = 0x0000ffc0
	PropFlagObject       = 1 << 6
	PropFlagSignedRange  = 2 << 6
	PropFlagAtomic       = 0x80000000
)

// Plane types (values of the "type" plane property).
const (
	PlaneOverlay = 0
	PlanePrimary = 1
	PlaneCursor  = 2
)

// Connection states of a connector.
const (
	Connected         = 1
	Disconnected      = 2
	UnknownConnection = 3
)

const (
	modeTypePreferred = 1 << 3
	modeFlagInterlace = 1 << 4
	modeFlagDblScan   = 1 << 5
)

// Resources lists a card's KMS objects by id.
type Resources struct {
	FBs, CRTCs, Connectors, Encoders []uint32
	MinWidth, MaxWidth               int
	MinHeight, MaxHeight             int
}

// maxRetries bounds the count-then-fetch loops that race with hotplug.
const maxRetries = 8

// Resources reads the card's CRTC, connector and encoder ids.
func (d *Device) Resources() (*Resources, error) {
	for range maxRetries {
		var r modeCardRes
		if err := d.ioctl(ioctlModeGetResources, unsafe.Pointer(&r)); err != nil {
			return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETRESOURCES: %w", d.path, err)
		}
		res := &Resources{
			FBs:        make([]uint32, r.CountFbs),
			CRTCs:      make([]uint32, r.CountCrtcs),
			Connectors: make([]uint32, r.CountConnectors),
			Encoders:   make([]uint32, r.CountEncoders),
		}
		want := r
		var pins runtime.Pinner
		r.FbIDPtr = addr(&pins, res.FBs)
		r.CrtcIDPtr = addr(&pins, res.CRTCs)
		r.ConnectorIDPtr = addr(&pins, res.Connectors)
		r.EncoderIDPtr = addr(&pins, res.Encoders)
		err := d.ioctl(ioctlModeGetResources, unsafe.Pointer(&r))
		pins.Unpin()
		if err != nil {
			return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETRESOURCES: %w", d.path, err)
		}
		if r.CountFbs > want.CountFbs || r.CountCrtcs > want.CountCrtcs ||
			r.CountConnectors > want.CountConnectors || r.CountEncoders > want.CountEncoders {
			continue // an object appeared between the two calls
		}
		res.FBs = res.FBs[:r.CountFbs]
		res.CRTCs = res.CRTCs[:r.CountCrtcs]
		res.Connectors = res.Connectors[:r.CountConnectors]
		res.Encoders = res.Encoders[:r.CountEncoders]
		res.MinWidth, res.MaxWidth = int(r.MinWidth), int(r.MaxWidth)
		res.MinHeight, res.MaxHeight = int(r.MinHeight), int(r.MaxHeight)
		return res, nil
	}
	return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETRESOURCES: resources keep changing", d.path)
}

// Mode is a display mode (struct drm_mode_modeinfo) with its usual numbers
// decoded.
type Mode struct {
	Width, Height  int
	RefreshMilliHz int
	Preferred      bool
	Name           string
	info           modeInfo
}

func newMode(m modeInfo) Mode {
	return Mode{
		Width:          int(m.Hdisplay),
		Height:         int(m.Vdisplay),
		RefreshMilliHz: refreshMilliHz(m),
		Preferred:      m.Type&modeTypePreferred != 0,
		Name:           cString(m.Name[:]),
		info:           m,
	}
}

// refreshMilliHz computes the refresh rate from the timings, as the kernel's
// drm_mode_vrefresh does, but in mHz so 59.94 Hz modes stay distinguishable.
func refreshMilliHz(m modeInfo) int {
	if m.Htotal == 0 || m.Vtotal == 0 {
		return int(m.Vrefresh) * 1000
	}
	num := uint64(m.Clock) * 1000 * 1000 // kHz → mHz
	den := uint64(m.Htotal) * uint64(m.Vtotal)
	if m.Flags&modeFlagInterlace != 0 {
		num *= 2
	}
	if m.Flags&modeFlagDblScan != 0 {
		den *= 2
	}
	if m.Vscan > 1 {
		den *= uint64(m.Vscan)
	}
	return int((num + den/2) / den)
}

func (m Mode) String() string {
	return fmt.Sprintf("%dx%d@%.3f", m.Width, m.Height, float64(m.RefreshMilliHz)/1000)
}

// Connector is one display connector and what it reports.
type Connector struct {
	ID         uint32
	Type       uint32
	TypeID     uint32
	Name       string // e.g. "HDMI-A-1", "Virtual-1"
	Connection uint32 // Connected, Disconnected or UnknownConnection
	MmWidth    int
	MmHeight   int
	Subpixel   uint32
	EncoderID  uint32 // current encoder, 0 if none
	Encoders   []uint32
	Modes      []Mode
	Props      Props
}

// connectorTypeNames follows the kernel's drm_connector_enum_list, so names
// match /sys/class/drm/cardN-NAME.
var connectorTypeNames = []string{
	"Unknown", "VGA", "DVI-I", "DVI-D", "DVI-A", "Composite", "SVIDEO",
	"LVDS", "Component", "DIN", "DP", "HDMI-A", "HDMI-B", "TV", "eDP",
	"Virtual", "DSI", "DPI", "Writeback", "SPI", "USB",
}

// ConnectorName builds the kernel's name for a connector type and index.
func ConnectorName(typ, typeID uint32) string {
	name := fmt.Sprintf("Unknown%d", typ)
	if int(typ) < len(connectorTypeNames) {
		name = connectorTypeNames[typ]
	}
	return fmt.Sprintf("%s-%d", name, typeID)
}

// Connector reads a connector, its modes and properties. The first query
// makes the kernel probe the connector (as after a hotplug), which can take a
// few milliseconds on real hardware.
func (d *Device) Connector(id uint32) (*Connector, error) {
	for range maxRetries {
		c := modeGetConnector{ConnectorID: id}
		if err := d.ioctl(ioctlModeGetConnector, unsafe.Pointer(&c)); err != nil {
			return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETCONNECTOR %d: %w", d.path, id, err)
		}
		want := c
		// One spare mode slot: the kernel refuses to report zero modes into
		// a NULL pointer consistently across versions.
		modes := make([]modeInfo, c.CountModes+1)
		encoders := make([]uint32, c.CountEncoders+1)
		propIDs := make([]uint32, c.CountProps+1)
		propValues := make([]uint64, c.CountProps+1)
		var pins runtime.Pinner
		c.ModesPtr = addr(&pins, modes)
		c.EncodersPtr = addr(&pins, encoders)
		c.PropsPtr = addr(&pins, propIDs)
		c.PropValuesPtr = addr(&pins, propValues)
		err := d.ioctl(ioctlModeGetConnector, unsafe.Pointer(&c))
		pins.Unpin()
		if err != nil {
			return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETCONNECTOR %d: %w", d.path, id, err)
		}
		if c.CountModes > want.CountModes || c.CountEncoders > want.CountEncoders || c.CountProps > want.CountProps {
			continue
		}
		conn := &Connector{
			ID:         id,
			Type:       c.ConnectorType,
			TypeID:     c.ConnectorTypeID,
			Name:       ConnectorName(c.ConnectorType, c.ConnectorTypeID),
			Connection: c.Connection,
			MmWidth:    int(c.MmWidth),
			MmHeight:   int(c.MmHeight),
			Subpixel:   c.Subpixel,
			EncoderID:  c.EncoderID,
			Encoders:   encoders[:c.CountEncoders],
		}
		for _, m := range modes[:c.CountModes] {
			conn.Modes = append(conn.Modes, newMode(m))
		}
		props, err := d.namedProps(propIDs[:c.CountProps], propValues[:c.CountProps])
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", conn.Name, err)
		}
		conn.Props = props
		return conn, nil
	}
	return nil, fmt.Errorf("%s: connector %d keeps changing", d.path, id)
}

// Encoder is an encoder and the CRTCs it can drive.
type Encoder struct {
	ID            uint32
	Type          uint32
	CrtcID        uint32
	PossibleCrtcs uint32 // bit i = Resources.CRTCs[i]
}

// Encoder reads one encoder.
func (d *Device) Encoder(id uint32) (*Encoder, error) {
	e := modeGetEncoder{EncoderID: id}
	if err := d.ioctl(ioctlModeGetEncoder, unsafe.Pointer(&e)); err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETENCODER %d: %w", d.path, id, err)
	}
	return &Encoder{ID: id, Type: e.EncoderType, CrtcID: e.CrtcID, PossibleCrtcs: e.PossibleCrtcs}, nil
}

// CRTC is a CRTC's current legacy state, enough to restore it on exit.
type CRTC struct {
	ID        uint32
	FbID      uint32
	X, Y      uint32
	ModeValid bool
	Mode      Mode
	GammaSize uint32
}

// CRTC reads a CRTC's current configuration.
func (d *Device) CRTC(id uint32) (*CRTC, error) {
	c := modeCrtc{CrtcID: id}
	if err := d.ioctl(ioctlModeGetCrtc, unsafe.Pointer(&c)); err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETCRTC %d: %w", d.path, id, err)
	}
	return &CRTC{ID: id, FbID: c.FbID, X: c.X, Y: c.Y, ModeValid: c.ModeValid != 0, Mode: newMode(c.Mode), GammaSize: c.GammaSize}, nil
}

// Plane is a hardware plane.
type Plane struct {
	ID            uint32
	CrtcID        uint32
	FbID          uint32
	PossibleCrtcs uint32
	Formats       []uint32 // legacy format list; see InFormats for modifiers
	Props         Props
}

// Type is the plane's "type" property (PlanePrimary, PlaneOverlay,
// PlaneCursor); without universal planes only overlays are listed.
func (p *Plane) Type() uint64 {
	if v, ok := p.Props["type"]; ok {
		return v.Value
	}
	return PlaneOverlay
}

// PlaneIDs lists the card's planes.
func (d *Device) PlaneIDs() ([]uint32, error) {
	for range maxRetries {
		var r modeGetPlaneRes
		if err := d.ioctl(ioctlModeGetPlaneRes, unsafe.Pointer(&r)); err != nil {
			return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETPLANERESOURCES: %w", d.path, err)
		}
		n := r.CountPlanes
		ids := make([]uint32, n+1)
		var pins runtime.Pinner
		r.PlaneIDPtr = addr(&pins, ids)
		err := d.ioctl(ioctlModeGetPlaneRes, unsafe.Pointer(&r))
		pins.Unpin()
		if err != nil {
			return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETPLANERESOURCES: %w", d.path, err)
		}
		if r.CountPlanes > n {
			continue
		}
		return ids[:r.CountPlanes], nil
	}
	return nil, fmt.Errorf("%s: planes keep changing", d.path)
}

// Plane reads one plane and its properties.
func (d *Device) Plane(id uint32) (*Plane, error) {
	p := modeGetPlane{PlaneID: id}
	if err := d.ioctl(ioctlModeGetPlane, unsafe.Pointer(&p)); err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETPLANE %d: %w", d.path, id, err)
	}
	formats := make([]uint32, p.CountFormatTypes+1)
	var pins runtime.Pinner
	p.FormatTypePtr = addr(&pins, formats)
	err := d.ioctl(ioctlModeGetPlane, unsafe.Pointer(&p))
	pins.Unpin()
	if err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETPLANE %d: %w", d.path, id, err)
	}
	if int(p.CountFormatTypes) > len(formats) {
		return nil, fmt.Errorf("%s: plane %d: format list grew", d.path, id)
	}
	props, err := d.ObjectProps(id, ObjectPlane)
	if err != nil {
		return nil, err
	}
	return &Plane{
		ID: id, CrtcID: p.CrtcID, FbID: p.FbID, PossibleCrtcs: p.PossibleCrtcs,
		Formats: formats[:p.CountFormatTypes], Props: props,
	}, nil
}

// Planes reads every plane.
func (d *Device) Planes() ([]*Plane, error) {
	ids, err := d.PlaneIDs()
	if err != nil {
		return nil, err
	}
	planes := make([]*Plane, 0, len(ids))
	for _, id := range ids {
		p, err := d.Plane(id)
		if err != nil {
			return nil, err
		}
		planes = append(planes, p)
	}
	return planes, nil
}

// PropValue is one property of an object: its id (for atomic requests),
// current value and type flags.
type PropValue struct {
	ID    uint32
	Value uint64
	Flags uint32
	Enums []PropEnum // names of enum and bitmask values
}

// Props maps property names to their ids and values; ids are looked up once
// when the object is read.
type Props map[string]PropValue

// ID returns a property id, 0 if the object has no such property.
func (p Props) ID(name string) uint32 { return p[name].ID }

// Has reports whether the object has the property.
func (p Props) Has(name string) bool { _, ok := p[name]; return ok }

// EnumValue finds the value of an enum entry (or the bit number of a bitmask
// entry) by name.
func (v PropValue) EnumValue(name string) (uint64, bool) {
	for _, e := range v.Enums {
		if e.Name == name {
			return e.Value, true
		}
	}
	return 0, false
}

// PropEnum is a named value of an enum or bitmask property.
type PropEnum struct {
	Name  string
	Value uint64
}

// ObjectProps reads all properties of a KMS object.
func (d *Device) ObjectProps(id, objType uint32) (Props, error) {
	for range maxRetries {
		g := modeObjGetProperties{ObjID: id, ObjType: objType}
		if err := d.ioctl(ioctlModeObjGetProps, unsafe.Pointer(&g)); err != nil {
			return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_OBJ_GETPROPERTIES %d: %w", d.path, id, err)
		}
		n := g.CountProps
		ids := make([]uint32, n+1)
		values := make([]uint64, n+1)
		var pins runtime.Pinner
		g.PropsPtr = addr(&pins, ids)
		g.PropValuesPtr = addr(&pins, values)
		err := d.ioctl(ioctlModeObjGetProps, unsafe.Pointer(&g))
		pins.Unpin()
		if err != nil {
			return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_OBJ_GETPROPERTIES %d: %w", d.path, id, err)
		}
		if g.CountProps > n {
			continue
		}
		return d.namedProps(ids[:g.CountProps], values[:g.CountProps])
	}
	return nil, fmt.Errorf("%s: properties of %d keep changing", d.path, id)
}

func (d *Device) namedProps(ids []uint32, values []uint64) (Props, error) {
	props := make(Props, len(ids))
	for i, id := range ids {
		info, err := d.Property(id)
		if err != nil {
			return nil, err
		}
		props[info.Name] = PropValue{ID: id, Value: values[i], Flags: info.Flags, Enums: info.Enums}
	}
	return props, nil
}

// Property describes a property: name, type flags, range values or enum
// entries.
type Property struct {
	ID     uint32
	Name   string
	Flags  uint32
	Values []uint64
	Enums  []PropEnum
}

// Property reads a property's description.
func (d *Device) Property(id uint32) (*Property, error) {
	g := modeGetProperty{PropID: id}
	if err := d.ioctl(ioctlModeGetProperty, unsafe.Pointer(&g)); err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETPROPERTY %d: %w", d.path, id, err)
	}
	p := &Property{ID: id, Name: cString(g.Name[:]), Flags: g.Flags}
	isEnum := g.Flags&(PropFlagEnum|PropFlagBitmask) != 0
	if g.Flags&PropFlagBlob != 0 {
		return p, nil // blob ids are read with GetBlob from the object's value
	}
	nv, ne := g.CountValues, g.CountEnumBlobs
	if !isEnum {
		ne = 0
	}
	if nv == 0 && ne == 0 {
		return p, nil
	}
	values := make([]uint64, nv+1)
	enums := make([]modePropertyEnum, ne+1)
	g.CountEnumBlobs = ne
	var pins runtime.Pinner
	g.ValuesPtr = addr(&pins, values)
	if ne > 0 {
		g.EnumBlobPtr = addr(&pins, enums)
	}
	err := d.ioctl(ioctlModeGetProperty, unsafe.Pointer(&g))
	pins.Unpin()
	if err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETPROPERTY %s: %w", d.path, p.Name, err)
	}
	p.Values = values[:min(g.CountValues, nv)]
	if isEnum {
		for _, e := range enums[:min(g.CountEnumBlobs, ne)] {
			p.Enums = append(p.Enums, PropEnum{Name: cString(e.Name[:]), Value: e.Value})
		}
	}
	return p, nil
}

// Blob reads a property blob.
func (d *Device) Blob(id uint32) ([]byte, error) {
	g := modeGetBlob{BlobID: id}
	if err := d.ioctl(ioctlModeGetPropBlob, unsafe.Pointer(&g)); err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETPROPBLOB %d: %w", d.path, id, err)
	}
	if g.Length == 0 {
		return nil, nil
	}
	data := make([]byte, g.Length)
	var pins runtime.Pinner
	g.Data = addr(&pins, data)
	err := d.ioctl(ioctlModeGetPropBlob, unsafe.Pointer(&g))
	pins.Unpin()
	if err != nil {
		return nil, fmt.Errorf("%s: DRM_IOCTL_MODE_GETPROPBLOB %d: %w", d.path, id, err)
	}
	return data[:min(int(g.Length), len(data))], nil
}

// CreateBlob registers a property blob (a mode, damage clips) and returns its id.
func (d *Device) CreateBlob(data []byte) (uint32, error) {
	c := &d.blobArg
	*c = modeCreateBlob{Length: uint32(len(data))}
	c.Data = addr(&d.pins, data)
	err := d.ioctl(ioctlModeCreatePropBlob, unsafe.Pointer(c))
	d.pins.Unpin()
	if err != nil {
		return 0, fmt.Errorf("%s: DRM_IOCTL_MODE_CREATEPROPBLOB: %w", d.path, err)
	}
	return c.BlobID, nil
}

// DestroyBlob releases a blob created with CreateBlob.
func (d *Device) DestroyBlob(id uint32) error {
	c := &d.destroyArg
	*c = modeDestroyBlob{BlobID: id}
	if err := d.ioctl(ioctlModeDestroyBlob, unsafe.Pointer(c)); err != nil {
		return fmt.Errorf("%s: DRM_IOCTL_MODE_DESTROYPROPBLOB %d: %w", d.path, id, err)
	}
	return nil
}

// modeBlob is a mode's bytes as the MODE_ID property wants them.
func (m Mode) blob() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&m.info)), unsafe.Sizeof(m.info))
}

// ConnectorEDID returns a connector's EDID, nil when it has none.
func (d *Device) ConnectorEDID(c *Connector) ([]byte, error) {
	p, ok := c.Props["EDID"]
	if !ok || p.Value == 0 {
		return nil, nil
	}
	return d.Blob(uint32(p.Value))
}

// errnoName renders an errno by its C name (EINVAL, ENODEV, ...), which is
// what people grep for, falling back to the error text.
func errnoName(err error) string {
	if err == nil {
		return ""
	}
	var e unix.Errno
	if errors.As(err, &e) {
		if e == unix.EOPNOTSUPP {
			// Same number as ENOTSUP on Linux; the kernel's DRM code and
			// its documentation say EOPNOTSUPP.
			return "EOPNOTSUPP"
		}
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
	}
	return strings.TrimSpace(err.Error())
}
