"""How report tables read in a browser: whole dates and ids, long tables cut with a sentence
(issue 16)."""

from __future__ import annotations

import pandas as pd

from musicwb.notebook.tables import table_html


def test_a_date_or_an_id_never_breaks_after_its_hyphen_but_text_wraps_at_spaces() -> None:
    frame = pd.DataFrame({"set": ["Marta Ostrowska, 2025-11-17 @ Werk 2, Zurich"],
                          "set_id": ["demo-marta-ostrowska-1"]})
    html = table_html(frame)
    assert '<span class="whole">2025-11-17</span>' in html
    assert '<span class="whole">demo-marta-ostrowska-1</span>' in html
    assert "Marta Ostrowska, " in html  # the words around still wrap
    long_path = "library/Atlas_Drift/Hollow_Orbit/01-Lunar-Atlas-extended-mix.flac"
    assert "whole" not in table_html(pd.DataFrame({"path": [long_path]})).split("</style>")[1]


def test_a_long_table_shows_the_rows_it_is_asked_for_and_says_how_many_there_are() -> None:
    frame = pd.DataFrame({"set": [f"set {i}" for i in range(99)], "entries": range(99)})
    frame.attrs["max_rows"] = 40
    html = table_html(frame)
    assert html.count("<tr>") == 41  # the header and 40 rows
    assert "The first 40 of 99 rows." in html


def test_short_text_and_figures_never_wrap() -> None:
    html = table_html(pd.DataFrame({"goal": ["≥ 0.55"], "verdict": ["not applicable"]}))
    assert '<td class="num">≥ 0.55</td>' in html and "td.num{white-space:nowrap}" in html
    assert '<td class="whole">not applicable</td>' in html


def test_figures_written_as_text_line_up_as_numbers() -> None:
    frame = pd.DataFrame({"target": ["top-1", "top-1 against the strongest baseline"],
                          "goal": ["≥ 0.1", "≥ 1.25"], "value": ["0.447", "1.71×"],
                          "share": ["44.7%", "—"], "when": ["2024-01-10", "2025-03-01"]})
    head = table_html(frame).split("<tbody>")[0]
    assert '<th class="text">target</th>' in head and '<th class="text">when</th>' in head
    for column in ("goal", "value", "share"):
        assert f'<th class="num">{column}</th>' in head
