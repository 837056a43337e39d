"""Artist and label keys: one key per artist whatever the spelling."""

import pytest

from musicwb.text import artist_key, artist_members, label_key


@pytest.mark.parametrize(
    ("credit", "key"),
    [
        ("Âme & Dixon", "ame & dixon"),
        ("AME and dixon", "ame & dixon"),
        ("Ame x Dixon", "ame & dixon"),
        ("Ame vs. Dixon", "ame & dixon"),
        ("Roman Flügel", "roman flugel"),
        ("Emptyset Feat. Cornelius Harris", "emptyset"),
        ("DJ Hyperactive ft. Somebody", "dj hyperactive"),
        ("Ø [Phase]", "o phase"),
        ("  Ben   KLOCK ", "ben klock"),
        ("ID", None),
        ("?", None),
        (None, None),
    ],
)
def test_artist_key_folds_spellings(credit, key):
    assert artist_key(credit) == key


def test_members_split_collaborations_and_drop_featuring():
    assert artist_members("Ben Klock & Marcel Dettmann feat. X") == ("ben klock", "marcel dettmann")
    assert artist_members("Xhin, Truncate and Sigha") == ("xhin", "truncate", "sigha")


def test_label_key_drops_records_suffix_and_case():
    assert label_key("Ostgut Ton Records") == label_key("OSTGUT TON") == "ostgut ton"
    assert label_key(None) is None
