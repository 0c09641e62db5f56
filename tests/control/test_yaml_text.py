import pytest
import yaml

from bassd.control import yaml_text
from bassd.control.yaml_text import load_yaml


def test_loads_plain_data_and_an_empty_document_is_none() -> None:
    """Mappings, lists and scalars come back as Python data; an empty text is None."""
    assert load_yaml("a: 1\nb: [x, 2.5]\nc: true\n") == {"a": 1, "b": ["x", 2.5], "c": True}
    assert load_yaml("") is None


def test_uses_libyaml_where_pyyaml_has_it() -> None:
    """The C parser is the one used when PyYAML was built with libyaml (the CI's is)."""
    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML has no libyaml")
    assert yaml_text._LOADER is yaml.CSafeLoader


def test_refuses_python_objects_and_marks_a_syntax_error() -> None:
    """The loader is a safe one (no python/object tags), and a syntax error carries the line
    it is on, which the config's error message names."""
    with pytest.raises(yaml.YAMLError):
        load_yaml("!!python/object/apply:os.system ['true']")
    with pytest.raises(yaml.YAMLError) as err:
        load_yaml("a: 1\nb: [unclosed\n")
    assert err.value.problem_mark is not None and err.value.problem_mark.line >= 1
