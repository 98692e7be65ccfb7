#!/usr/bin/env python3
"""Generates the hostile bundle corpus: one archive per case plus its sidecar `<archive>.json`.

Run from anywhere: `python3 crates/agent/tests/corpus/hostile/generate.py` rewrites every file next to this script;
`--check` only reports files that differ from what it would write (gzip and zip output depend on the zlib version,
so a difference there after a Python upgrade is expected; the sidecars must always match).

Each sidecar states the expected refusal, checked by `crates/agent/tests/corpus.rs`:
- `"refused_by": "extract"`: the archive itself is refused. `error` is the exact message of the agent's
  `ArchiveError`; DownloadBundle reports it as `The bundle was refused: <error>`. `limits` optionally overrides
  fields of `ExtractLimits` (small caps, so the bombs stay small files).
- `"refused_by": "event"`: the archive is fine but its AppSpec is hostile. `events` run in order on a simulated host
  (`--destination-root`); all but the last succeed, the last fails with `error_code` and the exact `message`, in
  which `{archive}` is the deployment's `deployment-archive`, `{host}` the destination root and `{outside}` a
  directory outside it. `host_dirs` and `host_symlinks` (path below the host -> target) prepare the host first.
In every case nothing may be written: no deployment-archive, and the host (and `{outside}`) exactly as prepared.

Python 3 standard library only.
"""

import gzip
import io
import json
import os
import struct
import sys
import tarfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MTIME = 1_700_000_000
ZIP_TIME = (2023, 11, 14, 22, 13, 20)
APPSPEC = b"version: 0.0\nos: linux\n"
GiB = 1024 * 1024 * 1024
MiB = 1024 * 1024

# ---------------------------------------------------------------------------------------------------------------
# Tar


def tar_info(name, kind=tarfile.REGTYPE, size=0, mode=0o644, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mode = mode
    info.mtime = MTIME
    info.linkname = link
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def tar_bytes(entries, fmt=tarfile.GNU_FORMAT):
    """`entries`: (TarInfo, data) pairs, written as given (tarfile does not sanitise names when writing)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data) if data else None)
    return out.getvalue()


def base_tar():
    return [
        (tar_info("appspec.yml", size=len(APPSPEC)), APPSPEC),
        (tar_info("ok.txt", size=5), b"fine\n"),
    ]


def tar_with(*extra):
    return tar_bytes(base_tar() + list(extra))


def file_entry(name, data=b"pwned\n", mode=0o644):
    return (tar_info(name, size=len(data), mode=mode), data)


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9) as stream:
        stream.write(data)
    return out.getvalue()


def tgz_bundle(files, dirs=()):
    """A well-formed tgz revision: `files` maps paths to (data, mode)."""
    entries = [(tar_info(d, tarfile.DIRTYPE, mode=0o755), b"") for d in dirs]
    for name, (data, mode) in files.items():
        entries.append((tar_info(name, size=len(data), mode=mode), data))
    return gz(tar_bytes(entries))


def header_only(info):
    """A tar whose last member is a header without its data (the archive ends there)."""
    body = tar_bytes(base_tar())
    # tarfile ends an archive with two zero blocks, padded to a 10 KiB record; keep only the members.
    members = body[: 2 * 512 + 512 + 512]
    return members + info.tobuf(tarfile.GNU_FORMAT, tarfile.ENCODING, "surrogateescape")


def pax_desync():
    record = b"10 size=0\n"
    pax = tar_info("PaxHeaders/smuggle", tarfile.XHDTYPE, size=len(record))
    smuggled = file_entry("smuggle")
    return tar_bytes(base_tar() + [(pax, record), smuggled], fmt=tarfile.USTAR_FORMAT)


# ---------------------------------------------------------------------------------------------------------------
# Zip


def zip_info(name, mode=0o100644):
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.create_system = 3
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def zip_bytes(entries):
    """`entries`: (ZipInfo, data) pairs, written as given."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return out.getvalue()


def base_zip():
    return [(zip_info("appspec.yml"), APPSPEC), (zip_info("ok.txt"), b"fine\n")]


def zip_with(*extra):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point of one case
        return zip_bytes(base_zip() + list(extra))


def deflate_raw(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def raw_zip(members, central):
    """A zip from raw parts: `members` are (name, declared size, deflated data) written as local headers;
    `central` are (name, local member index) central directory records, which may reuse a member."""
    out = bytearray()
    offsets, records = [], []
    for name, size, data in members:
        offsets.append(len(out))
        name_bytes = name.encode()
        crc = 0
        records.append((size, len(data), crc))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(name_bytes), 0)
        out += name_bytes + data
    directory_start = len(out)
    for name, index in central:
        size, compressed, crc = records[index]
        name_bytes = name.encode()
        out += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50, 0x031E, 20, 0, 8, 0, 0, crc, compressed, size, len(name_bytes), 0, 0, 0, 0,
            0o100644 << 16, offsets[index],
        )
        out += name_bytes
    directory_size = len(out) - directory_start
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), directory_size, directory_start, 0)
    return bytes(out)


def overlapping_zip_bomb():
    zeros = deflate_raw(b"\0" * MiB)
    members = [("appspec.yml", len(APPSPEC), deflate_raw(APPSPEC)), ("zeros-0", MiB, zeros)]
    central = [("appspec.yml", 0)] + [(f"zeros-{i}", 1) for i in range(200)]
    return raw_zip(members, central)


def lying_size_zip():
    # Declares 512 MiB for an entry whose data is a few bytes: only the ratio cap sees it before extraction.
    members = [("appspec.yml", len(APPSPEC), deflate_raw(APPSPEC)), ("huge", 512 * MiB, deflate_raw(b"x" * 100))]
    return raw_zip(members, [("appspec.yml", 0), ("huge", 1)])


# ---------------------------------------------------------------------------------------------------------------
# Cases


def appspec_with(text):
    return text.encode()


SCRIPT = (b"#!/bin/sh\ntouch /tmp/cutover-corpus-hook-ran\n", 0o755)


def extract_case(name, data, error, description, limits=None):
    case = {"archive": name, "description": description, "refused_by": "extract", "error": error}
    if limits:
        case["limits"] = limits
    return name, data, case


def event_case(name, data, description, events, error_code, message, host_dirs=(), host_symlinks=None):
    case = {
        "archive": name,
        "description": description,
        "refused_by": "event",
        "events": events,
        "error_code": error_code,
        "message": message,
    }
    if host_dirs:
        case["host_dirs"] = list(host_dirs)
    if host_symlinks:
        case["host_symlinks"] = host_symlinks
    return name, data, case


def cases():
    outside = "points outside the bundle"
    yield extract_case(
        "dotdot.tar", tar_with(file_entry("../escape.txt")),
        "entry \"../escape.txt\": '..' path components are not allowed",
        "a member climbing out of the extraction directory",
    )
    yield extract_case(
        "dotdot-nested.tgz", gz(tar_with(file_entry("a/../../escape.txt"))),
        "entry \"a/../../escape.txt\": '..' path components are not allowed",
        "a '..' hidden in the middle of the path, gzipped",
    )
    yield extract_case(
        "dotdot-backslash.tar", tar_with(file_entry("..\\..\\escape.txt")),
        "entry \"..\\\\..\\\\escape.txt\": backslashes are not allowed in paths",
        "Windows separators, which other extractors turn into '..' components",
    )
    yield extract_case(
        "dotdot-longname.tar", tar_with(file_entry("a/" * 60 + "../" * 70 + "escape.txt")),
        f"entry \"{'a/' * 60 + '../' * 70 + 'escape.txt'}\": '..' path components are not allowed",
        "a '..' path in a GNU long name (././@LongLink), which the header's 100-byte name field cannot hold",
    )
    yield extract_case(
        "dotdot.zip", zip_with((zip_info("../evil.sh"), b"pwned\n")),
        "entry \"../evil.sh\": '..' path components are not allowed",
        "a zip entry climbing out of the extraction directory (zip slip)",
    )
    yield extract_case(
        "absolute.tar", tar_with(file_entry("/tmp/cutover-corpus-absolute")),
        "entry \"/tmp/cutover-corpus-absolute\": absolute paths are not allowed",
        "an absolute member path",
    )
    yield extract_case(
        "absolute.zip", zip_with((zip_info("/tmp/cutover-corpus-absolute"), b"pwned\n")),
        "entry \"/tmp/cutover-corpus-absolute\": absolute paths are not allowed",
        "an absolute zip entry path",
    )
    yield extract_case(
        "symlink-absolute.tar", tar_with((tar_info("etc-link", tarfile.SYMTYPE, mode=0o777, link="/etc"), b"")),
        f"entry \"etc-link\": symlink target \"/etc\" is an absolute path, which {outside}",
        "a symlink to an absolute path",
    )
    yield extract_case(
        "symlink-escape.tgz",
        gz(tar_with((tar_info("sub/up", tarfile.SYMTYPE, mode=0o777, link="../../outside"), b""))),
        "entry \"sub/up\": symlink target \"../../outside\" resolves outside the bundle",
        "a relative symlink climbing above the bundle root",
    )
    yield extract_case(
        "symlink-chain-escape.tar",
        tar_with(
            (tar_info("deep/s", tarfile.SYMTYPE, mode=0o777, link=".."), b""),
            (tar_info("t", tarfile.SYMTYPE, mode=0o777, link="deep/s/../.."), b""),
        ),
        "entry \"t\": symlink target \"deep/s/../..\" resolves outside the bundle",
        "a symlink that looks lexically harmless but escapes through another symlink of the archive",
    )
    yield extract_case(
        "symlink-escape.zip", zip_with((zip_info("up", 0o120777), b"../../etc")),
        "entry \"up\": symlink target \"../../etc\" resolves outside the bundle",
        "a zip symlink (unix mode S_IFLNK) climbing above the bundle root",
    )
    yield extract_case(
        "symlink-write-through.tar",
        tar_with((tar_info("link", tarfile.SYMTYPE, mode=0o777, link="../../../../outside"), b""),
                 file_entry("link/escape.txt")),
        "entry \"link\": symlink target \"../../../../outside\" resolves outside the bundle",
        "a symlink out of the bundle, then a file written through it",
    )
    yield extract_case(
        "symlink-write-through-inside.tar",
        tar_with((tar_info("data", tarfile.DIRTYPE, mode=0o755), b""),
                 (tar_info("link", tarfile.SYMTYPE, mode=0o777, link="data"), b""),
                 file_entry("link/x.txt")),
        "entry \"link/x.txt\": it lies below \"link\", which is not a directory in the archive",
        "a file written through a symlink, even one that stays inside: its real path is not what it says",
    )
    yield extract_case(
        "symlink-write-through.zip",
        zip_with((zip_info("link", 0o120777), b"../../../outside"), (zip_info("link/escape.txt"), b"pwned\n")),
        "entry \"link\": symlink target \"../../../outside\" resolves outside the bundle",
        "a zip symlink out of the bundle, then a file written through it",
    )
    yield extract_case(
        "hardlink-escape.tar",
        tar_with((tar_info("shadow", tarfile.LNKTYPE, link="../../etc/shadow"), b"")),
        "entry \"shadow\": hard link target \"../../etc/shadow\" points outside the bundle ('..' path components "
        "are not allowed)",
        "a hard link to a file outside the bundle",
    )
    yield extract_case(
        "hardlink-absolute.tar", tar_with((tar_info("shadow", tarfile.LNKTYPE, link="/etc/shadow"), b"")),
        "entry \"shadow\": hard link target \"/etc/shadow\" points outside the bundle (absolute paths are not "
        "allowed)",
        "a hard link to an absolute path",
    )
    yield extract_case(
        "hardlink-to-directory.tar",
        tar_with((tar_info("dir", tarfile.DIRTYPE, mode=0o755), b""), (tar_info("h", tarfile.LNKTYPE, link="dir"), b"")),
        "entry \"h\": hard link target \"dir\" is not a regular file of the archive",
        "a hard link to a directory",
    )
    yield extract_case(
        "hardlink-dangling.tar", tar_with((tar_info("h", tarfile.LNKTYPE, link="not-in-the-archive"), b"")),
        "entry \"h\": hard link target \"not-in-the-archive\" is not a regular file of the archive",
        "a hard link to a path the archive does not hold (it would link whatever is there on the host)",
    )
    yield extract_case(
        "duplicate.tar", tar_with(file_entry("ok.txt", b"replaced\n")),
        "entry \"ok.txt\": the archive holds this path more than once",
        "the same file twice (which copy wins differs between extractors)",
    )
    yield extract_case(
        "duplicate-file-then-dir.tar", tar_with((tar_info("ok.txt/", tarfile.DIRTYPE, mode=0o755), b"")),
        "entry \"ok.txt/\": the archive holds this path more than once",
        "a path that is a file and then a directory",
    )
    yield extract_case(
        "duplicate.zip", zip_with((zip_info("ok.txt"), b"replaced\n")),
        "the archive is malformed: the archive holds the same name more than once",
        "the same zip entry name twice",
    )
    yield extract_case(
        "fifo.tar", tar_with((tar_info("fifo", tarfile.FIFOTYPE), b"")),
        "entry \"fifo\": device and FIFO entries are not allowed",
        "a named pipe",
    )
    yield extract_case(
        "chardev.tar", tar_with((tar_info("dev/null", tarfile.CHRTYPE), b"")),
        "entry \"dev/null\": device and FIFO entries are not allowed",
        "a character device",
    )
    yield extract_case(
        "blockdev.tar", tar_with((tar_info("dev/sda", tarfile.BLKTYPE), b"")),
        "entry \"dev/sda\": device and FIFO entries are not allowed",
        "a block device",
    )
    yield extract_case(
        "fifo.zip", zip_with((zip_info("fifo", 0o010644), b"")),
        "entry \"fifo\": device, FIFO and socket entries are not allowed",
        "a zip entry whose unix mode is a FIFO",
    )
    yield extract_case(
        "setuid.tar", tar_with(file_entry("bin/tool", b"#!/bin/sh\n", 0o4755)),
        "entry \"bin/tool\": mode 4755 has the set-user-ID bit; start the agent with --allow-setuid to accept such "
        "files",
        "a set-user-ID file (accepted only with --allow-setuid)",
    )
    yield extract_case(
        "setgid.tgz", gz(tar_with(file_entry("bin/tool", b"#!/bin/sh\n", 0o2755))),
        "entry \"bin/tool\": mode 2755 has the set-group-ID bit; start the agent with --allow-setuid to accept such "
        "files",
        "a set-group-ID file (accepted only with --allow-setuid)",
    )
    yield extract_case(
        "setuid.zip", zip_with((zip_info("bin/tool", 0o104755), b"#!/bin/sh\n")),
        "entry \"bin/tool\": mode 4755 has the set-user-ID bit; start the agent with --allow-setuid to accept such "
        "files",
        "a set-user-ID zip entry (accepted only with --allow-setuid)",
    )
    yield extract_case(
        "pax-size-desync.tar", pax_desync(),
        "entry \"smuggle\": its PAX size \"0\" disagrees with its header size 6",
        "a PAX size that disagrees with the ustar header (TARmageddon: parsers that disagree on where the next "
        "header starts can be fed smuggled entries)",
    )
    huge = tar_info("huge.bin", size=9 * GiB)
    yield extract_case(
        "bomb-declared-size.tar", header_only(huge),
        "the archive expands to more than 8589934592 bytes",
        "a member declaring 9 GiB, more than the default 8 GiB cap: refused at its header, before any data is read",
    )
    big = header_only(tar_info("big.bin", size=100 * MiB))
    declared = len(APPSPEC) + 5 + 100 * MiB
    yield extract_case(
        "bomb-truncated.tar", big,
        f"the archive declares {declared} bytes of data in {len(big)} bytes, more than 1100 times its size",
        "a 2 KiB archive declaring 100 MiB: more than any compression can hold (the expansion ratio cap)",
    )
    zeros = tar_bytes(base_tar() + [(tar_info("zeros.bin", size=2 * MiB), b"\0" * (2 * MiB))])
    yield extract_case(
        "bomb-size.tgz", gz(zeros),
        "the archive expands to more than 1048576 bytes",
        "a gzip bomb: 2 MiB of zeros in about 2 KiB, against a 1 MiB size cap",
        limits={"max_total_bytes": MiB},
    )
    many = base_tar() + [file_entry(f"f/{i:03}", b"") for i in range(99)]
    yield extract_case(
        "bomb-entries.tgz", gz(tar_bytes([(tar_info("f", tarfile.DIRTYPE, mode=0o755), b"")] + many)),
        "the archive has more than 100 entries",
        "more entries than the entry-count cap (100 here; the default is 1,000,000)",
        limits={"max_entries": 100},
    )
    yield extract_case(
        "bomb-entries.zip", zip_with(*[(zip_info(f"f{i:03}"), b"") for i in range(99)]),
        "the archive has more than 100 entries",
        "more zip entries than the entry-count cap (100 here; the default is 1,000,000)",
        limits={"max_entries": 100},
    )
    yield extract_case(
        "bomb-overlapping.zip", overlapping_zip_bomb(),
        "the archive is malformed: entries of the archive share their bytes (an overlapping-entry zip bomb)",
        "200 central directory entries sharing one deflated MiB of zeros (200 MiB from 2 KiB)",
    )
    lying = lying_size_zip()
    yield extract_case(
        "bomb-lying-size.zip", lying,
        f"the archive declares {len(APPSPEC) + 512 * MiB} bytes of data in {len(lying)} bytes, more than 1100 times "
        "its size",
        "an entry declaring 512 MiB for a few bytes of data",
    )

    # Hostile AppSpecs in well-formed archives.
    yield event_case(
        "hook-location-dotdot.tgz",
        tgz_bundle({"appspec.yml": (appspec_with(
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: scripts/../../../../../bin/sh\n"), 0o644),
            "scripts/run.sh": SCRIPT}),
        "a hook location climbing out of the revision to run a host program",
        ["DownloadBundle", "BeforeInstall"],
        "UnknownError",
        "The AppSpec file {archive}/appspec.yml is invalid:\nline 5: hooks.BeforeInstall[0].location: location must "
        "stay inside the revision, got \"scripts/../../../../../bin/sh\" (\"..\" is not allowed) (hint: give the path "
        "from the revision's root, e.g. scripts/start.sh)",
    )
    yield event_case(
        "hook-location-absolute.tgz",
        tgz_bundle({"appspec.yml": (appspec_with(
            "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: /bin/true\n"), 0o644)}),
        "an absolute hook location: as for CodeDeploy's agent it is a path from the revision's root, never the "
        "host's /bin/true",
        ["DownloadBundle", "BeforeInstall"],
        "ScriptMissing",
        "Script does not exist at specified location: {archive}/bin/true",
    )
    yield event_case(
        "files-source-dotdot.tgz",
        tgz_bundle({"appspec.yml": (appspec_with(
            "version: 0.0\nos: linux\nfiles:\n  - source: ../../..\n    destination: /srv/app\n"), 0o644)}),
        "a files source climbing out of the revision (it would install the agent's own state)",
        ["DownloadBundle", "Install"],
        "UnknownError",
        "The AppSpec file {archive}/appspec.yml is invalid:\nline 4: files[0].source: source must stay inside the "
        "revision, got \"../../..\" (\"..\" is not allowed) (hint: give the path from the revision's root, e.g. "
        "scripts/start.sh)",
    )
    site = "version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\n"
    app_files = {"appspec.yml": (appspec_with(site), 0o644), "app/index.html": (b"<h1>hi</h1>\n", 0o644),
                 "app/conf/app.conf": (b"port=80\n", 0o644)}
    yield event_case(
        "destination-symlink.tgz", tgz_bundle(app_files),
        "a destination that is a symlink on the host, pointing outside it",
        ["DownloadBundle", "Install"],
        "UnknownError",
        "The destination {host}/srv/app is a symbolic link on this host (to {outside}); installing through it could "
        "write outside the destination, so it is refused. Remove the link, or name its target in the AppSpec",
        host_dirs=["srv"],
        host_symlinks={"srv/app": "{outside}"},
    )
    yield event_case(
        "destination-nested-symlink.tgz", tgz_bundle(app_files),
        "a directory below the destination that is a symlink on the host (planted by an application user)",
        ["DownloadBundle", "Install"],
        "UnknownError",
        "The destination {host}/srv/app/conf is a symbolic link on this host (to {outside}); installing through it "
        "could write outside the destination, so it is refused. Remove the link, or name its target in the AppSpec",
        host_dirs=["srv/app"],
        host_symlinks={"srv/app/conf": "{outside}"},
    )
    setuid_spec = site + "permissions:\n  - object: /srv/app/tool\n    mode: 4755\n"
    yield event_case(
        "permissions-setuid.tgz",
        tgz_bundle({"appspec.yml": (appspec_with(setuid_spec), 0o644), "app/tool": (b"#!/bin/sh\n", 0o755)}),
        "AppSpec permissions setting the set-user-ID bit (accepted only with --allow-setuid)",
        ["DownloadBundle", "Install"],
        "UnknownError",
        "The permissions mode 4755 for {host}/srv/app/tool sets the set-user-ID bit; start the agent with "
        "--allow-setuid to allow it",
    )


def main():
    check = "--check" in sys.argv[1:]
    different = []
    names = set()
    for name, data, case in cases():
        assert name not in names, name
        names.add(name)
        sidecar = (json.dumps(case, indent=2, ensure_ascii=False) + "\n").encode()
        for path, content in ((os.path.join(HERE, name), data), (os.path.join(HERE, name + ".json"), sidecar)):
            current = open(path, "rb").read() if os.path.exists(path) else None
            if current == content:
                continue
            if check:
                different.append(os.path.relpath(path, HERE))
            else:
                with open(path, "wb") as out:
                    out.write(content)
    committed = {f for f in os.listdir(HERE) if f not in ("generate.py", "README.md")}
    generated = names | {n + ".json" for n in names}
    stale = sorted(committed - generated)
    if check:
        for path in different + stale:
            print(f"differs from the generator: {path}", file=sys.stderr)
        sys.exit(1 if different or stale else 0)
    for path in stale:
        os.remove(os.path.join(HERE, path))
    print(f"{len(names)} cases written to {HERE}")


if __name__ == "__main__":
    main()
