"""Search queries: web-search syntax (`"exact phrase"`, `or`, `-word`) plus prefix terms (`budg*`)."""

import re

from voxledger.gateway.domain.errors import Malformed
from voxledger.gateway.domain.validation import check_text

MAX_QUERY_CHARS = 256
_PREFIX = re.compile(r'(?<![\w"])(\w+)\*')  # a word ending in `*`, outside a quoted phrase


class SearchQuery:
    def __init__(self, text: str, prefixes: list[str]):
        self.text = text  # for websearch_to_tsquery
        self.prefixes = prefixes  # tsquery prefix terms, e.g. `budg:*`


def parse_query(q: str) -> SearchQuery:
    q = check_text(q, "q", 4 * MAX_QUERY_CHARS).strip()
    if not q:
        raise Malformed("invalid_query", "q must not be empty")
    if len(q) > MAX_QUERY_CHARS:
        raise Malformed("invalid_query", f"q must be at most {MAX_QUERY_CHARS} characters")
    outside, prefixes = [], []
    for i, part in enumerate(q.split('"')):
        if i % 2:  # inside quotes: a phrase, kept whole
            outside.append(f'"{part}"')
            continue
        prefixes += [f"{word.lower()}:*" for word in _PREFIX.findall(part)]
        outside.append(_PREFIX.sub(" ", part))
    text = " ".join(" ".join(outside).split())
    if not text.strip('" ') and not prefixes:
        raise Malformed("invalid_query", "q has no words to search for")
    return SearchQuery(text, prefixes)
