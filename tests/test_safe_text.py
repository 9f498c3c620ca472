from gpt2_adventure.safe_text import printable


def test_escape_sequences_and_controls_become_visible() -> None:
    assert printable("a\x1b[31mred\x07") == "a\\x1b[31mred\\x07"
    assert printable("\x9b2J") == "\\x9b2J"
    assert printable("x\ry") == "x\\x0dy"


def test_bidi_overrides_are_shown_not_obeyed() -> None:
    assert printable("abc\u202edcba") == "abc\\u202edcba"


def test_ordinary_text_newlines_tabs_and_unicode_are_untouched() -> None:
    text = "Le dragon s'éveille.\n\t🐉 [bold]not markup[/bold]"
    assert printable(text) == text


def test_is_terminal_asks_any_object() -> None:
    import io

    from gpt2_adventure.safe_text import is_terminal

    class Tty:
        def isatty(self) -> bool:
            return True

    closed = io.StringIO()
    closed.close()
    assert is_terminal(Tty())
    assert not is_terminal(io.StringIO()) and not is_terminal(None) and not is_terminal(closed)
    assert not is_terminal(object())
