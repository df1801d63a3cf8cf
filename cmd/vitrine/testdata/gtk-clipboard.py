#!/usr/bin/python3
# A GTK 4 window that copies and pastes on command, for the clipboard
# tests. It reads commands on stdin, one a line:
#   copy TEXT           put TEXT on the clipboard      -> "copied TEXT"
#   paste               read the clipboard as text     -> "pasted: TEXT" or "paste failed: ..."
#   primary-copy TEXT   the same for the primary selection
#   primary-paste
# and prints "ready NAME" once its window has been shown (NAME is argv[1]).
import sys

import gi

gi.require_version("Gtk", "4.0")
gi.require_version("Gdk", "4.0")
from gi.repository import Gdk, GLib, GObject, Gtk  # noqa: E402

NAME = sys.argv[1] if len(sys.argv) > 1 else "gtk"


def say(line):
    print(line, flush=True)


def on_activate(app):
    win = Gtk.ApplicationWindow(application=app, title=NAME)
    win.set_decorated(False)
    win.connect("map", lambda *_: GLib.timeout_add(200, lambda: say("ready " + NAME)))
    win.present()
    display = win.get_display()

    def board(cmd):
        return display.get_primary_clipboard() if cmd.startswith("primary-") else display.get_clipboard()

    def on_command(channel, condition):
        line = sys.stdin.readline()
        if not line:
            app.quit()
            return GLib.SOURCE_REMOVE
        cmd, _, arg = line.rstrip("\n").partition(" ")
        if cmd in ("copy", "primary-copy"):
            provider = Gdk.ContentProvider.new_for_value(GObject.Value(str, arg))
            board(cmd).set_content(provider)
            say("copied " + arg)
        elif cmd in ("paste", "primary-paste"):
            def done(cb, result):
                try:
                    say("pasted: %s" % cb.read_text_finish(result))
                except GLib.Error as e:
                    say("paste failed: %s" % e.message)
            board(cmd).read_text_async(None, done)
        elif cmd == "quit":
            app.quit()
        return GLib.SOURCE_CONTINUE

    GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP, on_command)


app = Gtk.Application(application_id="org.vitrine.ClipboardTest." + NAME, flags=0)
app.connect("activate", on_activate)
sys.exit(app.run([]))
