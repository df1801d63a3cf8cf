#!/usr/bin/python3
# A GTK 4 window and a dialog transient for it, each one flat colour, for
# the kiosk layout test: the window must fill the output, the dialog keep
# its own size centred above it. Prints "dialog shown WxH" once the
# dialog has been drawn.
import sys

import gi

gi.require_version("Gtk", "4.0")
from gi.repository import GLib, Gtk  # noqa: E402

CSS = b"""
window.parent-window { background: #0000ff; }
window.dialog-window { background: #00ff00; }
"""


def on_activate(app):
    provider = Gtk.CssProvider()
    provider.load_from_data(CSS)
    Gtk.StyleContext.add_provider_for_display(
        Gtk.Widget.get_display(Gtk.Window()), provider, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)

    parent = Gtk.ApplicationWindow(application=app, title="parent")
    parent.add_css_class("parent-window")
    parent.set_decorated(False)
    parent.present()

    def show_dialog():
        dialog = Gtk.Window(title="dialog", transient_for=parent, modal=True)
        dialog.add_css_class("dialog-window")
        dialog.set_decorated(False)
        dialog.set_default_size(300, 200)

        def drawn(*_):
            print("dialog shown %dx%d" % (dialog.get_width(), dialog.get_height()), flush=True)
            return GLib.SOURCE_REMOVE

        dialog.connect("map", lambda *_: GLib.timeout_add(300, drawn))
        dialog.present()
        return GLib.SOURCE_REMOVE

    # After the parent mapped, as an application opens a dialog later.
    GLib.timeout_add(500, show_dialog)


app = Gtk.Application(application_id="org.vitrine.DialogTest")
app.connect("activate", on_activate)
sys.exit(app.run([]))
