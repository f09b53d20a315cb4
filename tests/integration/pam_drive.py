#!/usr/bin/env python3
"""Drives one PAM handle through libpam itself (ctypes), with waits between the calls, which
pamtester cannot do: pam_drive.py SERVICE USER STEP... where a STEP is auth, auth-wrong (prompts
answered with a wrong password), acct or sleep=SECONDS. Every prompt is answered with the password read from the first line of stdin. Prints one line per call: "auth 0",
"acct 7" (the PAM return codes); exits 0 when it could run them all."""
import ctypes
import ctypes.util
import sys
import time

PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON = 1, 2

libpam = ctypes.CDLL(ctypes.util.find_library("pam"))
libc = ctypes.CDLL(None)
libc.calloc.restype = ctypes.c_void_p
libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
libc.strdup.restype = ctypes.c_void_p
libc.strdup.argtypes = [ctypes.c_char_p]


class PamMessage(ctypes.Structure):
    _fields_ = [("msg_style", ctypes.c_int), ("msg", ctypes.c_char_p)]


class PamResponse(ctypes.Structure):
    _fields_ = [("resp", ctypes.c_void_p), ("resp_retcode", ctypes.c_int)]


CONV = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.POINTER(PamMessage)),
                        ctypes.POINTER(ctypes.POINTER(PamResponse)), ctypes.c_void_p)


class PamConv(ctypes.Structure):
    _fields_ = [("conv", CONV), ("appdata_ptr", ctypes.c_void_p)]


def main(service, user, password, steps):
    answer = {"secret": password.encode()}

    def converse(n, msgs, resp_r, _data):
        # libpam frees the array and the strings: they come from libc's allocator.
        arr = ctypes.cast(libc.calloc(n, ctypes.sizeof(PamResponse)), ctypes.POINTER(PamResponse))
        for i in range(n):
            if msgs[i].contents.msg_style in (PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON):
                arr[i].resp = libc.strdup(answer["secret"])
        resp_r[0] = arr
        return 0

    conv = PamConv(CONV(converse), None)
    handle = ctypes.c_void_p()
    rc = libpam.pam_start(service.encode(), user.encode(), ctypes.byref(conv), ctypes.byref(handle))
    if rc != 0:
        print("pam_start %d" % rc)
        return 2
    for step in steps:
        if step.startswith("sleep="):
            time.sleep(float(step[6:]))
        elif step in ("auth", "auth-wrong"):
            answer["secret"] = password.encode() + (b"-wrong" if step == "auth-wrong" else b"")
            print("%s %d" % (step, libpam.pam_authenticate(handle, 0)), flush=True)
        elif step == "acct":
            print("acct %d" % libpam.pam_acct_mgmt(handle, 0), flush=True)
        else:
            print("unknown step %r" % step)
            return 2
    libpam.pam_end(handle, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.stdin.readline().rstrip("\n"), sys.argv[3:]))
