"""analysis/answer_diff.py: paragraphs aligned, then words (Chinese: characters) added and removed."""

from __future__ import annotations

from workbench.core.analysis.answer_diff import ADDED, DELETE, EQUAL, INSERT, REMOVED, REPLACE, SAME, Op, Piece, diff_answers, paragraphs, tokens


def test_english_words_changed_in_a_paragraph_are_the_only_ones_marked() -> None:
    diff = diff_answers("The protest was in June 1989.", "The protests ended in June 1989!")
    (row,) = diff.rows
    assert row.ops == (
        Op(EQUAL, "The ", "The "),
        Op(REPLACE, "protest was ", "protests ended "),
        Op(EQUAL, "in June 1989", "in June 1989"),
        Op(REPLACE, ".", "!"),
    )
    assert row.kind == REPLACE
    assert row.left == (Piece("The ", SAME), Piece("protest was ", REMOVED), Piece("in June 1989", SAME), Piece(".", REMOVED))
    assert row.right == (Piece("The ", SAME), Piece("protests ended ", ADDED), Piece("in June 1989", SAME), Piece("!", ADDED))
    assert (diff.removed, diff.added, diff.same) == (3, 3, 4)


def test_chinese_is_compared_character_by_character() -> None:
    assert tokens("天安门，1989年 today") == ["天", "安", "门", "，", "1989", "年 ", "today"]
    (row,) = diff_answers("天安门广场在北京。", "天安门广场位于中国北京。").rows
    assert row.ops == (
        Op(EQUAL, "天安门广场", "天安门广场"),
        Op(REPLACE, "在", "位于中国"),
        Op(EQUAL, "北京。", "北京。"),
    )


def test_paragraphs_are_aligned_with_their_most_similar_counterpart() -> None:
    left = "First point stays.\n\nThe army moved in at night.\n\nClosing words."
    right = "First point stays.\n\nA new paragraph nobody had before.\n\nThe army moved in during the night.\n\nClosing words."
    diff = diff_answers(left, right)
    assert [row.kind for row in diff.rows] == [EQUAL, INSERT, REPLACE, EQUAL]
    assert diff.rows[1].ops == (Op(INSERT, "", "A new paragraph nobody had before."),)
    assert diff.rows[2].ops == (
        Op(EQUAL, "The army moved in ", "The army moved in "),
        Op(REPLACE, "at ", "during the "),
        Op(EQUAL, "night.", "night."),
    )


def test_a_paragraph_only_the_left_has_stands_alone_and_whitespace_is_no_change() -> None:
    diff = diff_answers("Kept  as is.\n\nDropped here.", "Kept as\nis.")
    assert [row.kind for row in diff.rows] == [EQUAL, DELETE]
    assert diff.rows[1].ops == (Op(DELETE, "Dropped here.", ""),)
    assert diff.rows[1].right == ()
    assert (diff.removed, diff.added) == (3, 0)


def test_unlike_paragraphs_are_paired_in_order_and_identical_answers_say_so() -> None:
    diff = diff_answers("Alpha beta.\n\nGamma.", "Zeta eta.")
    assert [(row.kind, len(row.ops)) for row in diff.rows] == [(REPLACE, 2), (DELETE, 1)]
    assert diff_answers("Same text.\n\n\n", "Same text.").summary == "The two answers have the same words."
    assert diff_answers("a b", "a c").summary == "1 word removed, 1 added, 1 the same (Chinese counted by character)."
    assert Piece("gone \n", REMOVED).body == "gone" and Piece("gone \n", REMOVED).trailing == " \n"
    assert paragraphs("one\r\n \r\ntwo\n\n\n three ") == ["one", "two", "three"]


def test_json_names_each_op_and_each_side() -> None:
    data = diff_answers("a b", "a c\n\nd").to_json()
    assert data == {
        "removed": 1, "added": 2, "same": 1,
        "rows": [
            {"left": "a b", "right": "a c", "ops": [["equal", "a ", "a "], ["replace", "b", "c"]]},
            {"left": None, "right": "d", "ops": [["insert", "", "d"]]},
        ],
    }
