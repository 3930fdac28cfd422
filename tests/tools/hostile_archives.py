#!/usr/bin/env python3
"""Writes hand-made hostile archives for the bundle tests: OUTDIR/<name>.

Each holds the same good file, good.jsonl (3 log lines), beside what makes it hostile, so a
test can check that the good part loads and the hostile part is refused with a reason.
Python's zipfile and tarfile write any entry name they are given, which is what we need.
"""
import io
import sys
import tarfile
import zipfile
from pathlib import Path

GOOD = b"".join(
    b'{"ts":"2024-06-01T12:00:0%dZ","level":"info","msg":"good line %d"}\n' % (i, i)
    for i in range(3)
)
EVIL = b'{"ts":"2024-06-01T12:00:00Z","level":"error","msg":"escaped"}\n'


def zip_with(path, entries, symlinks=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
        for name, target in symlinks:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (0o120777 << 16)
            z.writestr(info, target)


def tar_with(path, mode, files, links=()):
    with tarfile.open(path, mode) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        for name, target, kind in links:
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.linkname = target
            t.addfile(ti)


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    zip_with(out / "zip_slip.zip", [
        ("good.jsonl", GOOD),
        ("../evil.jsonl", EVIL),
        ("../../../../tmp/evil_abs_dotdot.jsonl", EVIL),
        ("/tmp/evil_abs.jsonl", EVIL),
        ("logs/../../evil2.jsonl", EVIL),
        ("C:\\evil.jsonl", EVIL),
    ])
    tar_with(out / "tar_slip.tar", "w", [
        ("good.jsonl", GOOD),
        ("../evil.jsonl", EVIL),
        ("/tmp/evil_abs.jsonl", EVIL),
    ])
    zip_with(out / "symlink.zip", [("good.jsonl", GOOD)],
             symlinks=[("passwd", "/etc/passwd"), ("up.jsonl", "../../outside.jsonl"),
                       ("inside.jsonl", "good.jsonl")])
    tar_with(out / "symlink.tar.gz", "w:gz", [("good.jsonl", GOOD)],
             links=[("passwd", "/etc/passwd", tarfile.SYMTYPE),
                    ("up.jsonl", "../outside.jsonl", tarfile.SYMTYPE),
                    ("hard", "/etc/shadow", tarfile.LNKTYPE),
                    # A link, then a file written "through" it: must not land outside.
                    ("dir", "/tmp", tarfile.SYMTYPE)])
    # Bombs: 64 MiB of zeros per entry deflates to ~64 KiB (about 1000:1).
    zeros = bytes(64 << 20)
    zip_with(out / "bomb.zip", [("good.jsonl", GOOD), ("zeros.jsonl", zeros)])
    tar_with(out / "bomb.tar.gz", "w:gz", [("good.jsonl", GOOD), ("zeros.jsonl", zeros)])
    # Many entries (tests lower the cap).
    zip_with(out / "many.zip", [("good.jsonl", GOOD)] + [("e/%05d.txt" % i, b"x") for i in range(500)])
    # Duplicate names: the first is kept.
    with zipfile.ZipFile(out / "dup.zip", "w") as z:
        z.writestr("good.jsonl", GOOD)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z.writestr("good.jsonl", EVIL)
    # Nested: a zip in a zip in a zip ..., 5 levels deep; each level has its own good file.
    inner = None
    for level in range(5, 0, -1):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("level%d.jsonl" % level,
                       b'{"ts":"2024-06-01T12:00:00Z","level":"info","msg":"level %d"}\n' % level)
            if inner is not None:
                z.writestr("inner.zip", inner)
        inner = buf.getvalue()
    (out / "nested.zip").write_bytes(inner)
    # Truncated: a good zip and tar.gz of a large log, cut in the middle.
    big = b"".join(b'{"ts":"2024-06-01T12:00:00Z","level":"info","msg":"line %06d %s"}\n'
                   % (i, b"abcdefghij" * (i % 7)) for i in range(20000))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("good.jsonl", GOOD)
        z.writestr("big.jsonl", big)
    b = buf.getvalue()
    (out / "truncated.zip").write_bytes(b[: len(b) * 2 // 3])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in [("good.jsonl", GOOD), ("big.jsonl", big)]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    b = buf.getvalue()
    (out / "truncated.tar.gz").write_bytes(b[: len(b) * 2 // 3])
    (out / "garbage.zip").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)


if __name__ == "__main__":
    main(sys.argv[1])
