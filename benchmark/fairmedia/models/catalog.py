"""Architecture names read from the ``@register_arch("name", ...)`` decorators without importing
the model modules (which import torch and MONAI): enough for checking a workflow config."""

from __future__ import annotations

import ast
from functools import cache

from fairmedia.discovery import plugin_files


@cache
def arch_names() -> list[str]:
    names = []
    for path in plugin_files("fairmedia.models"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for dec in node.decorator_list:
                    if (isinstance(dec, ast.Call) and getattr(dec.func, "id", "") == "register_arch"
                            and dec.args and isinstance(dec.args[0], ast.Constant)):
                        names.append(dec.args[0].value)
    return sorted(names)
