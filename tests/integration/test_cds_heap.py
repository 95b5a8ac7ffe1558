"""At start-up the service builds what the first call would build (the compiled record
reading, `cds.warm_up`), then freezes what survives, so no long collector pause falls in a call
(`earlypath.web.heap`, docs/speed-cds.md). Run in a fresh process: the freeze is once per
process, and the test process has built apps and read records before."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import gc, tempfile
    from fastapi.testclient import TestClient
    from earlypath.engines import python as engine
    from earlypath.fhir import card_text
    from earlypath.records import python as records
    from earlypath.web.app import create_app
    from earlypath.web.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(auth=False, feedback_db=f"sqlite:///{tmp}/fb.sqlite3")
        app = create_app(settings)
        assert gc.get_freeze_count() == 0, "frozen before start-up"
        assert not records._compiled, "the reading compiled before start-up"
        garbage = []
        garbage.append(garbage)  # a cycle: collected at start-up, not frozen
        del garbage
        with TestClient(app):
            frozen = gc.get_freeze_count()
            compiled = len(records._compiled)
            # the card's key function (section key and gestation) of the version in force
            version = engine.resolve_version(app.state.today(), None)[0]
            card_keys = len(engine._progesterone(version.version, app.state.policy).card_key)
            cards_kept = len(card_text._by_engine_key)  # a made-up woman's (card_text.warm_up_cards)
        with TestClient(create_app(settings)):
            again = gc.get_freeze_count()
    print(frozen, again, compiled, card_keys, cards_kept)
    """
)


def test_start_up_builds_the_reading_and_freezes_the_heap_once_per_process() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frozen, again, compiled, card_keys, cards_kept = (int(x) for x in out.stdout.split())
    assert compiled >= 1  # the record reading was compiled before any call
    assert card_keys == 1  # and the card's key function built
    assert cards_kept == 1  # and an eligible woman's card made, her decision's code run warm
    assert frozen > 10_000  # the imported modules, FastAPI, the guideline, the value sets
    # a second app in the same process does not freeze again (its objects would add to the
    # count; frozen objects freed by reference counting leave it)
    assert again <= frozen
