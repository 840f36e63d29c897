// The official openai npm package against `tessera serve`: completions, chat, streaming (the
// joined stream equals the whole response), logprobs, and errors surfacing as the client's error
// classes (401 AuthenticationError, 400 BadRequestError, 404 NotFoundError, 429 RateLimitError).
// Usage: node openai_client.cjs NODE_MODULES_DIR BASE_URL API_KEY MODEL
const { createRequire } = require("node:module");
const [dir, baseURL, apiKey, model] = process.argv.slice(2);
const OpenAI = createRequire(require("node:path").resolve(dir) + "/")("openai");
const assert = require("node:assert/strict");

async function expectError(cls, call, what) {
  try {
    await call();
  } catch (e) {
    assert.ok(e instanceof cls, `${what}: ${e.constructor.name} instead of ${cls.name}: ${e.message}`);
    assert.ok(e instanceof OpenAI.APIError && typeof e.status === "number", what);
    console.log(`ok: ${what} -> ${cls.name} (${e.status})`);
    return e;
  }
  assert.fail(`${what}: no error`);
}

(async () => {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
  const models = await client.models.list();
  assert.equal(models.data[0].id, model);

  const prompt = "Notes 你好 🌍";
  const whole = await client.completions.create({ model, prompt, max_tokens: 24, logprobs: 2, ignore_eos: true });
  assert.equal(whole.choices[0].logprobs.tokens.length, 24);
  assert.equal(whole.usage.completion_tokens, 24);
  let streamed = "";
  for await (const chunk of await client.completions.create({ model, prompt, max_tokens: 24, ignore_eos: true, stream: true })) {
    streamed += chunk.choices[0]?.text ?? "";
  }
  assert.equal(streamed, whole.choices[0].text);
  console.log(`ok: completions, logprobs, streaming (${Buffer.byteLength(streamed)} bytes, equal)`);

  const messages = [{ role: "user", content: "A note 🎉" }];
  const chat = await client.chat.completions.create({ model, messages, max_tokens: 16, logprobs: true, top_logprobs: 2 });
  assert.equal(chat.choices[0].message.role, "assistant");
  assert.equal(chat.choices[0].logprobs.content.length, chat.usage.completion_tokens);
  let chatStreamed = "";
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 16, stream: true,
                                                        stream_options: { include_usage: true } });
  let usage = null;
  for await (const chunk of stream) {
    chatStreamed += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(chatStreamed, chat.choices[0].message.content);
  assert.equal(usage.completion_tokens, chat.usage.completion_tokens);
  console.log("ok: chat, chat logprobs, chat streaming with usage");

  await expectError(OpenAI.AuthenticationError, () =>
    new OpenAI({ baseURL, apiKey: "wrong", maxRetries: 0 }).models.list(), "a wrong key");
  await expectError(OpenAI.BadRequestError, () => client.completions.create({ model, prompt: "a", max_tokens: -1 }),
                    "negative max_tokens");
  await expectError(OpenAI.BadRequestError, () => client.chat.completions.create({ model, messages: [] }), "no messages");
  await expectError(OpenAI.NotFoundError, () => client.completions.create({ model: "gpt-4", prompt: "a" }), "an unknown model");
  const e = await expectError(OpenAI.RateLimitError, () =>
    client.completions.create({ model, prompt: Array(50).fill(100), max_tokens: 2 }), "beyond the queued tokens");
  assert.ok(Number(e.headers.get("retry-after")) >= 1, "Retry-After");
  console.log("openai client: all passed");
})().catch((e) => {
  console.error("FAIL:", e);
  process.exit(1);
});
