"""Whether the window can open, decided without starting Qt (which would abort)."""

from __future__ import annotations

import pytest

from workbench.cli.display import find_display, missing_packages, qt_platform, x_server_problem

DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in DISPLAY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_missing_library_is_named_by_its_package() -> None:
    libraries = {"libc.so.6": "libc6", "libworkbench-absent.so.9": "libworkbench-absent9"}
    assert missing_packages(libraries) == ["libworkbench-absent9"]


@pytest.mark.parametrize(
    ("variables", "platform"),
    [
        ({}, None),
        ({"DISPLAY": ":0"}, "xcb"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "xcb"),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "wayland"),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
        ({"QT_QPA_PLATFORM": "xcb:nograb;wayland"}, "xcb"),
    ],
)
def test_the_platform_is_the_one_qt_will_pick(bare_environment: pytest.MonkeyPatch, variables: dict[str, str], platform: str | None) -> None:
    for name, value in variables.items():
        bare_environment.setenv(name, value)
    assert qt_platform() == platform


def test_without_a_display_the_reason_says_so(bare_environment: pytest.MonkeyPatch) -> None:
    display = find_display()
    assert not display.usable and display.problem is not None and display.problem.startswith("No display found")


def test_an_x_display_nobody_serves_is_named(bare_environment: pytest.MonkeyPatch) -> None:
    if missing_packages({"libxcb.so.1": "libxcb1"}):
        pytest.skip("libxcb itself is missing here; the library test covers this machine")
    assert x_server_problem(":987") == "the X display ':987' (DISPLAY) does not answer"


def test_an_offscreen_platform_needs_no_check(bare_environment: pytest.MonkeyPatch) -> None:
    bare_environment.setenv("QT_QPA_PLATFORM", "offscreen")
    assert find_display().usable
