from poetcore.text.chars import is_han, split_lines, to_simplified, to_traditional


def test_is_han_accepts_ideographs_only() -> None:
    assert all(is_han(c) for c in "东東𠀋㐀")
    assert not any(is_han(c) for c in "a1，。 ア")
    assert not is_han("东风")
    assert not is_han("")


def test_simplified_and_traditional_round_trip() -> None:
    assert to_simplified("風急天高猿嘯哀") == "风急天高猿啸哀"
    assert to_traditional("风急天高猿啸哀") == "風急天高猿嘯哀"
    # Simplification merges characters; that is why the rhyme table merges their readings.
    assert to_simplified("後") == to_simplified("后") == "后"
    assert to_simplified("髮") == to_simplified("發") == "发"


def test_split_lines_full_half_width_and_newlines() -> None:
    expected = ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]
    assert split_lines("床前明月光，疑是地上霜。举头望明月，低头思故乡。") == expected
    assert split_lines("床前明月光,疑是地上霜.举头望明月;低头思故乡!") == expected
    assert split_lines("  床前明月光\n疑是地上霜\r\n\n举头望明月\u3000低头思故乡\n") == expected
    assert split_lines("“床前明月光，疑是地上霜。”") == expected[:2]


def test_split_lines_keeps_foreign_text_visible() -> None:
    # Non-Han text stays in its line so the checker can name it instead of silently dropping it.
    assert split_lines("床前明月光 hello") == ["床前明月光", "hello"]
    assert split_lines("，。\n") == []
