"""`earlypath valuesets`: every value set the record reader uses, with its code count, where
its codes were checked, and the files it was read from (packaged, and a site's own)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, Any

import typer

from earlypath.fhir.terminology import LoadedValueSet, load_value_sets

# A source is named by the text before its first " (" (a repository path, a specification),
# so codes checked in one public list count together however the note after it reads.
_SOURCE_END = " ("


def source_label(checked: str) -> str:
    """The short name of one 'checked' note: its text up to the first parenthesis."""
    label = checked.split(_SOURCE_END, 1)[0].strip()
    return label[:120]


def summarise(value_set: LoadedValueSet) -> dict[str, Any]:
    """One value set as a plain dict: counts by system and by source, and its files."""
    sources: Counter[str] = Counter()
    for code in value_set.codes:
        # one count per source per code (a code checked twice in one list counts once)
        sources.update({source_label(note) for note in code.checked_in})
    return {
        "name": value_set.name,
        "url": value_set.url,
        "title": value_set.title,
        "codes": len(value_set.codes),
        "systems": dict(Counter(code.system for code in value_set.codes).most_common()),
        "match_words": list(value_set.words),
        "checked_in": [{"source": s, "codes": n} for s, n in sources.most_common()],
        "files": {"packaged": value_set.origins[0], "site": list(value_set.origins[1:])},
    }


def _text(summary: dict[str, Any]) -> str:
    lines = [f"{summary['name']}: {summary['codes']} code(s) - {summary['title']}"]
    systems = ", ".join(f"{s} {n}" for s, n in summary["systems"].items())
    lines.append(f"  systems: {systems or '(none)'}")
    if summary["match_words"]:
        lines.append(f"  also matched by name: {', '.join(summary['match_words'])}")
    for item in summary["checked_in"]:
        lines.append(f"  checked in ({item['codes']}): {item['source']}")
    lines.append(f"  packaged: {summary['files']['packaged']}")
    for site in summary["files"]["site"]:
        lines.append(f"  site: {site}")
    return "\n".join(lines)


def valuesets_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    site: Annotated[
        str | None,
        typer.Option("--site", help="A folder of site value sets (default: $EARLYPATH_VALUESETS)."),
    ] = None,
) -> None:
    """List the value sets (codes read from FHIR records): counts, sources and files.

    A bad site file is an error naming the file (exit 2), as when the service starts.
    """
    summaries = [summarise(v) for _, v in sorted(load_value_sets(site).items())]
    if as_json:
        typer.echo(json.dumps({"value_sets": summaries}, indent=2, ensure_ascii=False))
        return
    typer.echo("\n\n".join(_text(s) for s in summaries))
