"""The items a row spec reads as resources of their own (`earlypath.records.ir.ItemRows`), for the
Python engines (the closures, the fused row functions and the generated reading all call this).
The ibis compiler writes the same as an unnest (`earlypath.records.ibis_compile`)."""

from __future__ import annotations

from typing import Any

from earlypath.records.ir import ItemRows

__all__ = ["item_resources", "with_items", "with_its_items"]


def item_resources(resource: dict[str, Any], items: ItemRows) -> list[dict[str, Any]]:
    """One JSON object per item of ``resource[items.path]`` (none when that is not a list): the
    resource without the list and its ``own`` keys, with the item's ``own`` keys (or, with
    ``whole``, the item itself at that key)."""
    listed = resource.get(items.path)
    if type(listed) is not list or not listed:
        return []
    own, whole = items.own, items.whole
    base = {k: v for k, v in resource.items() if k != items.path and k not in own and k != whole}
    out = []
    for item in listed:
        row = dict(base)
        if whole is not None:
            row[whole] = item
        elif type(item) is dict:
            row.update((k, item[k]) for k in own if k in item)
        out.append(row)
    return out


def with_its_items(resource: dict[str, Any], items: ItemRows) -> list[dict[str, Any]]:
    """The resource, then its items as resources of their own (with ``whole``, the items only)."""
    if items.whole is not None:
        return item_resources(resource, items)
    return [resource, *item_resources(resource, items)]


def with_items(
    listed: list[tuple[int, dict[str, Any]]], items: ItemRows
) -> list[tuple[int, dict[str, Any]]]:
    """(n, resource) pairs, each resource followed by its items (numbered as it is)."""
    out = []
    for n, resource in listed:
        if items.whole is None:
            out.append((n, resource))
        out += [(n, item) for item in item_resources(resource, items)]
    return out
