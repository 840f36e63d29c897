// Runs a GGUF model with llama.cpp (through node-llama-cpp's prebuilt CPU binaries) and prints,
// as one JSON object on stdout, what the interchange tests compare with Tessera:
//   greedy:        `generate` tokens chosen greedily after `prompt`
//   greedy_probs:  for each of those steps, the next-token distribution (V numbers)
//   score_probs:   the next-token distribution after each position p >= score_from of `score`
//                  (teacher forced), one row per position
// node-llama-cpp exposes probabilities (a softmax of the raw logits with no sampler applied
// under greedy settings), not the logits themselves: log(prob) is the logit less a per-row
// constant, which is what the tests compare.
//
// Usage: node llama_cpp_run.mjs NODE_MODULES_DIR MODEL.gguf REQUEST.json
//   REQUEST.json: {"vocab": V, "prompt": [ids], "generate": n, "score": [ids], "score_from": p,
//                  "text": "..."}
//   With "text", `tokenized` holds llama.cpp's tokenisation of it (no BOS added).
// The context is created with flash attention off and an f32 KV cache, so that nothing but the
// weights' own type rounds the computation.
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";

const [modulesDir, modelPath, requestPath] = process.argv.slice(2);
if (!modulesDir || !modelPath || !requestPath) {
  console.error("usage: node llama_cpp_run.mjs NODE_MODULES_DIR MODEL.gguf REQUEST.json");
  process.exit(2);
}
const request = JSON.parse(fs.readFileSync(requestPath, "utf8"));
const entry = path.join(modulesDir, "node-llama-cpp", "dist", "index.js");
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(entry).href);

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, gpuLayers: 0});

// Room beyond `length`: a sequence that fills its context is shifted (its first tokens dropped)
// before the next token is generated, which would change the last distribution.
async function newSequence(length) {
  const context = await model.createContext({
    contextSize: length + 16,
    sequences: 1,
    batchSize: length + 16,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
  });
  return {context, sequence: context.getSequence()};
}

// Map<token, prob> -> a dense array indexed by token id.
function dense(probabilities) {
  const out = new Array(request.vocab).fill(0);
  for (const [token, p] of probabilities) out[token] = p;
  return out;
}

const want = {generateNext: {token: true, probabilities: true}};
const result = {greedy: [], greedy_probs: [], score_probs: [], tokenized: []};
if (typeof request.text === "string") result.tokenized = Array.from(model.tokenize(request.text, false));

if (request.generate > 0) {
  const {context, sequence} = await newSequence(request.prompt.length + request.generate);
  let input = request.prompt.map((t, i) => (i === request.prompt.length - 1 ? [t, want] : t));
  for (let step = 0; step < request.generate; ++step) {
    const outputs = await sequence.controlledEvaluate(input);
    const next = outputs[input.length - 1].next;
    result.greedy.push(next.token);
    result.greedy_probs.push(dense(next.probabilities));
    input = [[next.token, want]];
  }
  await context.dispose();
}

if (request.score && request.score.length > 0) {
  const {context, sequence} = await newSequence(request.score.length);
  const from = request.score_from ?? 0;
  const input = request.score.map((t, i) => (i >= from ? [t, {generateNext: {probabilities: true}}] : t));
  const outputs = await sequence.controlledEvaluate(input);
  for (let i = from; i < input.length; ++i) result.score_probs.push(dense(outputs[i].next.probabilities));
  await context.dispose();
}

await model.dispose();
await llama.dispose();
process.stdout.write(JSON.stringify(result) + "\n");
