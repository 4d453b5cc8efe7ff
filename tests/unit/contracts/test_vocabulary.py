"""FreeText never carries a personnummer, and the contracts stay free of the kit's I/O."""

import ast
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

import contracts.vocabulary
import eventkit.personnummer
from contracts.vocabulary import FreeText


class Note(BaseModel):
    text: FreeText


@pytest.mark.parametrize("text", ["Möte med 19811218-9876 på torget", "811218+9876", "８１１２１８－９８７６"])
def test_free_text_holding_a_personnummer_is_refused_naming_the_field_not_the_value(text):
    with pytest.raises(ValidationError) as refused:
        Note(text=text)
    [error] = refused.value.errors(include_input=False)
    assert (error["type"], error["loc"]) == ("personnummer_in_text", ("text",))
    assert "9876" not in error["msg"] and "９８７６" not in error["msg"]


@pytest.mark.parametrize("text", ["Stortorget", "ring 070-123 45 67", "flyttade 2024-05-12", "811218-9875"])
def test_other_free_text_is_kept_as_written(text):
    assert Note(text=f"  {text} ").text == text


def _imports(module) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module)
    return found


def test_the_vocabulary_and_its_detector_import_nothing_that_does_io():
    assert _imports(contracts.vocabulary) <= {"__future__", "enum", "typing", "pydantic", "pydantic_core",
                                              "eventkit.personnummer", "eventkit.sealing"}
    assert _imports(eventkit.personnummer) <= {"__future__", "re", "unicodedata"}
