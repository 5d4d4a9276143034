"""Key phrases on the demo corpus: the KeyBERT-style extractor (``dailypapers.topics.keyphrases``) against YAKE.

    pip install yake==0.7.3        # the comparison only: YAKE is not a dependency of dailypapers
    python -m bench.keyphrases [--papers 100]

For the first ``--papers`` demo papers, both extract 5 phrases; measured for each:

* time per paper (the KeyBERT-style one embeds ~40 short texts a paper with MiniLM; YAKE counts words);
* **self-retrieval@1**: the phrases, joined, as a TF-IDF query over all 298 abstracts — how often the paper's own
  abstract ranks first (do the phrases say what sets the paper apart?). TF-IDF, not the embedding model, so the
  measure does not favour the extractor that uses the model;
* **in title**: the share of phrases whose every word is in the title (authors put their subject in the title);
* **junk**: the share of phrases that are a single word of under 4 letters or contain a digit-only word;
* **redundancy**: the mean word overlap (Jaccard) of a paper's phrase pairs (five variants of one phrase say less
  than five phrases).

Results go to ``bench/results/keyphrases.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from bench.corpus import load_demo
from dailypapers.topics.keyphrases import extract_many

RESULTS = Path(__file__).resolve().parent / "results" / "keyphrases.json"


def _yake(titles: list[str], abstracts: list[str]) -> list[list[str]]:
    import yake

    extractor = yake.KeywordExtractor(lan="en", n=3, top=5, dedupLim=0.7)
    return [
        [k.lower() for k, _ in extractor.extract_keywords(f"{t}. {a}")] for t, a in zip(titles, abstracts, strict=True)
    ]


def _redundancy(phrases: list[str]) -> float:
    """Mean word overlap (Jaccard) of the phrase pairs of one paper: 0 when no two share a word."""
    sets = [set(p.split()) for p in phrases]
    pairs = [(a, b) for i, a in enumerate(sets) for b in sets[i + 1 :]]
    return float(np.mean([len(a & b) / len(a | b) for a, b in pairs])) if pairs else 0.0


def _measure(name: str, phrases: list[list[str]], seconds: float, titles: list[str], abstracts: list[str],
             corpus: list[str]) -> dict:  # type: ignore[type-arg]  # fmt: skip
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True)
    docs = vectorizer.fit_transform(corpus)  # every demo paper competes; the measured ones come first
    queries = vectorizer.transform([" ".join(p) for p in phrases])
    ranks = np.asarray((queries @ docs.T).todense()).argmax(axis=1)
    found = float(np.mean([r == i for i, r in enumerate(ranks)]))
    words = [set(re.findall(r"[a-z0-9\-]+", t.lower())) for t in titles]
    in_title = np.mean([all(w in words[i] for w in p.split()) for i, ps in enumerate(phrases) for p in ps])
    junk = np.mean([(" " not in p and len(p) < 4) or any(w.isdigit() for w in p.split()) for ps in phrases for p in ps])
    redundancy = float(np.mean([_redundancy(p) for p in phrases]))
    return {"extractor": name, "ms_per_paper": round(1000 * seconds / len(phrases), 1), "self_retrieval_at_1":
            round(found, 3), "in_title": round(float(in_title), 3), "junk": round(float(junk), 3),
            "redundancy": round(redundancy, 3), "examples": phrases[:3]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100)
    args = parser.parse_args()
    demo = load_demo()
    n = args.papers
    titles, abstracts = demo.titles[:n], demo.abstracts[:n]
    from dailypapers.search.vectors.embedder import MiniLMEmbedder

    model = MiniLMEmbedder()
    model.embed(["warm up"])
    started = time.perf_counter()
    ours = extract_many(list(zip(titles, abstracts, demo.vectors[:n], strict=True)), model.embed)
    corpus = [f"{t}. {a}" for t, a in zip(demo.titles, demo.abstracts, strict=True)]
    keybert = _measure("keybert-style (MiniLM, MMR)", [e.phrases for e in ours], time.perf_counter() - started,
                       titles, abstracts, corpus)  # fmt: skip
    started = time.perf_counter()
    yake_phrases = _yake(titles, abstracts)
    yake = _measure("yake 0.7.3", yake_phrases, time.perf_counter() - started, titles, abstracts, corpus)
    # self-retrieval is scored over the papers measured only
    result = {"papers": n, "results": [keybert, yake], "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
