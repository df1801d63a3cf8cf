module github.com/vitrine-wm/vitrine

go 1.26.0

require (
	github.com/godbus/dbus/v5 v5.2.4
	github.com/jezek/xgb v1.1.1
	github.com/neurlang/wayland v0.4.3
	golang.org/x/sys v0.49.0
)

require github.com/yalue/native_endian v1.0.2 // indirect
