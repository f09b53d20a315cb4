"""A minimal SMTP server: one message per connection, each kept as a JSON file."""
import json, os, socketserver, sys

OUT = sys.argv[2]


class H(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        env = {"from": None, "to": [], "data": ""}
        self.reply("220 sink ESMTP")
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                env["from"] = cmd[10:]
                self.reply("250 ok")
            elif verb == "RCPT":
                env["to"].append(cmd[8:])
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline(65536)
                    if not chunk:
                        return
                    data += chunk
                env["data"] = data.decode("utf-8", "replace")
                n = len(os.listdir(OUT))
                with open(os.path.join(OUT, "%d.tmp" % n), "w") as fh:
                    json.dump(env, fh)
                os.rename(os.path.join(OUT, "%d.tmp" % n), os.path.join(OUT, "%d.json" % n))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 no")


socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("127.0.0.1", int(sys.argv[1])), H) as srv:
    srv.serve_forever()
