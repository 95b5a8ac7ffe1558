"""The items a row spec reads as resources of their own (`earlypath.records.ir.ItemRows`), for the
Python engines (the closures, the fused row functions and the generated reading all call this).
The ibis compiler writes the same as an unnest (`earlypath.records.ibis_compile`)."""

from __future__ import annotations

from typing import Any

from earlypath.records.ir import ItemRows

__all__ = ["item_resources", "items_only", "ref_source", "with_items", "with_its_items"]


def items_only(items: ItemRows) -> bool:
    """Do only the items give rows (not the resource itself)?"""
    return items.whole is not None or items.container is not None


def ref_source(row: dict[str, Any], items: ItemRows | None) -> dict[str, Any]:
    """The JSON object a row's ``ref`` is read from: the resource, which for an item read with
    ``container`` is at that key (the item has its own id and type)."""
    if items is None or items.container is None:
        return row
    container = row.get(items.container)
    return container if type(container) is dict else {}


def item_resources(resource: dict[str, Any], items: ItemRows) -> list[dict[str, Any]]:
    """One JSON object per item of ``resource[items.path]`` (none when that is not a list): the
    resource without the list and its ``own`` keys, with the item's ``own`` keys (or, with
    ``whole``, the item itself at that key; with ``container``, the item itself with the resource
    at that key), each followed by its own items when ``items.then`` reads them."""
    out = _items_of(resource, items)
    if items.then is None:
        return out
    # each item's own items after it (a contained panel, then its components)
    return [row for item in out for row in with_its_items(item, items.then)]


def _items_of(resource: dict[str, Any], items: ItemRows) -> list[dict[str, Any]]:
    """`item_resources` of one level (``items.then`` not read)."""
    listed = resource.get(items.path)
    if type(listed) is not list or not listed:
        return []
    if items.container is not None:
        container = {k: v for k, v in resource.items() if k != items.path}
        return [
            {**(item if type(item) is dict else {}), items.container: container} for item in listed
        ]
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
    """The resource, then its items as resources of their own (with ``whole`` or ``container``,
    the items only)."""
    if items_only(items):
        return item_resources(resource, items)
    return [resource, *item_resources(resource, items)]


def with_items(
    listed: list[tuple[int, dict[str, Any]]], items: ItemRows
) -> list[tuple[int, dict[str, Any]]]:
    """(n, resource) pairs, each resource followed by its items (numbered as it is)."""
    out = []
    for n, resource in listed:
        if not items_only(items):
            out.append((n, resource))
        out += [(n, item) for item in item_resources(resource, items)]
    return out
