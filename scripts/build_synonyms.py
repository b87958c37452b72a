"""Build bot/engine/synonyms.tsv.gz from WordNet 3.0 (Debian package `wordnet-base`).

Run on purpose, when the synonym table should change; the engine reads only the built table, so
answers never depend on what a machine has installed. Each line holds a term (a Snowball stem,
as the tokenizer makes them) and the stems of the words that share one of its most common
senses. Only a word's first senses are used: rare senses ("ask" = "require") add more noise
than they find answers.

    apt-get install wordnet-base && python scripts/build_synonyms.py
"""

from __future__ import annotations

import argparse
import gzip
from collections import defaultdict
from pathlib import Path

from bot.engine.tokenizer import STOPWORDS, base_terms

WORDNET = Path("/usr/share/wordnet")
OUTPUT = Path(__file__).resolve().parent.parent / "bot" / "engine" / "synonyms.tsv.gz"
PARTS = ("noun", "verb", "adj", "adv")


def read_synsets(part: str) -> dict[str, list[str]]:
    """Synset offset -> its single-word lemmas, for one part of speech."""
    synsets: dict[str, list[str]] = {}
    for line in (WORDNET / f"data.{part}").read_text("latin-1").splitlines():
        if line.startswith(" "):
            continue  # licence header
        fields = line.split()
        count = int(fields[3], 16)
        words = [fields[4 + 2 * i].lower() for i in range(count)]
        synsets[fields[0]] = [w.split("(")[0] for w in words if "_" not in w and "-" not in w]
    return synsets


def build(senses: int) -> dict[str, set[str]]:
    """Stem -> stems of its synonyms in the lemma's first `senses` senses."""
    table: dict[str, set[str]] = defaultdict(set)
    for part in PARTS:
        synsets = read_synsets(part)
        for line in (WORDNET / f"index.{part}").read_text("latin-1").splitlines():
            if line.startswith(" "):
                continue
            fields = line.split()
            lemma = fields[0]
            if "_" in lemma or "-" in lemma or lemma in STOPWORDS or not lemma.isalpha():
                continue
            pointer_count = int(fields[3])
            offsets = fields[6 + pointer_count :]
            stems = base_terms(lemma)
            if len(stems) != 1:
                continue
            stem = stems[0]
            for offset in offsets[:senses]:
                for word in synsets.get(offset, ()):
                    other = base_terms(word)
                    if len(other) == 1 and other[0] != stem and other[0].isalpha():
                        table[stem].add(other[0])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senses", type=int, default=3, help="senses per word to use")
    args = parser.parse_args()
    table = build(args.senses)
    lines = [f"{stem}\t{' '.join(sorted(others))}" for stem, others in sorted(table.items())]
    header = (
        "# Synonyms from WordNet 3.0, (c) 2006 Princeton University, used under the WordNet "
        "3.0 license (https://wordnet.princeton.edu/license-and-commercial-use).\n"
    )
    text = header + "\n".join(lines) + "\n"
    # mtime=0: the same WordNet gives the same bytes, so a rebuild shows no spurious change.
    OUTPUT.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{len(lines)} terms -> {OUTPUT} ({OUTPUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
