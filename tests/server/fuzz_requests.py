# fuzz_requests.py URL N SEED [ADMIN_KEY]: N mutated requests against a running tessera serve (broken
# JSON, huge numbers, deep nesting, invalid UTF-8, wrong types and methods, oversized bodies and
# headers; the admin routes of versions with the admin key, with references that name nothing).
# Every response must be well-formed HTTP with a status below 500, an OpenAI error object for every
# 4xx JSON body, valid JSON (or SSE of JSON) for every 2xx; the server must stay up.
import json
import random
import socket
import sys
import urllib.parse

url, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1
admin_key = sys.argv[4] if len(sys.argv) > 4 else ""
u = urllib.parse.urlparse(url)
rng = random.Random(seed)

BASES = [
    ("/v1/completions", {"prompt": "Notes on", "max_tokens": 4}),
    ("/v1/completions", {"prompt": "你好 🌍", "max_tokens": 3, "logprobs": 2, "echo": True, "stream": True}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}),
    ("/v1/chat/completions", {"messages": [{"role": "system", "content": "x"}, {"role": "user", "content": [{"type": "text", "text": "y"}]}],
                              "max_tokens": 2, "stream": True, "logprobs": True, "top_logprobs": 1}),
    ("/admin/versions/load", {"ref": "/nonexistent/run:best", "version": "v9", "percent": 10}),
    ("/admin/versions/load", {"model": "/nonexistent.gguf", "tokenizer": "/nonexistent.json"}),
    ("/admin/versions/canary", {"version": "v9", "percent": 50}),
    ("/admin/versions/promote", {}),
    ("/admin/versions/rollback", {"version": "v1"}),
]
FIELDS = ["prompt", "messages", "max_tokens", "temperature", "top_p", "n", "stream", "stop", "seed", "logprobs", "echo",
          "top_logprobs", "model", "user", "top_k", "min_p", "repetition_penalty", "presence_penalty", "stream_options", "zzz",
          "ref", "version", "percent", "tokenizer"]


def weird_value():
    choice = rng.randrange(14)
    return [lambda: 10 ** rng.randrange(1, 400), lambda: -(10 ** rng.randrange(1, 30)), lambda: rng.uniform(-1e308, 1e308),
            lambda: None, lambda: True, lambda: "", lambda: "x" * rng.randrange(1, 5000), lambda: [], lambda: {},
            lambda: [rng.randrange(-5, 400) for _ in range(rng.randrange(1, 80))], lambda: rng.randrange(-3, 70),
            lambda: [[[["deep"]]]], lambda: "\ud83c\udf0d 你", lambda: {"role": "user"}][choice]()


def json_body():
    path, base = rng.choice(BASES)
    body = json.loads(json.dumps(base))
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(3)
        if op == 0:
            body[rng.choice(FIELDS)] = weird_value()
        elif op == 1 and body:
            body.pop(rng.choice(list(body)))
        else:
            body["max_tokens"] = rng.randrange(1, 8)
    raw = json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    mutate = rng.randrange(6)
    if mutate == 0:  # flip, insert or drop bytes
        raw = bytearray(raw)
        for _ in range(rng.randrange(1, 6)):
            i = rng.randrange(len(raw) + 1)
            k = rng.randrange(3)
            if k == 0 and i < len(raw):
                raw[i] = rng.randrange(256)
            elif k == 1:
                raw[i:i] = bytes([rng.randrange(256)])
            elif i < len(raw):
                del raw[i]
        raw = bytes(raw)
    elif mutate == 1:
        raw = raw[: rng.randrange(len(raw))]
    elif mutate == 2:
        raw = raw.replace(b"Notes", b"\xff\xfe\xc3(") .replace(b"hi", b"\xed\xa0\x80")
    return path, raw


def make_request():
    kind = rng.randrange(10)
    method, path, headers, body = "POST", "/v1/completions", {"Content-Type": "application/json"}, b""
    if kind <= 4:
        path, body = json_body()
        if path.startswith("/admin/") and admin_key:
            headers["Authorization"] = "Bearer " + admin_key
    elif kind == 5:  # deep nesting
        depth = rng.choice([40, 1000, 100000])
        body = (b'{"prompt": ' + b"[" * depth + b"]" * depth + b"}") if rng.random() < 0.5 else b"[" * depth
    elif kind == 6:  # wrong methods and paths
        method = rng.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "FOO", "POST"])
        path = rng.choice(["/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/metrics", "/admin/stop",
                           "/", "/v1/../etc/passwd", "/%ff%fe", "/v1/completions?x=" + "y" * 50])
    elif kind == 7:  # oversized body (the limit is 1 MiB)
        body = b'{"prompt": "' + b"a" * (1 << 20) + b'"}'
    elif kind == 8:  # oversized or odd headers
        headers["X-Big"] = "h" * rng.choice([100, 9000, 20000])
        headers["X-Odd"] = "\xff\xfe"
        path, body = json_body()
    else:  # a header that lies about the body's type, or a bad Authorization
        headers = {"Content-Type": rng.choice(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]),
                   "Authorization": rng.choice(["Bearer", "Basic abc", "Bearer " + "k" * 3000])}
        path, body = json_body()
    return method, path, headers, body


def complete(data):
    """A whole response is in (a server may keep a connection open after a request it could not parse)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return len(body) >= int(v)
    return body.endswith(b"0\r\n\r\n")


def exchange(method, path, headers, body):
    s = socket.create_connection((u.hostname, u.port), timeout=30)
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    try:
        s.sendall(head.encode("utf-8", "surrogateescape") + b"\r\n" + body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered (413) and closed before reading it all
    data = b""
    try:
        while not complete(data) and (chunk := s.recv(65536)):
            data += chunk
    except ConnectionResetError:
        pass
    s.close()
    return data


def dechunk(b):
    out = b""
    while b:
        size_line, _, rest = b.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        b = rest[size + 2:]
    return out


def check(method, data):
    assert data, "no response"
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ")[:2]
    assert version == "HTTP/1.1", lines[0]
    status = int(status)
    assert 200 <= status < 500, f"status {status}: {body[:300]!r}"
    hdrs = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    if hdrs.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    if method == "HEAD" or not body:
        return status
    ctype = hdrs.get("content-type", "")
    text = body.decode("utf-8")  # strict
    if ctype.startswith("application/json"):
        j = json.loads(text)
        if status >= 400:
            e = j["error"]
            assert isinstance(e["message"], str) and "type" in e and "param" in e and "code" in e, j
    elif ctype.startswith("text/event-stream"):
        events = [e for e in text.split("\n\n") if e.strip() and not e.startswith(":")]
        assert events[-1] == "data: [DONE]", events[-1:]
        for e in events[:-1]:
            json.loads(e[6:])
    return status


def main():
    counts = {}
    failures = 0
    for i in range(count):
        req = make_request()
        try:
            status = check(req[0], exchange(*req))
            counts[status] = counts.get(status, 0) + 1
        except Exception as e:  # noqa: BLE001 (report every kind of failure)
            failures += 1
            print(f"FAIL request {i}: {req[0]} {req[1]} {req[3][:120]!r}: {type(e).__name__}: {e}")
            if failures > 20:
                break
    print("statuses:", dict(sorted(counts.items())))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
