#!/usr/bin/python3
"""A desktop notification server for tests: owns org.freedesktop.Notifications on the given
bus and writes every Notify call as one JSON line (app_name, summary, body, urgency, hints,
actions, time). Modes:

  --never-answer        own the name but never reply to Notify (notify-rust then blocks)
  --invoke-action NAME  after answering a Notify that offers NAME, emit ActionInvoked(id, NAME)
  --no-actions          do not advertise the "actions" capability

Prints "ready" on stdout once it owns the name. Needs jeepney (Debian: python3-jeepney).
"""

import argparse
import json
import sys
import threading
import time

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

PATH = "/org/freedesktop/Notifications"
IFACE = "org.freedesktop.Notifications"


def plain(v):
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str):
        return plain(v[1])
    if isinstance(v, (bytes, bytearray)):
        return f"<{len(v)} bytes>"
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--never-answer", action="store_true")
    ap.add_argument("--invoke-action")
    ap.add_argument("--no-actions", action="store_true")
    a = ap.parse_args()

    conn = open_dbus_connection(bus=a.address)
    reply = conn.send_and_get_reply(message_bus.RequestName(IFACE, 4))
    if reply.body[0] != 1:
        print(f"could not own {IFACE}: {reply.body}", file=sys.stderr)
        return 1
    print("ready", flush=True)
    log = open(a.log, "a", buffering=1)
    lock = threading.Lock()
    next_id = 0
    emitter = DBusAddress(PATH, interface=IFACE)

    def emit_later(nid, action):
        time.sleep(0.3)
        with lock:
            conn.send(new_signal(emitter, "ActionInvoked", "us", (nid, action)))

    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        member = msg.header.fields.get(HeaderFields.member)
        if member == "Notify":
            app, replaces, icon, summary, body, actions, hints, timeout = msg.body
            next_id += 1
            rec = {
                "t": time.time(),
                "id": next_id,
                "app_name": app,
                "replaces_id": replaces,
                "app_icon": icon,
                "summary": summary,
                "body": body,
                "actions": list(actions),
                "hints": plain(hints),
                "urgency": plain(hints.get("urgency", ("y", None))),
                "timeout": timeout,
                "answered": not a.never_answer,
            }
            log.write(json.dumps(rec) + "\n")
            if a.never_answer:
                continue
            with lock:
                conn.send(new_method_return(msg, "u", (next_id,)))
            if a.invoke_action and a.invoke_action in list(actions)[0::2]:
                threading.Thread(target=emit_later, args=(next_id, a.invoke_action), daemon=True).start()
        elif member == "GetCapabilities":
            caps = ["body"] if a.no_actions else ["actions", "body"]
            with lock:
                conn.send(new_method_return(msg, "as", (caps,)))
        elif member == "GetServerInformation":
            with lock:
                conn.send(new_method_return(msg, "ssss", ("recorder", "sightline-tests", "1.0", "1.2")))
        elif member == "CloseNotification":
            (nid,) = msg.body
            with lock:
                conn.send(new_method_return(msg, "", ()))
                conn.send(new_signal(emitter, "NotificationClosed", "uu", (nid, 3)))
        else:
            with lock:
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(member),)))


if __name__ == "__main__":
    sys.exit(main())
