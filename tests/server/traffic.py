# traffic.py URL OUT STOP_FILE [THREADS]: keeps THREADS clients sending small completions (each
# its own `user`) until STOP_FILE exists, then writes one line per request to OUT: the HTTP status
# and the version that answered (X-Tessera-Version, which must equal system_fingerprint).
import http.client
import json
import os
import sys
import threading
import urllib.parse

url, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 4
u = urllib.parse.urlparse(url)
lines, lock = [], threading.Lock()


def client(k):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    i = 0
    while not os.path.exists(stop):
        body = json.dumps({"prompt": "Notes", "max_tokens": 4, "ignore_eos": True, "user": f"traffic-{k}-{i}"})
        try:
            c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            version = r.getheader("X-Tessera-Version", "-")
            if r.status == 200 and json.loads(data)["system_fingerprint"] != version:
                version = "mismatch"
            line = f"{r.status} {version}"
        except Exception as e:  # noqa: BLE001 (a failed request is what this counts)
            line = f"error {type(e).__name__}"
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        with lock:
            lines.append(line)
        i += 1


ts = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
