"""How a comment's sentiment is scored: the AFINN comparative score, positive / neutral / negative by its sign.

The word list and the scorer are the `afinn` package's (Finn Årup Nielsen's AFINN lexicon, words rated -5..+5),
used through its public `Afinn.score` (sum of the ratings of the words and phrases found, lower-cased) and
`Afinn.split` (the text's words, `\\w+`). The package has no comparative method, so the comparative score is
computed the way the `sentiment` family of tools defines it: the sum divided by the number of words. A short
"love it" and a long comment that mentions "love" once thus differ, and the score stays in -5..+5.

A text with no word at all (only emoji or punctuation) cannot be scored: its score is `None` and it is counted
as a comment but not as analyzed. Scores are computed once, when a comment is stored.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from afinn import Afinn

__all__ = ["Sentiment", "comparative_score", "sentiment_of"]

Sentiment = Literal["positive", "neutral", "negative"]


@functools.cache
def _afinn() -> Afinn:
    """One English scorer per process (building it reads and compiles the word list), imported when first
    needed so that a server which never scores comments does not load it."""
    from afinn import Afinn

    return Afinn(language="en", emoticons=False)


def comparative_score(text: str) -> float | None:
    """The AFINN comparative score of `text`: the sum of its word ratings over its number of words.

    Returns:
        The score (negative leans negative), or `None` when the text has no word to score.
    """
    scorer = _afinn()
    words = scorer.split(text)
    if not words:
        return None
    return float(scorer.score(text)) / len(words)


def sentiment_of(score: float | None) -> Sentiment | None:
    """`positive` above zero, `negative` below, `neutral` at zero; `None` for a comment that was not analyzed."""
    if score is None:
        return None
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"
