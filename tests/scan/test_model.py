from __future__ import annotations

from tagbot.scan.model import NOWHERE, Piece, between, sliced


def test_a_piece_that_stands_nowhere_stands_nowhere_however_it_is_cut():
    pieces = (between("registry.example.com/app:"), Piece(40, "1.2"), between("-alpine"))
    assert sliced(pieces, 3, 31) == (Piece(NOWHERE, "istry.example.com/app:"), Piece(40, "1.2"), Piece(NOWHERE, "-al"))
    assert sliced((between("golang:"),), 2, 5) == (Piece(NOWHERE, "lan"),)
    assert sliced((Piece(10, "golang:"),), 2, 5) == (Piece(12, "lan"),)
