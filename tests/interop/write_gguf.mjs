// Writes a small random-weight GGUF v3 model, independently of Tessera's own writer, from the GGUF
// specification (github.com/ggml-org/ggml docs/gguf.md) and llama.cpp's tensor names: the file that
// tests load in both Tessera and llama.cpp.
//
// Usage: node write_gguf.mjs OUT.gguf ARCH TYPE SEED
//   ARCH: gpt2 | llama (llama: grouped-query attention, an untied output layer; gpt2: tied)
//   TYPE: f32 | f16 | q8_0, the type of every 2-D tensor (1-D norms and biases stay f32)
// The model: 2 layers, 64 wide, 4 heads, 128 positions. The vocabulary: the 256 byte tokens in
// GPT-2's byte-unicode form, a few merges, "<|endoftext|>" (control) and unused padding to 320.
// general.alignment is 64 (not the default 32), so readers must honour it.
import fs from "node:fs";

const [out, arch, type, seedArg] = process.argv.slice(2);
if (!out || !["gpt2", "llama"].includes(arch) || !["f32", "f16", "q8_0"].includes(type)) {
  console.error("usage: node write_gguf.mjs OUT.gguf gpt2|llama f32|f16|q8_0 SEED");
  process.exit(2);
}
const ALIGN = 64;
const N_EMBD = 64, N_HEAD = 4, N_HEAD_KV = arch === "llama" ? 2 : 4, N_LAYER = 2, N_CTX = 128, N_VOCAB = 320;
const N_FF = arch === "llama" ? 192 : 256, HEAD_DIM = N_EMBD / N_HEAD;

// mulberry32: a small seeded generator; uniform(a) is in [-a, a).
let state = Number(seedArg ?? 1) >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const uniform = (a, n) => Float32Array.from({length: n}, () => (2 * random() - 1) * a);
const around = (c, a, n) => Float32Array.from({length: n}, () => c + (2 * random() - 1) * a);

// ---- vocabulary ----
function byteToUnicode() {
  const printable = [];
  for (let b = 33; b <= 126; ++b) printable.push(b);
  for (let b = 161; b <= 172; ++b) printable.push(b);
  for (let b = 174; b <= 255; ++b) printable.push(b);
  const map = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; ++b) map[b] = String.fromCodePoint(printable.includes(b) ? b : next++);
  return map;
}
const bu = byteToUnicode();
const tokens = bu.slice();
const types = new Array(256).fill(1);  // normal
const merges = [];
for (const [a, b] of [[" ", "t"], ["h", "e"], [" t", "he"], ["i", "n"], [" ", "a"], ["e", "r"], ["o", "n"], [" ", "s"]]) {
  const l = [...Buffer.from(a)].map((x) => bu[x]).join(""), r = [...Buffer.from(b)].map((x) => bu[x]).join("");
  merges.push(l + " " + r);
  tokens.push(l + r);
  types.push(1);
}
const eot = tokens.length;
tokens.push("<|endoftext|>");
types.push(3);  // control
while (tokens.length < N_VOCAB) {
  types.push(5);  // unused
  tokens.push(`[PAD${tokens.length}]`);
}

// ---- tensors: [name, dims (ne0 first), Float32Array] ----
const tensors = [];
const add = (name, dims, data) => tensors.push({name, dims, data});
// Rows of the padding ids are zero: their logit is 0, far below the real tokens' maximum, so that
// llama.cpp (which does not know they are unused) never chooses them either.
const N_TOKENS = eot + 1;  // the tokenizer's ids: bytes, merges, <|endoftext|>
const rows = (a, n_rows) => {
  const w = uniform(a, N_EMBD * n_rows);
  w.fill(0, N_EMBD * N_TOKENS);
  return w;
};
add("token_embd.weight", [N_EMBD, N_VOCAB], rows(arch === "gpt2" ? 0.6 : 1.0, N_VOCAB));
// Strong positions (and block outputs, below) vary gpt2's greedy continuation: with weak ones its tied
// output layer keeps predicting the token it was given.
if (arch === "gpt2") add("position_embd.weight", [N_EMBD, N_CTX], uniform(3, N_EMBD * N_CTX));
const proj = (n_in, n_out) => uniform(1.2 / Math.sqrt(n_in), n_in * n_out);
const out_proj = (n_in, n_out) => uniform((arch === "gpt2" ? 4 : 1.2) / Math.sqrt(n_in), n_in * n_out);
for (let i = 0; i < N_LAYER; ++i) {
  const p = `blk.${i}.`;
  add(p + "attn_norm.weight", [N_EMBD], around(1, 0.2, N_EMBD));
  if (arch === "gpt2") {
    add(p + "attn_norm.bias", [N_EMBD], uniform(0.1, N_EMBD));
    add(p + "attn_qkv.weight", [N_EMBD, 3 * N_EMBD], proj(N_EMBD, 3 * N_EMBD));
    add(p + "attn_qkv.bias", [3 * N_EMBD], uniform(0.1, 3 * N_EMBD));
    add(p + "attn_output.weight", [N_EMBD, N_EMBD], out_proj(N_EMBD, N_EMBD));
    add(p + "attn_output.bias", [N_EMBD], uniform(0.1, N_EMBD));
    add(p + "ffn_norm.weight", [N_EMBD], around(1, 0.2, N_EMBD));
    add(p + "ffn_norm.bias", [N_EMBD], uniform(0.1, N_EMBD));
    add(p + "ffn_up.weight", [N_EMBD, N_FF], proj(N_EMBD, N_FF));
    add(p + "ffn_up.bias", [N_FF], uniform(0.1, N_FF));
    add(p + "ffn_down.weight", [N_FF, N_EMBD], out_proj(N_FF, N_EMBD));
    add(p + "ffn_down.bias", [N_EMBD], uniform(0.1, N_EMBD));
  } else {
    add(p + "attn_q.weight", [N_EMBD, N_HEAD * HEAD_DIM], proj(N_EMBD, N_HEAD * HEAD_DIM));
    add(p + "attn_k.weight", [N_EMBD, N_HEAD_KV * HEAD_DIM], proj(N_EMBD, N_HEAD_KV * HEAD_DIM));
    add(p + "attn_v.weight", [N_EMBD, N_HEAD_KV * HEAD_DIM], proj(N_EMBD, N_HEAD_KV * HEAD_DIM));
    add(p + "attn_output.weight", [N_HEAD * HEAD_DIM, N_EMBD], proj(N_HEAD * HEAD_DIM, N_EMBD));
    add(p + "ffn_norm.weight", [N_EMBD], around(1, 0.2, N_EMBD));
    add(p + "ffn_gate.weight", [N_EMBD, N_FF], proj(N_EMBD, N_FF));
    add(p + "ffn_up.weight", [N_EMBD, N_FF], proj(N_EMBD, N_FF));
    add(p + "ffn_down.weight", [N_FF, N_EMBD], proj(N_FF, N_EMBD));
  }
}
add("output_norm.weight", [N_EMBD], around(1, 0.2, N_EMBD));
if (arch === "gpt2") add("output_norm.bias", [N_EMBD], uniform(0.1, N_EMBD));
if (arch === "llama") add("output.weight", [N_EMBD, N_VOCAB], rows(0.8, N_VOCAB));

// ---- encodings ----
// IEEE binary16, round to nearest even (subnormals included).
function toF16(x) {
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000, exp = (u >>> 23) & 0xff, mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000, shift = 14 - e;
    let h = m >>> shift;
    const rest = m & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rest > half || (rest === half && (h & 1))) h += 1;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h += 1;
  return sign | h;
}
function fromF16(h) {
  const sign = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}
// q8_0: blocks of 32: an f16 scale d = max|x| / 127, then 32 int8 round(x / d).
function q8_0(data) {
  const buf = Buffer.alloc((data.length / 32) * 34);
  for (let b = 0; b < data.length / 32; ++b) {
    let amax = 0;
    for (let j = 0; j < 32; ++j) amax = Math.max(amax, Math.abs(data[b * 32 + j]));
    const d = fromF16(toF16(amax / 127));
    buf.writeUInt16LE(toF16(amax / 127), b * 34);
    for (let j = 0; j < 32; ++j) {
      const q = d === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(data[b * 32 + j] / d)));
      buf.writeInt8(q, b * 34 + 2 + j);
    }
  }
  return buf;
}
const TYPE_ID = {f32: 0, f16: 1, q8_0: 8};
function encode(t) {
  const kind = t.dims.length === 2 ? type : "f32";
  t.type = TYPE_ID[kind];
  if (kind === "f32") return Buffer.from(t.data.buffer);
  if (kind === "f16") {
    const buf = Buffer.alloc(t.data.length * 2);
    t.data.forEach((x, i) => buf.writeUInt16LE(toF16(x), i * 2));
    return buf;
  }
  return q8_0(t.data);
}

// ---- the file ----
const parts = [];
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
const i32 = (v) => { const b = Buffer.alloc(4); b.writeInt32LE(v); parts.push(b); };
const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
const f32 = (v) => { const b = Buffer.alloc(4); b.writeFloatLE(v); parts.push(b); };
const str = (s) => { const b = Buffer.from(s, "utf8"); u64(b.length); parts.push(b); };
const T = {u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9};
const kv = [];
const put = (key, write) => kv.push([key, write]);
const putU32 = (k, v) => put(k, () => { u32(T.u32); u32(v); });
const putF32 = (k, v) => put(k, () => { u32(T.f32); f32(v); });
const putStr = (k, v) => put(k, () => { u32(T.string); str(v); });
const putBool = (k, v) => put(k, () => { u32(T.bool); parts.push(Buffer.from([v ? 1 : 0])); });
const putStrs = (k, v) => put(k, () => { u32(T.array); u32(T.string); u64(v.length); v.forEach(str); });
const putI32s = (k, v) => put(k, () => { u32(T.array); u32(T.i32); u64(v.length); v.forEach(i32); });

putStr("general.architecture", arch);
putStr("general.name", `independent-${arch}-${type}`);
putU32("general.alignment", ALIGN);
putU32(`${arch}.context_length`, N_CTX);
putU32(`${arch}.embedding_length`, N_EMBD);
putU32(`${arch}.block_count`, N_LAYER);
putU32(`${arch}.feed_forward_length`, N_FF);
putU32(`${arch}.attention.head_count`, N_HEAD);
if (arch === "gpt2") {
  putF32(`${arch}.attention.layer_norm_epsilon`, 1e-5);
} else {
  putU32(`${arch}.attention.head_count_kv`, N_HEAD_KV);
  putF32(`${arch}.attention.layer_norm_rms_epsilon`, 1e-5);
  putF32(`${arch}.rope.freq_base`, 10000);
  putU32(`${arch}.rope.dimension_count`, HEAD_DIM);
}
putStr("tokenizer.ggml.model", "gpt2");
putStr("tokenizer.ggml.pre", "gpt-2");
putStrs("tokenizer.ggml.tokens", tokens);
putI32s("tokenizer.ggml.token_type", types);
putStrs("tokenizer.ggml.merges", merges);
putU32("tokenizer.ggml.bos_token_id", eot);
putU32("tokenizer.ggml.eos_token_id", eot);
putBool("tokenizer.ggml.add_bos_token", false);

const data = tensors.map(encode);
parts.push(Buffer.from("GGUF", "ascii"));
u32(3);
u64(tensors.length);
u64(kv.length);
for (const [key, write] of kv) { str(key); write(); }
let offset = 0;
const offsets = [];
for (let i = 0; i < tensors.length; ++i) {
  offsets.push(offset);
  offset += Math.ceil(data[i].length / ALIGN) * ALIGN;
}
tensors.forEach((t, i) => {
  str(t.name);
  u32(t.dims.length);
  t.dims.forEach(u64);
  u32(t.type);
  u64(offsets[i]);
});
let size = parts.reduce((n, b) => n + b.length, 0);
parts.push(Buffer.alloc(Math.ceil(size / ALIGN) * ALIGN - size));
data.forEach((d) => parts.push(d, Buffer.alloc(Math.ceil(d.length / ALIGN) * ALIGN - d.length)));
fs.writeFileSync(out, Buffer.concat(parts));
