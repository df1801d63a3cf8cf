#!/usr/bin/python3
# Two GTK 4 windows of one application for the xdg-activation test: A
# (red) first, then B (blue) on top of it. 0.7 s after B maps the app
# asks to present A with no user input behind it ("presented a without
# input"); when B is clicked it presents A again, and GTK's activation
# token now carries the click's serial ("presented a after the click").
import sys

import gi

gi.require_version("Gtk", "4.0")
from gi.repository import GLib, Gtk  # noqa: E402

CSS = b"""
window.a { background: #ff0000; }
window.b { background: #0000ff; }
"""


def on_activate(app):
    provider = Gtk.CssProvider()
    provider.load_from_data(CSS)
    Gtk.StyleContext.add_provider_for_display(
        Gtk.Widget.get_display(Gtk.Window()), provider, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)

    a = Gtk.ApplicationWindow(application=app, title="a")
    a.add_css_class("a")
    a.set_decorated(False)
    a.present()

    def show_b():
        b = Gtk.ApplicationWindow(application=app, title="b")
        b.add_css_class("b")
        b.set_decorated(False)
        click = Gtk.GestureClick()

        def clicked(*_):
            a.present()
            print("presented a after the click", flush=True)

        click.connect("pressed", clicked)
        b.add_controller(click)
        b.present()

        def early():
            a.present()
            print("presented a without input", flush=True)
            return GLib.SOURCE_REMOVE

        GLib.timeout_add(700, early)
        return GLib.SOURCE_REMOVE

    GLib.timeout_add(300, show_b)


app = Gtk.Application(application_id="org.vitrine.ActivationTest")
app.connect("activate", on_activate)
sys.exit(app.run([]))
