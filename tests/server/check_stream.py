# check_stream.py SSE_FILE WHOLE_JSON [chat]: every server-sent event of SSE_FILE is valid UTF-8 and
# JSON (or [DONE], last), and the joined text of choice 0 equals the non-streamed response's text.
import json
import sys

raw = open(sys.argv[1], "rb").read()
whole = json.load(open(sys.argv[2], encoding="utf-8"))
chat = len(sys.argv) > 3
raw.decode("utf-8")  # strict: raises on invalid UTF-8
events = [e for e in raw.split(b"\n\n") if e.strip()]
assert events and events[-1] == b"data: [DONE]", f"the stream does not end with [DONE]: {events[-1:]}"
text, finish = "", None
for e in events[:-1]:
    if e.startswith(b":"):
        continue  # a comment
    assert e.startswith(b"data: "), e
    chunk = json.loads(e[6:].decode("utf-8"))
    assert "error" not in chunk, chunk
    for c in chunk["choices"]:
        if c["index"] != 0:
            continue
        text += (c["delta"].get("content") or "") if chat else c["text"]
        finish = c["finish_reason"] or finish
choice = whole["choices"][0]
expected = choice["message"]["content"] if chat else choice["text"]
assert text == expected, f"streamed {text!r} != whole {expected!r}"
assert finish == choice["finish_reason"], (finish, choice["finish_reason"])
print(f"{len(events)} events, {len(text.encode())} bytes of text, finish {finish}")
