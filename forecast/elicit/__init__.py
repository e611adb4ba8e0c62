"""Expert statements as evidence: lexicons for verbal probability and time, and a free-text
assistant that proposes machine-readable claims from a quote (never silently evidence)."""

from forecast.elicit.lexicon import (
    PhraseReading,
    ProbabilityLexicon,
    TimeLexicon,
    TimeReading,
    load_probability_lexicon,
    load_role_weights,
    load_time_lexicon,
)
from forecast.elicit.parse import Lexicons, Proposal, format_proposal, propose

__all__ = [
    "Lexicons",
    "PhraseReading",
    "ProbabilityLexicon",
    "Proposal",
    "TimeLexicon",
    "TimeReading",
    "format_proposal",
    "load_probability_lexicon",
    "load_role_weights",
    "load_time_lexicon",
    "propose",
]
