"""Getting the FHIR data a CDS service needs: from prefetch, else from the client's FHIR server.

Never decide on partial or foreign data. For each prefetch key the result is either complete or
"unavailable" (`DataUnavailable`; the service answers 412, as CDS Hooks asks):
- a Bundle with a `next` link is read to its last page from `fhirServer` (with the token); with no
  `fhirServer`, or past `MAX_PAGES`, the query is unavailable, never answered from page 1 alone;
- a `next` link outside the `fhirServer` base is refused (`LinkRefused`): nothing is sent there;
- an OperationOutcome, a Bundle carrying an error OperationOutcome (or one of any severity
  saying the results are partial: incomplete, too-costly, suppressed...) or a failed entry, a Bundle
  with fewer entries than its `total`, or a value that is neither a Bundle nor the resource type
  the template asks for is unavailable, never "no data". A prefetched value like that is fetched
  afresh from `fhirServer` when there is one;
- a resource about another patient than `context.patientId`, or one that cannot be tied to her,
  fails the call (`ForeignPatient`, see `patient_scope`). The identifiers of her Patient (the
  `patient` key, read first) tie a subject given only by `identifier`.
A key absent from prefetch is fetched from `fhirServer`; a required one that cannot be is
unavailable, an optional one (the Patient, allergies) is left out. Every key is read the same way,
her MedicationStatements as her MedicationRequests (both say whether she is on progesterone). A key sent as null means
"no data" (an empty result), not "missing".
Nothing here logs URLs, tokens or resources; the exceptions carry data-free reasons only.
"""

from __future__ import annotations

from typing import Any

import httpx

from earlypath.fhir.mapping import OpenedResources
from earlypath.fhir.merged import merged_ids
from earlypath.fhir.outcomes import says_data_missing
from earlypath.web.fhir_urls import FhirBase, TemplateUnfillable, expected_type, is_read
from earlypath.web.patient_scope import (
    Identifier,
    ScopeProblem,
    patient_identifiers,
    scope_problem,
    walked_problem,
)

MAX_PAGES = 20  # pages per query; a record needing more is unavailable, never cut short


class DataUnavailable(Exception):
    """Required FHIR data is not available complete; `kind` is data-free.

    `retry`: whether fetching the query afresh from `fhirServer` may help.
    """

    def __init__(self, kind: str, key: str | None = None, *, retry: bool = True):
        super().__init__(kind)
        self.kind = kind
        self.key = key
        self.retry = retry


class LinkRefused(DataUnavailable):
    """A page link points outside the `fhirServer` base: refused, never followed."""

    def __init__(self, key: str | None = None):
        super().__init__("next page link is outside fhirServer; not followed", key, retry=False)


class ForeignPatient(Exception):
    """A resource in `field` is about another patient than `context.patientId`, or cannot be
    tied to her (`problem` says which, data-free)."""

    def __init__(self, field: str, problem: ScopeProblem):
        super().__init__(field)
        self.field = field
        self.problem = problem


# An OperationOutcome saying data is missing (an error, or a partial answer of any severity): the
# one rule the audit's export error files are read by too.
_has_error = says_data_missing


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    entries = bundle.get("entry")
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise DataUnavailable("a Bundle with malformed entries")
    return entries


def _check_page(bundle: dict[str, Any]) -> int:
    """Raise if a Bundle page reports a failure; return how many search matches it holds."""
    matches = 0
    for entry in _entries(bundle):
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            if _has_error(resource):
                raise DataUnavailable("a Bundle carrying an error OperationOutcome")
            continue
        if isinstance(resource, dict) and resource.get("resourceType") == "Bundle":
            _check_inner(resource)
        response = entry.get("response")
        if isinstance(response, dict) and not str(response.get("status", "")).startswith("2"):
            raise DataUnavailable("a Bundle entry that failed")
        found = entry.get("search")
        search = found if isinstance(found, dict) else {}
        if isinstance(resource, dict) and search.get("mode", "match") == "match":
            matches += 1
    return matches


def _check_inner(bundle: dict[str, Any]) -> None:
    """A Bundle inside a Bundle (a batch-response holds each search's searchset Bundle, FHIR R4
    http.html#transaction-response) is read by the record reading as its entries are: it must be
    whole as a page is. Its failures, its partial outcomes and its `total` are checked; a next
    page of it is not followed here (its link would have to be read as the outer page's is):
    unavailable, fetched afresh from `fhirServer` when there is one."""
    matches = _check_page(bundle)
    if _next_link(bundle) is not None:
        raise DataUnavailable("a Bundle inside a Bundle with a next page")
    total = bundle.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > matches:
        raise DataUnavailable("a Bundle inside a Bundle with fewer entries than its total")


def _next_link(bundle: dict[str, Any]) -> Any:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if not isinstance(url, str) or not url.strip():
                raise DataUnavailable("a next page link without a URL", retry=False)
            return url
    return None


def _answers_the_read(data: Any, template: str) -> bool:
    """A Patient with no id answering `Patient/{{context.patientId}}`: the read named her.

    The CDS Hooks spec's own prefetch example sends the Patient without its id. One that
    carries an id is still checked against `context.patientId` (a mix-up is refused).
    """
    return (
        is_read(template)
        and expected_type(template) == "Patient"
        and isinstance(data, dict)
        and data.get("resourceType") == "Patient"
        and data.get("id") is None
    )


class _Reader:
    """Reads one CDS call's prefetch keys, fetching from the FHIR server when it must."""

    def __init__(
        self,
        client: httpx.AsyncClient | None,
        base: FhirBase | None,
        headers: dict[str, str],
        context: dict[str, Any],
    ):
        self.client = client
        self.base = base
        self.headers = headers
        self.context = context
        self.patient_id = str(context.get("patientId"))
        self.identifiers: frozenset[Identifier] = frozenset()  # her Patient's, once read
        self.merged: frozenset[str] = frozenset()  # the records her Patient replaces, once read

    def _in_scope(self, data: Any, key: str, template: str = "") -> None:
        if _answers_the_read(data, template):
            return
        problem = scope_problem(data, self.patient_id, self.identifiers, self.merged)
        if problem is not None:
            raise ForeignPatient(f"prefetch.{key}", problem)

    def keep_identifiers(self, resources: list[dict[str, Any]]) -> None:
        """Her Patient's identifiers and the records it replaces, from resources already
        checked to be hers."""
        self.identifiers |= patient_identifiers(resources)
        if any(r.get("resourceType") == "Patient" and "link" in r for r in resources):
            self.merged |= merged_ids(resources, self.patient_id)

    async def _get(self, url: str, params: list[tuple[str, str]] | None = None) -> Any:
        """The JSON body of a 200 answer; None for a 404; else unavailable."""
        if self.client is None:
            raise DataUnavailable("no fhirServer")
        try:
            # A tuple: httpx types its query pairs with a wider value type than str.
            query = tuple(params) if params is not None else None
            response = await self.client.get(url, params=query, headers=self.headers)
        except httpx.HTTPError:
            raise DataUnavailable("fhir server unreachable") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DataUnavailable(f"fhir server answered {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise DataUnavailable("fhir server sent non-JSON") from None

    async def _pages(self, first: dict[str, Any], key: str) -> list[dict[str, Any]]:
        """A Bundle and all its next pages, checked; unavailable if any part is missing."""
        pages = [first]
        matches = _check_page(first)
        page = first
        while (link := _next_link(page)) is not None:
            if self.base is None or self.client is None:
                raise DataUnavailable("paginated Bundle and no fhirServer", retry=False)
            url = self.base.resolve(link)
            if url is None:
                raise LinkRefused(key)
            if len(pages) >= MAX_PAGES:
                raise DataUnavailable(f"more than {MAX_PAGES} pages", retry=False)
            page = await self._get(url)
            if not isinstance(page, dict) or page.get("resourceType") != "Bundle":
                raise DataUnavailable("a next page that is not a Bundle")
            self._in_scope(page, key)
            matches += _check_page(page)
            pages.append(page)
        total = first.get("total")
        if isinstance(total, int) and not isinstance(total, bool) and total > matches:
            raise DataUnavailable("fewer entries than the Bundle total")
        return pages

    async def _value(self, value: Any, key: str, template: str) -> list[dict[str, Any]]:
        """One prefetched or fetched value: a Bundle (read to the end) or a resource."""
        if not isinstance(value, dict):
            raise DataUnavailable("a value that is not a FHIR resource")
        kind = value.get("resourceType")
        if kind == "OperationOutcome":
            raise DataUnavailable("an OperationOutcome")
        if kind == "Bundle":
            return await self._pages(value, key)
        if kind != expected_type(template):
            raise DataUnavailable("neither a Bundle nor the resource type asked for")
        return [value]

    async def prefetched(self, key: str, template: str, value: Any) -> list[dict[str, Any]]:
        if value is None:
            return []  # null: the client looked and found nothing
        self._in_scope(value, key, template)
        try:
            return await self._value(value, key, template)
        except DataUnavailable as error:
            error.key = key
            if not error.retry or self.client is None:
                raise
        return await self.fetch(key, template)

    async def fetch(self, key: str, template: str) -> list[dict[str, Any]]:
        if self.base is None or self.client is None:
            raise DataUnavailable("prefetch missing and no fhirServer", key)
        try:
            url, params = self.base.query(template, self.context)
        except TemplateUnfillable as error:
            raise DataUnavailable(str(error), key) from None
        try:
            body = await self._get(url, params)
            if body is None:
                if is_read(template):
                    return []  # a read of a resource that does not exist: no data
                raise DataUnavailable("fhir server answered 404")
            self._in_scope(body, key, template)
            if not is_read(template) and (
                not isinstance(body, dict) or body.get("resourceType") != "Bundle"
            ):
                raise DataUnavailable("a search answered with something other than a Bundle")
            return await self._value(body, key, template)
        except DataUnavailable as error:
            error.key = key
            raise


def _bearer(request: dict[str, Any]) -> dict[str, str]:
    headers = {"Accept": "application/fhir+json"}
    auth = request.get("fhirAuthorization")
    if isinstance(auth, dict) and isinstance(auth.get("access_token"), str):
        headers["Authorization"] = f"Bearer {auth['access_token']}"
    return headers


def _whole_page(bundle: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """A prefetched Bundle read in one pass, when it is whole and plain: its resources in order
    and each entry's fullUrl (as `patient_scope` walks them), with `_check_page`, `_next_link`
    and the `total` check of `_Reader._pages` passed. None when anything needs more than that:
    a failure, a next page, a nested Bundle, an entry or resource that is not an object, ...
    (the caller then reads the call the general way, which answers for it)."""
    entries = bundle.get("entry")
    if not entries and (entries is None or type(entries) is list):
        # no entries (most of a call's searches): only the page's own checks
        return ([], {}) if _page_ends(bundle, 0) else None
    if type(entries) is not list:
        return None
    resources: list[dict[str, Any]] = []
    full_urls: dict[str, Any] = {}
    matches = 0
    for entry in entries:
        if type(entry) is not dict:
            return None
        resource = entry.get("resource")
        response = entry.get("response")
        if response is not None and not (
            isinstance(response, dict) and str(response.get("status", "")).startswith("2")
        ):
            return None  # a failed entry (or a malformed response): the general way says so
        if resource is None:
            continue
        if type(resource) is not dict:
            return None
        kind = resource.get("resourceType")
        if kind == "Bundle" or (kind == "OperationOutcome" and _has_error(resource)):
            return None
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str):
            full_urls[full_url] = resource
        resources.append(resource)
        if kind != "OperationOutcome":
            found = entry.get("search")
            search = found if isinstance(found, dict) else {}
            if search.get("mode", "match") == "match":
                matches += 1
    return (resources, full_urls) if _page_ends(bundle, matches) else None


def _page_ends(bundle: dict[str, Any], matches: int) -> bool:
    """Is a page with ``matches`` search matches its search's last and whole: no `next` link,
    and no `total` above the matches (`_Reader._pages`' checks)?"""
    links = bundle.get("link")
    if isinstance(links, list) and any(
        isinstance(link, dict) and link.get("relation") == "next" for link in links
    ):
        return False
    total = bundle.get("total")
    return not (isinstance(total, int) and not isinstance(total, bool) and total > matches)


def read_prefetched(
    templates: dict[str, str], request: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """`gather`'s resources in the usual case, without its general machinery: every key
    prefetched, each value null, the resource asked for or one whole Bundle page, nothing failed
    and every resource hers. Each Bundle is walked once for its page checks and the patient
    scope, and the resources come out with the Bundles opened (as the record reading opens
    them). None for anything else: `gather` then reads the call and answers for it (412, 422,
    a fetch from `fhirServer`), so no refusal is written twice."""
    sent, said = request.get("prefetch"), request.get("context")
    if type(sent) is not dict or type(said) is not dict:
        return None
    patient_id = str(said.get("patientId"))
    identifiers: frozenset[Identifier] = frozenset()
    merged: frozenset[str] = frozenset()  # the records her Patient replaces (`patient_scope`)
    out = OpenedResources()  # each a dict, none a Bundle: the reading need not walk it again
    for key, template in templates.items():
        if key not in sent:
            return None
        value = sent[key]
        if value is None:
            continue  # null: the client looked and found nothing
        if type(value) is not dict:
            return None
        kind = value.get("resourceType")
        if kind == "Bundle":
            page = _whole_page(value)
            if page is None:
                return None
            resources, full_urls = page
            # an empty page (most of a call's searches) has nothing to tie to her
            if resources and (
                walked_problem(resources, full_urls, patient_id, identifiers, merged) is not None
            ):
                return None
            out += resources
            continue
        if kind == "OperationOutcome" or kind != expected_type(template):
            return None
        if kind == "Patient" and value.get("id") == patient_id:
            pass  # her own Patient, by her id: hers, as `scope_problem` reads it (no walk)
        elif (
            not _answers_the_read(value, template)
            and scope_problem(value, patient_id, identifiers, merged) is not None
        ):
            return None
        out.append(value)
        if kind == "Patient":
            if "identifier" in value:  # none listed: none to add
                identifiers |= patient_identifiers((value,))
            if "link" in value:
                merged |= merged_ids((value,), patient_id)
    return out


async def gather(
    templates: dict[str, str],
    required: tuple[str, ...],
    request: dict[str, Any],
    transport: httpx.AsyncBaseTransport | None = None,
    left_out: list[str] | None = None,
) -> list[dict[str, Any]]:
    """All resources for the prefetch keys (prefetched or fetched), complete, in key order.

    Raises `DataUnavailable` (answer 412) or `ForeignPatient` (refuse the call). The optional
    keys that were neither sent nor fetched are added to `left_out`: unknown, not empty.
    """
    ready = read_prefetched(templates, request)
    if ready is not None:
        return ready  # the usual call: all prefetched, whole and hers
    sent, said = request.get("prefetch"), request.get("context")
    prefetch: dict[str, Any] = sent if isinstance(sent, dict) else {}
    context: dict[str, Any] = said if isinstance(said, dict) else {}
    base = FhirBase.parse(request.get("fhirServer"))
    client = None
    if base is not None:
        # No redirects: a 3xx could carry the token to another host.
        client = httpx.AsyncClient(timeout=5.0, transport=transport, follow_redirects=False)
    reader = _Reader(client, base, _bearer(request), context)
    resources: list[dict[str, Any]] = []
    try:
        for key, template in templates.items():
            if key in prefetch:
                # Sent but unusable is unavailable, required or not: never read as "none".
                read = await reader.prefetched(key, template, prefetch[key])
                resources.extend(read)
                reader.keep_identifiers(read)
                continue
            try:
                read = await reader.fetch(key, template)
                resources.extend(read)
                reader.keep_identifiers(read)
            except DataUnavailable as error:
                if key in required or isinstance(error, LinkRefused):
                    raise
                # optional data the client did not send (the Patient, allergies): go on without
                # it, and say so (allergies left out are unknown, not "none")
                if left_out is not None:
                    left_out.append(key)
    finally:
        if client is not None:
            await client.aclose()
    return resources


async def gather_merged(
    templates: dict[str, str],
    required: tuple[str, ...],
    request: dict[str, Any],
    merged: list[str],
    transport: httpx.AsyncBaseTransport | None = None,
    left_out: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The resources still under the records her Patient ``replaces`` (``merged``), fetched
    from `fhirServer` by the same templates with each merged record's id as the patient (FHIR R4
    Patient.link ``replaces``: the merged record "should be consulted to retrieve additional
    referenced information"). The Patient key is not fetched (her own Patient is the record in
    use). Each answer is checked as any fetched answer, with the merged record as its patient.

    Raises `DataUnavailable` when there is no `fhirServer` or a required query fails (what the
    merged record holds is then unknown) and `ForeignPatient` for another patient's data."""
    base = FhirBase.parse(request.get("fhirServer"))
    if base is None:
        raise DataUnavailable("merged record not sent and no fhirServer")
    said = request.get("context")
    context: dict[str, Any] = said if isinstance(said, dict) else {}
    client = httpx.AsyncClient(timeout=5.0, transport=transport, follow_redirects=False)
    resources: list[dict[str, Any]] = []
    try:
        for merged_id in merged:
            reader = _Reader(client, base, _bearer(request), {**context, "patientId": merged_id})
            for key, template in templates.items():
                if expected_type(template) == "Patient":
                    continue
                try:
                    resources.extend(await reader.fetch(key, template))
                except DataUnavailable as error:
                    if key in required or isinstance(error, LinkRefused):
                        raise
                    if left_out is not None and key not in left_out:
                        left_out.append(key)  # optional (allergies): unknown, as for hers
    finally:
        await client.aclose()
    return resources
