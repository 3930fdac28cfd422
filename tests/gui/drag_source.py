#!/usr/bin/env python3
"""A tiny X drag source for the GUI tests: a GTK 3 window that, when dragged with mouse
button 1, offers the given paths as `text/uri-list` over XDND (what a file manager does).

The test moves the real pointer (xdotool) from this window onto the app's window. Lines on
stdout, one per event, for the test to wait on:
    READY <x> <y> <width> <height>   the window is on screen (root coordinates)
    BEGIN                            a drag started
    DATA <n>                         the drop target asked for the data; n URIs sent
    END <ok|failed>                  the drag ended; ok when the target accepted the drop
Exits after the drag ends, on SIGTERM, or after --timeout seconds whatever happens.

Usage: drag_source.py [--x X --y Y --width W --height H --timeout S] PATH...
Needs python3-gi and gir1.2-gtk-3.0.
"""

import argparse
import os
import signal
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402


def say(*words):
    print(*words, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--x", type=int, default=980)
    ap.add_argument("--y", type=int, default=560)
    ap.add_argument("--width", type=int, default=240)
    ap.add_argument("--height", type=int, default=160)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--title", default="sightline-drag-source")
    ap.add_argument("paths", nargs="+")
    opts = ap.parse_args()
    uris = [GLib.filename_to_uri(os.path.abspath(p), None) for p in opts.paths]

    win = Gtk.Window(title=opts.title)
    win.set_default_size(opts.width, opts.height)
    win.set_resizable(False)
    win.move(opts.x, opts.y)  # honoured as is: no window manager under Xvfb
    win.set_keep_above(True)
    box = Gtk.EventBox()
    box.add(Gtk.Label(label=f"drag me\n{len(uris)} file(s)"))
    win.add(box)

    box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK,
                        [Gtk.TargetEntry.new("text/uri-list", 0, 0)],
                        Gdk.DragAction.COPY)

    def on_data_get(_w, _ctx, data, _info, _time):
        data.set_uris(uris)
        say("DATA", len(uris))

    def on_end(_w, ctx):
        # drag-end comes after drag-failed when the drop was refused; the context knows.
        ok = Gdk.drag_drop_succeeded(ctx)
        say("END", "ok" if ok else "failed")
        GLib.timeout_add(300, Gtk.main_quit)

    box.connect("drag-begin", lambda *_: say("BEGIN"))
    box.connect("drag-data-get", on_data_get)
    box.connect("drag-end", on_end)
    win.connect("destroy", Gtk.main_quit)

    def on_map(*_):
        # After the first frames are drawn (no "draw" handler: that needs gi's cairo module).
        def ready():
            x, y = win.get_window().get_origin()[1:]
            alloc = win.get_allocation()
            say("READY", x, y, alloc.width, alloc.height)
            return False

        GLib.timeout_add(200, ready)
        return False

    win.connect("map-event", on_map)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: Gtk.main_quit() or False)
    GLib.timeout_add(int(opts.timeout * 1000), lambda: (say("TIMEOUT"), Gtk.main_quit()) and False)
    win.show_all()
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
