package protocol

//go:generate go run ./wlgen gen -out . xml/wayland.xml:wl xml/xdg-shell.xml:xdg xml/viewporter.xml:viewporter xml/presentation-time.xml:presentation xml/single-pixel-buffer-v1.xml:singlepixel xml/xdg-decoration-unstable-v1.xml:xdgdecoration xml/xdg-output-unstable-v1.xml:xdgoutput xml/linux-dmabuf-unstable-v1.xml:dmabuf xml/wlr-screencopy-unstable-v1.xml:screencopy xml/wlr-output-management-unstable-v1.xml:outputmgmt xml/ext-session-lock-v1.xml:sessionlock
