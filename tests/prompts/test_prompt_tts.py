from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr_engine.prompts import EspeakSynthesizer, SynthesisError, TtsCache, inspect_wav, sound_uri
from ivr_engine.prompts.tts import CACHE_DIR_MODE

from .conftest import FakeSynthesizer


async def test_concurrent_requests_for_the_same_text_synthesise_once(tmp_path: Path) -> None:
    synth = FakeSynthesizer(delay=0.05)
    cache = TtsCache(tmp_path / "tts", synth)
    paths = await asyncio.gather(*(cache.synthesize("Your balance is 12 dollars.", "en") for _ in range(8)))
    assert len(set(paths)) == 1
    assert synth.calls == [("Your balance is 12 dollars.", "en")]
    assert paths[0].is_file()
    assert paths[0].is_absolute()


async def test_cached_text_is_not_synthesised_again(tmp_path: Path) -> None:
    synth = FakeSynthesizer()
    first = await TtsCache(tmp_path, synth).synthesize("Order A1001 has shipped.", "en")
    again = await TtsCache(tmp_path, synth).synthesize("Order  A1001 has\nshipped.", "en")
    assert again == first
    assert len(synth.calls) == 1


async def test_different_text_or_language_gets_its_own_file(tmp_path: Path) -> None:
    synth = FakeSynthesizer(delay=0.02)
    cache = TtsCache(tmp_path, synth)
    a, b, c = await asyncio.gather(
        cache.synthesize("one", "en"), cache.synthesize("two", "en"), cache.synthesize("one", "es")
    )
    assert len({a, b, c}) == 3
    assert sorted(synth.calls) == [("one", "en"), ("one", "es"), ("two", "en")]
    assert a.parent.name == "en"
    assert c.parent.name == "es"


async def test_synthesis_runs_off_the_event_loop(tmp_path: Path) -> None:
    cache = TtsCache(tmp_path, FakeSynthesizer(delay=0.2))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await cache.synthesize("slow", "en")
    task.cancel()
    assert ticks >= 5, "the event loop was blocked while synthesising"


async def test_a_cancelled_waiter_does_not_cancel_the_shared_synthesis(tmp_path: Path) -> None:
    synth = FakeSynthesizer(delay=0.1)
    cache = TtsCache(tmp_path, synth)
    hung_up = asyncio.create_task(cache.synthesize("shared", "en"))
    listener = asyncio.create_task(cache.synthesize("shared", "en"))
    await asyncio.sleep(0.02)
    hung_up.cancel()
    path = await listener
    assert path.is_file()
    assert len(synth.calls) == 1
    with pytest.raises(asyncio.CancelledError):
        await hung_up


async def test_failure_reaches_every_waiter_and_a_retry_can_succeed(tmp_path: Path) -> None:
    synth = FakeSynthesizer(delay=0.02, fail_on="bad")
    cache = TtsCache(tmp_path, synth)
    results = await asyncio.gather(
        cache.synthesize("bad text", "en"), cache.synthesize("bad text", "en"), return_exceptions=True
    )
    assert all(isinstance(r, SynthesisError) for r in results)
    assert len(synth.calls) == 1
    synth.fail_on = None
    path = await cache.synthesize("bad text", "en")
    assert path.is_file()


async def test_empty_text_and_bad_language_are_refused(tmp_path: Path) -> None:
    cache = TtsCache(tmp_path, FakeSynthesizer())
    with pytest.raises(SynthesisError, match="empty"):
        await cache.synthesize("   ", "en")
    with pytest.raises(SynthesisError, match="not a language code"):
        await cache.synthesize("hi", "../etc")


async def test_for_language_gives_the_resolver_a_one_argument_synthesiser(tmp_path: Path) -> None:
    synth = FakeSynthesizer()
    speak = TtsCache(tmp_path, synth).for_language("es")
    path = await speak("Hola.")
    assert synth.calls == [("Hola.", "es")]
    assert sound_uri(path) == f"sound:{path.with_suffix('')}"
    assert not sound_uri(path).endswith(".wav")


async def test_real_tts_output_is_telephone_audio(tmp_path: Path, espeak: EspeakSynthesizer) -> None:
    cache = TtsCache(tmp_path, espeak)
    paths = await asyncio.gather(
        cache.synthesize("Your balance is 1234 dollars and 56 cents.", "en"),
        cache.synthesize("Your order has shipped.", "en"),
    )
    for path in paths:
        info = inspect_wav(path)
        assert info.playable_by_asterisk
        assert info.rms > 300


async def test_spoken_customer_data_is_not_readable_by_others(tmp_path: Path) -> None:
    """The cache holds balances and order numbers as speech: others cannot list or open it, also when an
    older version left the cache folder world-readable."""
    cache_dir = tmp_path / "tts"
    (cache_dir / "en").mkdir(parents=True, mode=0o755)
    (cache_dir / "en").chmod(0o755)
    cache_dir.chmod(0o755)
    path = await TtsCache(cache_dir, FakeSynthesizer()).synthesize("Your balance is 1234 dollars.", "en")
    assert path.parent == (cache_dir / "en").resolve()
    for folder in (cache_dir, cache_dir / "en"):
        assert folder.stat().st_mode & 0o777 == CACHE_DIR_MODE == 0o750, oct(folder.stat().st_mode)
    fresh = await TtsCache(tmp_path / "new", FakeSynthesizer()).synthesize("Order 77.", "zh")
    assert fresh.parent.stat().st_mode & 0o007 == 0
