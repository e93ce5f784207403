#!/usr/bin/env python3
"""Writes the tokenizer parity data under test/data/tokenizer/.

The Python `tokenizers` library is the oracle: this script trains small
byte-level BPE tokenizers, derives variants that exercise every supported
pre-tokenizer, model and added-token option, and records what `tokenizers`
returns for a test corpus. test/unit/tokenizer checks that mm::Tokenizer gives
the same ids, decoded strings, vocab sizes and id <-> token mappings.

Deterministic: rerunning it rewrites identical files.
    python3 scripts/oracle/make_tokenizer_data.py
"""
import copy
import json
import os
from pathlib import Path

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"

import tokenizers  # noqa: E402
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "test" / "data" / "tokenizer"

# The pre-tokenizer regex of MiniMax-Text-01's tokenizer.json.
MINIMAX_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
MINIMAX_SPECIALS = ["<beginning_of_sentence>", "<end_of_sentence>", "]~!b[", "]~b]", "[e~[", "<fim_prefix>"]

TRAINING_TEXT = """\
The quick brown fox jumps over the lazy dog. The dog doesn't care, and the fox won't stop.
I'LL be there at 10:30, she said; they've been waiting since 9am. We're late, aren't we?
Tokenizers split text into words, then merge bytes into tokens by rank.
Machine learning models read tokens, not characters: every byte matters.
人工智能正在改变世界。我们今天学习分词器的工作原理，明天继续训练模型。
中文文本没有空格，所以分词更加困难。大语言模型需要大量的数据。
日本語のテキストも含めます。東京は日本の首都です。ひらがなとカタカナ。
한국어 문장도 있습니다. 서울은 대한민국의 수도입니다. 감사합니다.
مرحبا بالعالم. اللغة العربية تكتب من اليمين إلى اليسار.
Привет, мир! Это предложение на русском языке. Москва — столица России.
नमस्ते दुनिया। यह हिंदी में एक वाक्य है। भारत एक बड़ा देश है।
Emoji are bytes too: 😀 🎉 👍🏽 ❤️ 🇫🇷 and combined 👨‍👩‍👧‍👦 families.
def tokenize(text: str) -> list[int]:
    return [vocab[t] for t in text.split()]  # simple
for (int i = 0; i < n; ++i) { sum += values[i] * 2; }
if (x != nullptr && y >= 0) return x->next;
Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 1000 2024 3.14159 -17 1,000,000 0xFF
Whitespace:\tcolumns\tsplit\tby\ttabs
    indented line with four spaces
\tand one with a tab

blank lines above and below

Mixed: Hello世界! naïve café résumé coöperate Zürich Ærøskøbing straße
URLs like https://example.com/path?query=1&x=y and emails like a.b@c.org
"Quotes" and 'single quotes' and `backticks` and (parentheses) [brackets] {braces}
"""


def training_lines():
    lines = TRAINING_TEXT.splitlines(keepends=True)
    # Repeat with small variations so that multi-character merges get learned.
    return [line for i in range(8) for line in lines] + [
        f"line {i}: the value is {i * 37 % 1000} and the word is {'abcdefghij'[i % 10] * 3}\n" for i in range(60)
    ]


# Text the tokenizers are tested on: none of it is in the training data verbatim.
CORPUS = [
    "",
    " ",
    "   ",
    "\n",
    "\n\n\n",
    "\t \t",
    " \n \n ",
    "Hello world",
    " Hello world",
    "Hello  world   with   spaces  ",
    "trailing space ",
    "The fox didn't jump; it's tired. You'RE sure? I'M sure, WE'VE checked, THEY'D know, he'S here, 'ſ",
    "don't DON'T Don'T can't I'll I'LL we'd",
    "Line one\nLine two\r\nLine three\rLine four\n\n  indented\n\ttabbed",
    "中文分词测试：今天天气很好，我们去公园散步。",
    "日本語のテキスト、カタカナ、ひらがな、漢字。",
    "한국어 테스트 문장입니다.",
    "اللغة العربية جميلة",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "हिंदी पाठ परीक्षण",
    "emoji 😀😃😄 🎉🎊 👍🏽👍🏿 🇯🇵🇰🇷 👨‍👩‍👧‍👦 ❤️‍🔥",
    "def f(x):\n    return x ** 2 + 3 * x - 1  # comment\n",
    "int main() { std::vector<int> v{1, 2, 3}; return v.size() > 2 ? 0 : 1; }",
    "1234567890123456789012345678901234567890",
    "3.14159265358979 2.71828 -0.5 1e-10 0x1F 1,234,567.89",
    "Unseen scripts: ქართული Ελληνικά ภาษาไทย עברית አማርኛ ᚠᛇᚻ",
    "Control \x00 \x01 \x1f \x7f chars and NBSP\u00a0and\u2003em space\u3000ideographic",
    "Combining: e\u0301 a\u0308 n\u0303 and precomposed é ä ñ",
    "Private use \ue000 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀𠀁",
    "Zero width\u200bspace\u200dand\ufeffBOM",
    "Mixed: Hello世界! naïve café 123abc abc123 a1b2c3",
    "!!!??? ... --- *** ### $$$ %%% ^^^ &&& ((( )))",
    "    leading spaces",
    "a",
    "aa aaa aaaa aaaaa",
    "https://huggingface.co/MiniMaxAI/MiniMax-Text-01?x=1&y=2#frag",
]

MINIMAX_CORPUS = CORPUS + [
    "<beginning_of_sentence>",
    "<beginning_of_sentence><end_of_sentence>",
    "<beginning_of_sentence>system ai_setting=assistant\nYou are helpful.<end_of_sentence>\n",
    "]~!b[]~b]user\nWhat is 2+2?[e~[\n]~b]ai\n",
    "text before <fim_prefix> text after",
    "<beginning_of_sentence  not closed <end_of_sentence",
    "<<end_of_sentence>>",
    "]~b]]~b]]~b",
    "  <end_of_sentence>  ",
]

GPT2_CORPUS = CORPUS + [
    "<|endoftext|>",
    "Hello<|endoftext|>World",
    "Hello <|endoftext|> World",
    "<|endoftext|><|endoftext|>",
    "<|endoftext|",
]

ADDED_CORPUS = CORPUS + [
    "<mask>",
    "a <mask> b",
    "a<mask>b",
    "x <mask>, y <mask>- z ◌̰<mask>",
    "Hi <mask> there\t<mask>\t<mask>\u2000",
    "say <sep>   next",
    "say <sep>",
    "before    [lsp] after",
    "[lsp][lsp]  [lsp]",
    "hello hello, HELLO helloworld",
    "wörld wörlds überwörld wörld!",
    "<mask>x <mask>xx <mask>",
    "<new_special> and <new_plain> and <gap_token>",
    "<dup>",
]

# Split behaviours, patterns and nesting, each on the small model.
SMALL_PRE_TOKENIZER_VARIANTS = {
    "split-removed": pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(r"\s+"), "removed"), pre_tokenizers.ByteLevel(False, use_regex=False)]
    ),
    "split-merged-with-previous": pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"[,.!?;:]"), "merged_with_previous"),
            pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False),
        ]
    ),
    "split-merged-with-next": pre_tokenizers.Sequence(
        [pre_tokenizers.Split(" ", "merged_with_next"), pre_tokenizers.ByteLevel(False, use_regex=False)]
    ),
    "split-contiguous": pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(r"\p{N}"), "contiguous"), pre_tokenizers.ByteLevel(False, use_regex=False)]
    ),
    "split-invert": pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"\p{L}+"), "removed", invert=True),
            pre_tokenizers.ByteLevel(False, use_regex=False),
        ]
    ),
    "split-empty-matches": pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"\s*"), "isolated"),
            pre_tokenizers.Split(Regex(r"(?=\p{Lu})"), "merged_with_next"),
            pre_tokenizers.ByteLevel(False, use_regex=False),
        ]
    ),
    "split-string-pattern": pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split("a.b", "isolated"),
            pre_tokenizers.Split("(", "removed"),
            pre_tokenizers.ByteLevel(False, use_regex=False),
        ]
    ),
    "nested-sequence": pre_tokenizers.Sequence(
        [
            pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(MINIMAX_PATTERN), "isolated")]),
            pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
        ]
    ),
    "byte-level-regex-only": pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
}

SPLIT_CORPUS_EXTRA = ["a.b a.ba.b aab (x) ((y)) a(b", "CamelCaseWordsHere andMore XMLHttpRequest", "x,y.z!!w"]


def train(pre_tokenizer, vocab_size, special_tokens):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_lines(), trainer=trainer)
    return json.loads(tokenizer.to_str())


def minimax_pre_tokenizer():
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(MINIMAX_PATTERN), "isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def pre_tokenizer_json(pre_tokenizer):
    probe = Tokenizer(models.BPE())
    probe.pre_tokenizer = pre_tokenizer
    return json.loads(probe.to_str())["pre_tokenizer"]


def added_token_entry(token_id, content, special, **flags):
    entry = {"id": token_id, "content": content, "single_word": False, "lstrip": False, "rstrip": False}
    entry.update(normalized=not special, special=special)
    entry.update(flags)
    return entry


def tiny_model(vocab_tokens, merges, **options):
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False}
    model.update(options)
    model["vocab"] = {token: i for i, token in enumerate(vocab_tokens)}
    model["merges"] = [list(m) for m in merges]
    return model


def tokenizer_json(model, pre_tokenizer=None, decoder=None, added_tokens=()):
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": list(added_tokens),
            "normalizer": None, "pre_tokenizer": pre_tokenizer, "post_processor": None, "decoder": decoder,
            "model": model}


BYTE_LEVEL_DECODER = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}


def build_tokenizer_files():
    """Returns {relative path: (tokenizer.json dict, corpus)}."""
    files = {}

    minimax = train(minimax_pre_tokenizer(), 1200, MINIMAX_SPECIALS)
    minimax["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                                 "use_regex": False}
    files["bpe-minimax-style/tokenizer.json"] = (minimax, MINIMAX_CORPUS)

    gpt2 = train(pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True), 1200, ["<|endoftext|>"])
    # GPT-2 ships merges.txt lines: keep the legacy "a b" form, header included.
    gpt2["model"]["merges"] = ["#version: 0.2"] + [f"{a} {b}" for a, b in gpt2["model"]["merges"]]
    files["bpe-gpt2-style/tokenizer.json"] = (gpt2, GPT2_CORPUS)

    small = train(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), 420, [])
    for name, pre_tokenizer in SMALL_PRE_TOKENIZER_VARIANTS.items():
        variant = copy.deepcopy(small)
        variant["pre_tokenizer"] = pre_tokenizer_json(pre_tokenizer)
        files[f"variants/{name}.json"] = (variant, CORPUS + SPLIT_CORPUS_EXTRA)

    untyped = copy.deepcopy(small)
    del untyped["model"]["type"]
    files["variants/model-without-type.json"] = (untyped, CORPUS)

    bare = copy.deepcopy(small)
    bare["pre_tokenizer"] = None
    bare["decoder"] = None
    files["variants/no-pre-tokenizer-no-decoder.json"] = (bare, CORPUS)

    # Added-token flags, ids assigned past the vocab, a stale id in the file
    # (tokenizers reassigns it) and a duplicate entry.
    flags = copy.deepcopy(small)
    flags["pre_tokenizer"] = pre_tokenizer_json(pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True))
    size = len(flags["model"]["vocab"])
    hello_id = flags["model"]["vocab"].get("hello", size + 100)
    flags["added_tokens"] = [
        added_token_entry(size, "<mask>", True, lstrip=True, rstrip=True, single_word=True),
        added_token_entry(size + 1, "<sep>", True, rstrip=True),
        added_token_entry(size + 2, "[lsp]", True, lstrip=True),
        added_token_entry(hello_id, "hello", False),
        added_token_entry(size + 3, "wörld", False, single_word=True),
        added_token_entry(size + 4, "<mask>xx", True),
        added_token_entry(size + 5, "<new_special>", True, normalized=True),
        added_token_entry(size + 6, "<new_plain>", False, normalized=False),
        added_token_entry(size + 50, "<gap_token>", True),
        added_token_entry(size + 7, "<dup>", True),
        added_token_entry(size + 7, "<dup>", True),
    ]
    files["variants/added-token-flags.json"] = (flags, ADDED_CORPUS)

    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    unk_merges = [("t", "h"), ("h", "e"), ("i", "n"), ("e", "r"), ("a", "n"), ("th", "e")]
    unk_vocab = ["<unk>"] + letters + ["th", "he", "in", "er", "an", "the"]
    whitespace_split = pre_tokenizer_json(pre_tokenizers.Split(Regex(r"\s+"), "removed"))
    for name, fuse in (("unk-fused", True), ("unk-unfused", False)):
        model = tiny_model(unk_vocab, unk_merges, unk_token="<unk>", fuse_unk=fuse)
        files[f"variants/{name}.json"] = (tokenizer_json(model, whitespace_split), CORPUS)

    # "abc" is in the vocab but its merges stop at "a" + "bc".
    ignore_vocab = ["a", "b", "c", "bc", "ab", "abc"]
    ignore_merges = [("b", "c"), ("a", "b"), ("ab", "c")]
    ignore_corpus = CORPUS + ["abc", "abc abcabc cab", "bcab"]
    for name, ignore in (("ignore-merges", True), ("use-merges", False)):
        model = tiny_model(ignore_vocab, ignore_merges, ignore_merges=ignore)
        files[f"variants/{name}.json"] = (tokenizer_json(model, whitespace_split), ignore_corpus)

    # A byte-level decoder over tokens that are not all alphabet characters.
    raw = tiny_model(["a", "Ġ", "Ã", "©", "x y", "ðŁĺ", "Ģ"], [])
    raw_added = [added_token_entry(7, "<|im start|>", True)]
    files["variants/byte-level-decoder-raw-tokens.json"] = (
        tokenizer_json(raw, None, BYTE_LEVEL_DECODER, raw_added), ["a", "x y", "<|im start|>a"])
    return files


def decode_cases(tokenizer, path):
    """Id sequences beyond encode round trips: specials, split UTF-8, raw tokens."""
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    by_token = lambda *tokens: [vocab[t] for t in tokens if t in vocab]  # noqa: E731
    cases = [[], list(range(min(40, tokenizer.get_vocab_size())))]
    # Bytes of "é" (Ã ©), "😀" (ð Ł ĺ Ģ) and their fragments, as single-byte tokens.
    cases += [by_token("Ã"), by_token("Ã", "©"), by_token("©", "Ã"), by_token("ð", "Ł"),
              by_token("ð", "Ł", "ĺ", "Ģ"), by_token("ð", "Ł", "ĺ", "a"), by_token("í", "ł", "Ģ"),
              by_token("à", "Ģ"), by_token("ô", "Ģ"), by_token("Ă", "a", "ÿ")]
    specials = sorted(i for t, i in vocab.items() if t in MINIMAX_SPECIALS + ["<|endoftext|>"])
    if specials:
        cases.append(specials + by_token("a") + specials[:1])
    if path.startswith("variants/byte-level-decoder"):
        cases += [[0, 4, 0], [5, 6], [7, 4, 7], [2, 3, 1, 4]]
    return [c for i, c in enumerate(cases) if c or i == 0]


def expectations(path, corpus):
    # Read back the committed file, so the oracle sees exactly what the C++ test loads.
    tokenizer = Tokenizer.from_file(str(OUT / path))
    vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
    cases = []
    for line in corpus:
        ids = tokenizer.encode(line, add_special_tokens=False).ids
        cases.append({"text": line, "ids": ids,
                      "decoded": tokenizer.decode(ids, skip_special_tokens=False),
                      "decoded_skip_special": tokenizer.decode(ids, skip_special_tokens=True)})
    decodes = [{"ids": ids, "decoded": tokenizer.decode(ids, skip_special_tokens=False),
                "decoded_skip_special": tokenizer.decode(ids, skip_special_tokens=True)}
               for ids in decode_cases(tokenizer, path)]
    max_id = max(tokenizer.get_vocab(with_added_tokens=True).values())
    id_to_token = [tokenizer.id_to_token(i) for i in range(max_id + 3)]
    added = tokenizer.get_added_tokens_decoder()
    special_ids = sorted(i for i, t in added.items() if t.special)
    return {"file": path, "vocab_size": vocab_size, "id_to_token": id_to_token,
            "special_ids": special_ids, "cases": cases, "decode_cases": decodes}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    files = build_tokenizer_files()
    results = []
    for path, (config, corpus) in files.items():
        target = OUT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(config, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        results.append(expectations(path, corpus))
    expected = {"generator": "scripts/oracle/make_tokenizer_data.py", "tokenizers_version": tokenizers.__version__,
                "tokenizers": results}
    (OUT / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, separators=(",", ":")) + "\n",
                                       encoding="utf-8")
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"wrote {len(files)} tokenizers and expected.json to {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
