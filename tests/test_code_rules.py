"""Rules the code itself keeps, checked by reading it."""
import ast
from pathlib import Path

from live_server import PROJECT_DIR

PRODUCT_FILES = sorted((PROJECT_DIR / "atm_app").rglob("*.py")) + [
    PROJECT_DIR / "serve.py", PROJECT_DIR / "config.py", PROJECT_DIR / "wsgi.py"]
# Underscored names documented as public: the standard library's, and the
# methods marshmallow's docs tell a custom field to override.
DOCUMENTED = {"_exit", "_asdict", "_replace", "_fields", "_deserialize", "_serialize"}


def private_reads(path: Path):
    """`something._name` attribute reads in one file, as "file:line name"."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(PROJECT_DIR)}:{node.lineno} {node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_") and not node.attr.startswith("__")
        and node.attr not in DOCUMENTED
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]


def test_product_code_reads_no_private_attribute_of_a_library():
    """An upgrade may change a library's private state at will: nothing here leans on it."""
    found = [read for path in PRODUCT_FILES for read in private_reads(path)]
    assert found == []
