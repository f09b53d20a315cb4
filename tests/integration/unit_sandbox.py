"""Runs a command under the system call filter of a systemd unit, without systemd.

    python3 unit_sandbox.py UNIT.service COMMAND [ARG...]

What it applies, as systemd would: SystemCallFilter= (the first allow-list, then each ~deny list,
groups expanded with `systemd-analyze syscall-filter`, @default always allowed),
SystemCallErrorNumber=EPERM, RestrictAddressFamilies= (socket() of another family: EAFNOSUPPORT),
MemoryDenyWriteExecute=yes (no writable+executable mmap, no mprotect to executable), and
NoNewPrivileges=yes. Then it execs the command. Through libseccomp with ctypes; no systemd needed.
"""
import ctypes
import ctypes.util
import errno
import os
import re
import socket
import subprocess
import sys

SCMP_ACT_ALLOW = 0x7FFF0000


def SCMP_ACT_ERRNO(e):
    return 0x00050000 | (e & 0xFFFF)


SCMP_CMP_EQ = 4
SCMP_CMP_MASKED_EQ = 7
PROT_WRITE, PROT_EXEC = 0x2, 0x4
PR_SET_NO_NEW_PRIVS = 38


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], check=True, capture_output=True,
                         text=True).stdout
    table, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = table.setdefault(line.strip(), [])
        elif cur is not None and line.strip() and not line.strip().startswith("#"):
            cur.append(line.strip())
    return table


def expand(names, table, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n not in seen:
                seen.add(n)
                out |= expand(table.get(n, []), table, seen)
        else:
            out.add(n)
    return out


def unit_settings(path):
    filters, families, mdwe = [], None, False
    for line in open(path):
        m = re.match(r"^(SystemCallFilter|RestrictAddressFamilies|MemoryDenyWriteExecute)=(.*)$",
                     line.strip())
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        if key == "SystemCallFilter":
            filters.append(value)
        elif key == "RestrictAddressFamilies":
            families = value.split()
        else:
            mdwe = value in ("yes", "true", "1")
    return filters, families, mdwe


def main():
    unit, cmd = sys.argv[1], sys.argv[2:]
    table = groups()
    filters, families, mdwe = unit_settings(unit)
    allowed = expand(["@default"], table)
    if filters and not filters[0].startswith("~"):
        allowed |= expand(filters[0].split(), table)
        filters = filters[1:]
    for f in filters:
        if f.startswith("~"):
            allowed -= expand(f[1:].split(), table) - expand(["@default"], table)
    lib = ctypes.CDLL(ctypes.util.find_library("seccomp"), use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(SCMP_ACT_ERRNO(errno.EPERM))

    def rule(name, action, *cmps):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            return
        arr = (ArgCmp * max(len(cmps), 1))(*[ArgCmp(*c) for c in cmps])
        rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
        if rc != 0:
            raise OSError(-rc, "seccomp_rule_add %s" % name)

    special = set()
    if families is not None:
        special.add("socket")
        fams = [getattr(socket, f) for f in families if hasattr(socket, f)]
        for fam in fams:
            rule("socket", SCMP_ACT_ALLOW, (0, SCMP_CMP_EQ, fam, 0))
    if mdwe:
        special |= {"mmap", "mprotect", "pkey_mprotect"}
        if "mmap" in allowed:
            for prot in (0, PROT_WRITE, PROT_EXEC):
                rule("mmap", SCMP_ACT_ALLOW, (2, SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, prot))
        for name in ("mprotect", "pkey_mprotect"):
            if name in allowed:
                rule(name, SCMP_ACT_ALLOW, (2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))
    for name in sorted(allowed - special):
        rule(name, SCMP_ACT_ALLOW)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl")
    if lib.seccomp_load(ctx) != 0:
        raise OSError(ctypes.get_errno(), "seccomp_load")
    os.execv(cmd[0], cmd)


main()
