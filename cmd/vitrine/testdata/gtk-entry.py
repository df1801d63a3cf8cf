#!/usr/bin/python3
# A GTK 4 window with one text field that has the keyboard focus, for
# the on-screen keyboard and input-method tests. Prints "window WxH" once
# drawn (and again when resized), "entry focused" once the field has
# focus, and "text: TEXT" whenever its text changes.
import sys

import gi

gi.require_version("Gtk", "4.0")
from gi.repository import GLib, Gtk  # noqa: E402

CSS = b"""
window.entry-window { background: #ff0000; }
"""


def on_activate(app):
    provider = Gtk.CssProvider()
    provider.load_from_data(CSS)
    Gtk.StyleContext.add_provider_for_display(
        Gtk.Widget.get_display(Gtk.Window()), provider, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)

    win = Gtk.ApplicationWindow(application=app, title="entry")
    win.add_css_class("entry-window")
    win.set_decorated(False)
    entry = Gtk.Entry()
    entry.set_valign(Gtk.Align.START)
    win.set_child(entry)
    entry.connect("changed", lambda e: print("text: " + e.get_text(), flush=True))

    last = [None]

    def layout(_surface, width, height):
        # The size the compositor configured, once GTK laid out for it.
        if (width, height) != last[0] and width > 0:
            last[0] = (width, height)
            print("window %dx%d" % (width, height), flush=True)

    win.connect("realize", lambda *_: win.get_surface().connect("layout", layout))

    def focused():
        # The focus is on the entry's inner text widget.
        f = win.get_focus()
        if f is not None and (f == entry or f.is_ancestor(entry)):
            print("entry focused", flush=True)
            return GLib.SOURCE_REMOVE
        entry.grab_focus()
        return GLib.SOURCE_CONTINUE

    win.connect("map", lambda *_: GLib.timeout_add(200, focused))
    win.present()


app = Gtk.Application(application_id="org.vitrine.EntryTest")
app.connect("activate", on_activate)
sys.exit(app.run([]))
